"""The settings file: what it may say, how a bad one is reported, and that flags win."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_cli import one_error_line

from orgtree_tui import locations
from orgtree_tui.cli import parse_args
from orgtree_tui.crawl.engine import DEFAULT_WORKERS
from orgtree_tui.locations import CACHE_DIR_ENV, SETTINGS_FILE_ENV, settings_file
from orgtree_tui.main import main
from orgtree_tui.settings import (
    SUGGESTED_THEMES,
    THEMES,
    Settings,
    SettingsError,
    format_duration,
    load_settings,
    parse_duration,
)

from pinned import mismatch


@pytest.fixture
def settings_toml() -> Path:
    """The file ORGTREE_TUI_CONFIG points at (conftest makes it, empty, in a temporary dir)."""
    return settings_file()


@pytest.fixture
def default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No ORGTREE_TUI_CONFIG: the platform's config dir, moved under tmp_path."""
    monkeypatch.delenv(SETTINGS_FILE_ENV)
    monkeypatch.setattr(
        locations.platformdirs, "user_config_dir", lambda app: str(tmp_path / "config" / app)
    )
    path = settings_file()
    assert path == tmp_path / "config" / "orgtree-tui" / "settings.toml"
    return path


def test_no_file_at_the_default_location_means_defaults(
    default_location: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not default_location.exists()
    assert load_settings() == Settings()
    options = parse_args([])
    assert options.workers == DEFAULT_WORKERS
    assert options.profiles == () and options.profile is None
    assert options.cache_ttl is None and options.theme is None and options.export_dir is None
    assert main(["--print-settings"]) == 0
    assert capsys.readouterr().out.startswith(f"# {default_location} (no such file: all defaults)")
    assert not default_location.parent.exists()  # reading creates nothing


def test_an_empty_file_means_defaults(settings_toml: Path) -> None:
    assert settings_toml.read_bytes() == b""
    assert load_settings() == Settings(path=settings_toml)
    assert parse_args([]).workers == DEFAULT_WORKERS


def test_a_blank_variable_means_the_default_location(
    default_location: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTINGS_FILE_ENV, "  ")
    assert settings_file() == default_location
    assert load_settings() == Settings()


@pytest.mark.parametrize("argv", [["export", "--demo"], [], ["--print-settings"]])
def test_a_missing_file_named_by_the_variable_is_an_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "typo" / "setings.toml"
    monkeypatch.setenv(SETTINGS_FILE_ENV, str(missing))
    says = f"ORGTREE_TUI_CONFIG names {missing}, which does not exist"
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == says
    assert main(argv) == 2
    assert one_error_line(capsys) == f"orgtree-tui: error: {says}"
    assert not missing.parent.exists()


def test_every_setting(settings_toml: Path) -> None:
    settings_toml.write_text(
        'profile = "org-admin"\nworkers = 4\nexport_dir = "~/exports"\n'
        'theme = "nord"\ncache_ttl = "15m"\n'
    )
    settings = load_settings()
    assert settings == Settings(
        profiles=("org-admin",),
        workers=4,
        export_dir=Path("~/exports").expanduser(),
        theme="nord",
        cache_ttl=timedelta(minutes=15),
        path=settings_toml,
    )
    options = parse_args(["export"])
    assert options.profile == "org-admin" and options.profiles == ("org-admin",)
    assert options.workers == 4
    assert options.cache_ttl == timedelta(minutes=15)
    assert options.theme == "nord"
    assert options.export_dir == Path(os.path.expanduser("~/exports"))


def test_several_profiles_and_a_ttl_without_unit(settings_toml: Path) -> None:
    settings_toml.write_text('profile = ["org-a", "org-b"]\ncache_ttl = "90"\n')
    options = parse_args([])
    assert options.profiles == ("org-a", "org-b")
    assert options.cache_ttl == timedelta(seconds=90)


def test_flags_win_over_the_file_and_aws_profile_wins_over_its_profile(
    settings_toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_toml.write_text('profile = "from-file"\nworkers = 4\ncache_ttl = "1h"\n')
    options = parse_args(["--profile", "from-flag", "--workers", "16", "--cache-ttl", "5m"])
    assert options.profiles == ("from-flag",)
    assert options.workers == 16
    assert options.cache_ttl == timedelta(minutes=5)
    monkeypatch.setenv("AWS_PROFILE", "from-env")
    # No profile of ours: boto3 then reads AWS_PROFILE itself.
    assert parse_args([]).profiles == ()
    assert parse_args(["--demo"]).profiles == ()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("workers = 8\nworkres = 2\n", "unknown setting 'workres'"),
        ('workers = "many"\n', "workers: expected a whole number"),
        ("workers = true\n", "workers: expected a whole number"),
        ("workers = 0\n", "workers: must be between 1 and 64"),
        ("profile = 3\n", "profile: expected a profile name"),
        ('profile = ["a", "a"]\n', "profile: a profile is listed twice"),
        ('profile = ""\n', "profile: expected a profile name"),
        ('profile = " "\n', "profile: expected a profile name"),
        ("profile = []\n", "profile: an empty list names no profile"),
        ('profile = ["a", ""]\n', "profile: expected a profile name"),
        ('profile = ["a", 1]\n', "profile: expected a profile name"),
        ("theme = 1\n", "theme: expected a theme name"),
        ('theme = "nrod"\n', "theme: 'nrod' is not a Textual theme (try: nord, "),
        ('theme = "Nord"\n', "theme: 'Nord' is not a Textual theme (try: nord, "),
        ('theme = "no-such"\n', "theme: 'no-such' is not a Textual theme (try: "),
        ("export_dir = []\n", "export_dir: expected a directory path"),
        ('cache_ttl = "soon"\n', "cache_ttl: expected a duration"),
        ("cache_ttl = 15\n", 'cache_ttl: expected a duration in quotes, e.g. "15m"'),
        ("cache_ttl = 1.5\n", 'cache_ttl: expected a duration in quotes, e.g. "15m"'),
        ("cache_ttl = true\n", 'cache_ttl: expected a duration in quotes, e.g. "15m"'),
        ("cache_ttl = []\n", 'cache_ttl: expected a duration in quotes, e.g. "15m"'),
        ('cache_ttl = "-5m"\n', "cache_ttl: a duration must be"),
        ('cache_ttl = "1e20"\n', "cache_ttl: a duration must be under"),
        ("workers = \n", "not valid TOML"),
        ("[profile\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_one_line_naming_the_file_and_exit_2(
    settings_toml: Path, content: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_toml.write_text(content)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert says in str(info.value)
    assert "\n" not in str(info.value)
    assert main(["export", "--demo"]) == 2
    line = one_error_line(capsys)
    assert str(settings_toml) in line and says in line


def test_unreadable_or_binary_settings(settings_toml: Path) -> None:
    settings_toml.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SettingsError, match="not UTF-8"):
        load_settings()
    settings_toml.unlink()
    settings_toml.mkdir()
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings()


def test_print_settings_shows_the_file_as_toml_that_reads_back(
    settings_toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--print-settings"]) == 0
    assert capsys.readouterr().out.startswith(f"# {settings_toml}\n")
    settings_toml.write_text(
        'profile = ["a", "b"]\nworkers = 3\nexport_dir = "/tmp/x"\ntheme = "nord"\n'
        'cache_ttl = "2h"\n'
    )
    assert main(["--print-settings"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"# {settings_toml}\n")
    settings_toml.write_text(out)
    assert load_settings() == Settings(
        profiles=("a", "b"),
        workers=3,
        export_dir=Path("/tmp/x"),
        theme="nord",
        cache_ttl=timedelta(hours=2),
        path=settings_toml,
    )
    assert tomllib.loads(out)["workers"] == 3


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("15m", "15m"),
        ("90s", "90s"),
        ("90", "90s"),
        ("2h", "2h"),
        ("1d", "1d"),
        ("0.5h", "30m"),
        ("5400", "90m"),
        ("0", "0s"),
        ("1.25s", "1.25s"),
    ],
)
def test_print_settings_writes_cache_ttl_as_a_user_would(
    settings_toml: Path, written: str, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_toml.write_text(f'cache_ttl = "{written}"\n')
    assert main(["--print-settings"]) == 0
    assert f'cache_ttl = "{printed}"\n' in capsys.readouterr().out


@given(
    st.timedeltas(min_value=timedelta(0)).map(
        lambda d: timedelta(seconds=d // timedelta(seconds=1))
    )
)
def test_a_formatted_duration_reads_back(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10_000)))
def test_a_formatted_duration_with_fractions_reads_back_for_sane_lengths(
    duration: timedelta,
) -> None:
    assert parse_duration(format_duration(duration)) == duration


def test_print_settings_names_the_cache_directory_without_creating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert main(["--print-settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == f"# cache directory: {tmp_path / 'elsewhere'}"
    assert not (tmp_path / "elsewhere").exists()


def test_the_theme_names_are_textuals_builtin_themes() -> None:
    # settings.py keeps its own copy so that reading the settings never imports Textual.
    # Older supported Textuals name their themes a little differently (the app then lists
    # the ones it has); the pinned one has exactly these, and every one has those we suggest.
    from textual.theme import BUILTIN_THEMES

    assert set(SUGGESTED_THEMES) <= set(BUILTIN_THEMES)
    if mismatch("textual") is None:
        assert tuple(sorted(BUILTIN_THEMES)) == THEMES


@pytest.mark.parametrize("theme", THEMES)
def test_every_builtin_theme_is_accepted(settings_toml: Path, theme: str) -> None:
    settings_toml.write_text(f'theme = "{theme}"\n')
    assert load_settings().theme == theme
