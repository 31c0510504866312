"""The settings file: a few defaults in TOML, at `locations.settings_file()`.

    profile = "org-admin"        # or a list: ["org-a", "org-b"] for several organizations
    workers = 8                  # 1 to 64
    export_dir = "~/exports"     # where the TUI's export dialog suggests writing
    theme = "nord"               # one of Textual's built-in themes
    cache_ttl = "15m"            # trust a cached tree this young (90s, 15m, 2h, 1d)

A missing file at the default location means all defaults; one that ORGTREE_TUI_CONFIG names
must exist. Anything else wrong (bad TOML, an unknown key, a wrong type such as
`cache_ttl = 15` without quotes and unit, an empty profile list) is a SettingsError whose
message is one line naming the file. Command-line flags and AWS_PROFILE win over the file.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from orgtree_tui.locations import SETTINGS_FILE_ENV, settings_file, settings_file_override

MAX_WORKERS = 64
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION_DAYS = timedelta.max.days + 1
# Textual's built-in theme names (the keys of textual.theme.BUILTIN_THEMES), copied so that
# reading the settings never imports Textual. tests/test_settings.py fails if they drift.
THEMES = (
    "ansi-dark",
    "ansi-light",
    "atom-one-dark",
    "atom-one-light",
    "catppuccin-frappe",
    "catppuccin-latte",
    "catppuccin-macchiato",
    "catppuccin-mocha",
    "dracula",
    "flexoki",
    "gruvbox",
    "monokai",
    "nord",
    "rose-pine",
    "rose-pine-dawn",
    "rose-pine-moon",
    "solarized-dark",
    "solarized-light",
    "textual-dark",
    "textual-light",
    "tokyo-night",
)
# Offered after the near misses when a theme name is unknown.
SUGGESTED_THEMES = ("nord", "gruvbox", "dracula", "tokyo-night", "textual-dark")


class SettingsError(ValueError):
    """The settings file is unusable; str() is one line naming the file and the problem."""


@dataclass(frozen=True, slots=True)
class Settings:
    profiles: tuple[str, ...] = ()
    workers: int | None = None
    export_dir: Path | None = None
    theme: str | None = None
    cache_ttl: timedelta | None = None
    path: Path | None = None  # the file these came from; None when there was none


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `2h` or `1d`. Raises ValueError with a readable message."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in DURATION_UNITS else (text, "s")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"expected a duration like 90s, 15m, 2h or 1d, got {text!r}") from None
    if value < 0 or value != value or value == float("inf"):
        raise ValueError(f"a duration must be a finite, non-negative time, got {text!r}")
    try:
        return timedelta(seconds=value * DURATION_UNITS[unit])
    except OverflowError:
        raise ValueError(
            f"a duration must be under {MAX_DURATION_DAYS} days, got {text!r}"
        ) from None


def format_duration(duration: timedelta) -> str:
    """A duration the way a user writes it (`15m`, `90s`, `2h`, `1d`): the largest unit that
    divides it whole. `parse_duration` reads it back; fractions of a second, which only a
    file can ask for, are written as exact decimal seconds."""
    if duration < timedelta(0):
        raise ValueError(f"a duration must be non-negative, got {duration}")
    micros = duration // timedelta(microseconds=1)
    for unit, seconds in sorted(DURATION_UNITS.items(), key=lambda item: -item[1]):
        count, rest = divmod(micros, seconds * 1_000_000)
        if count and not rest:
            return f"{count}{unit}"
    whole, fraction = divmod(micros, 1_000_000)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".") + "s"


def check_workers(value: object) -> int:
    # bool is an int to Python but never what someone meant by `workers = true`.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if not 1 <= value <= MAX_WORKERS:
        raise ValueError(f"must be between 1 and {MAX_WORKERS}, got {value}")
    return value


def load_settings(path: Path | None = None) -> Settings:
    """Read the settings file (default: `settings_file()`). Raises SettingsError."""
    named = path is None and settings_file_override() is not None
    path = path or settings_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        # Someone who sets the variable means that file: a typo must not mean defaults.
        if named:
            raise SettingsError(f"{SETTINGS_FILE_ENV} names {path}, which does not exist") from None
        return Settings()
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    return _parse(data, path)


def render_settings(settings: Settings, default_path: Path, cache_directory: Path) -> str:
    """The settings as TOML, headed by the file they came from and the cache directory in
    use (for --print-settings)."""
    path = settings.path or default_path
    lines = [
        f"# {path}" + ("" if settings.path else " (no such file: all defaults)"),
        f"# cache directory: {cache_directory}",
    ]
    if settings.profiles:
        lines.append(f"profile = {json.dumps(list(settings.profiles))}")
    if settings.workers is not None:
        lines.append(f"workers = {settings.workers}")
    if settings.export_dir is not None:
        lines.append(f"export_dir = {json.dumps(str(settings.export_dir))}")
    if settings.theme is not None:
        lines.append(f"theme = {json.dumps(settings.theme)}")
    if settings.cache_ttl is not None:
        lines.append(f"cache_ttl = {json.dumps(format_duration(settings.cache_ttl))}")
    return "\n".join(lines) + "\n"


def _parse(data: dict[str, Any], path: Path) -> Settings:
    values: dict[str, Any] = {}
    for key, value in data.items():
        check = _CHECKS.get(key)
        if check is None:
            known = ", ".join(sorted(_CHECKS))
            raise SettingsError(f"{path}: unknown setting {key!r} (known: {known})")
        try:
            name, checked = check(value)
        except ValueError as exc:
            raise SettingsError(f"{path}: {key}: {exc}") from None
        values[name] = checked
    return Settings(**values, path=path)


def _profile(value: object) -> tuple[str, Any]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(p, str) and p.strip() for p in items):
        raise ValueError(f"expected a profile name or a list of them, got {value!r}")
    if not items:
        # Not "the default chain": someone who wrote the key meant to name a profile.
        raise ValueError("an empty list names no profile (leave the key out for the default)")
    if len(set(items)) != len(items):
        raise ValueError("a profile is listed twice")
    return "profiles", tuple(items)


def _workers(value: object) -> tuple[str, Any]:
    return "workers", check_workers(value)


def _export_dir(value: object) -> tuple[str, Any]:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a directory path, got {value!r}")
    return "export_dir", Path(value).expanduser()


def _theme(value: object) -> tuple[str, Any]:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a theme name, got {value!r}")
    if value not in THEMES:
        near = difflib.get_close_matches(value, THEMES, n=3)
        offered = list(dict.fromkeys([*near, *SUGGESTED_THEMES]))[:5]
        raise ValueError(f"{value!r} is not a Textual theme (try: {', '.join(offered)}, ...)")
    return "theme", value


def _cache_ttl(value: object) -> tuple[str, Any]:
    # A bare number has no unit: `15` may well mean 15 minutes, so it is not taken as seconds.
    if not isinstance(value, str):
        raise ValueError(
            f'expected a duration in quotes, e.g. "15m" (or 90s, 2h, 1d), got {value!r}'
        )
    return "cache_ttl", parse_duration(value)


_CHECKS: dict[str, Callable[[object], tuple[str, Any]]] = {
    "profile": _profile,
    "workers": _workers,
    "export_dir": _export_dir,
    "theme": _theme,
    "cache_ttl": _cache_ttl,
}
