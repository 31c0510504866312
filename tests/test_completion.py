"""`orgtree-tui completion SHELL`: the scripts run in the real shells against a temporary
AWS config; what they offer is checked against argparse's own view of the parser and
profile names written out here."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from orgtree_tui.arguments import build_parser
from orgtree_tui.completion import script
from orgtree_tui.export import FORMATS
from orgtree_tui.main import main

CONFIG = """\
[default]
region = eu-west-1
[profile dev]
sso_session = corp
[ profile  prod-admin ]
[sso-session corp]
sso_region = eu-west-1
[services local]
"""
CREDENTIALS = "[ci]\naws_access_key_id = x\n"
PROFILES = {"default", "dev", "prod-admin", "ci"}  # not the sso-session, not the services


def subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(action.choices)


def export_options(prefix: str) -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {o for o in action.choices["export"]._option_string_actions if o.startswith(prefix)}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    aws = tmp_path / "home" / ".aws"
    aws.mkdir(parents=True)
    (aws / "config").write_text(CONFIG)
    (aws / "credentials").write_text(CREDENTIALS)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "filtered.json").write_text("{}")
    (tmp_path / "work" / "other.txt").write_text("")
    return tmp_path


def run(shell: list[str], program: str, home: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [*shell, program],
        capture_output=True,
        text=True,
        cwd=home / "work",
        env={"HOME": str(home / "home"), "PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


BASH_DRIVER = """
source {script}
complete_line() {{
    COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); COMPREPLY=()
    _orgtree_tui 2>/dev/null
    printf '%s\\n' "${{COMPREPLY[@]}}"; echo "--"
}}
"""


def bash_complete(
    home: Path, *lines: list[str], env: dict[str, str] | None = None
) -> list[set[str]]:
    path = home / "c.bash"
    path.write_text(script(build_parser(), "bash"))
    calls = "".join("complete_line " + " ".join(f"'{w}'" for w in words) + "\n" for words in lines)
    out = run(
        ["bash", "--norc", "--noprofile", "-c"], BASH_DRIVER.format(script=path) + calls, home, env
    )
    return [set(filter(None, chunk.split("\n"))) for chunk in out.split("--\n")[:-1]]


def test_bash_completes_commands_options_values_and_profiles(home: Path) -> None:
    got = bash_complete(
        home,
        ["orgtree-tui", ""],
        ["orgtree-tui", "--prof"],
        ["orgtree-tui", "--profile", ""],
        ["orgtree-tui", "--profile", "p"],
        ["orgtree-tui", "--profile", "dev", "export", "--ty"],  # a value is not the command
        ["orgtree-tui", "export", "--"],
        ["orgtree-tui", "export", "--format", ""],
        ["orgtree-tui", "export", "--type", ""],
        ["orgtree-tui", "export", "--profile", ""],
        ["orgtree-tui", "export", "-o", "fi"],
        ["orgtree-tui", "export", "--match", ""],  # free text: nothing offered
        ["orgtree-tui", "completion", ""],
    )
    assert got == [
        subcommands(),
        {"--profile"},
        PROFILES,
        {"prod-admin"},
        {"--type"},
        export_options("--"),
        set(FORMATS),
        {"account", "ou"},
        PROFILES,
        {"filtered.json"},
        set(),
        {"bash", "zsh", "fish"},
    ]
    assert {"export", "completion"} <= subcommands()


def test_bash_reads_aws_config_file(home: Path) -> None:
    other = home / "elsewhere.ini"
    other.write_text("[profile only-here]\n")
    missing = str(home / "none")
    env = {"AWS_CONFIG_FILE": str(other), "AWS_SHARED_CREDENTIALS_FILE": missing}
    assert bash_complete(home, ["orgtree-tui", "--profile", ""], env=env) == [{"only-here"}]
    env = {"AWS_CONFIG_FILE": missing, "AWS_SHARED_CREDENTIALS_FILE": missing}
    assert bash_complete(home, ["orgtree-tui", "--profile", ""], env=env) == [set()]


ZSH_DRIVER = """
compdef() {{ : }}
compadd() {{ [[ "$1" == -- ]] && shift; printf '%s\\n' "$@" }}
_files() {{ print -l -- ${{cur}}*(N) }}
source {script}
complete_line() {{
    local -a words; words=("$@"); local CURRENT=${{#words}}
    _orgtree_tui; echo "--"
}}
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_the_same(home: Path) -> None:
    path = home / "c.zsh"
    path.write_text(script(build_parser(), "zsh"))
    lines = [
        ["orgtree-tui", ""],
        ["orgtree-tui", "--profile", "p"],
        ["orgtree-tui", "--profile", "dev", "export", "--ty"],
        ["orgtree-tui", "export", "--format", ""],
        ["orgtree-tui", "export", "-o", "fi"],
        ["orgtree-tui", "completion", ""],
    ]
    calls = "".join("complete_line " + " ".join(f"'{w}'" for w in ws) + "\n" for ws in lines)
    out = run(["zsh", "-f", "-c"], ZSH_DRIVER.format(script=path) + calls, home)
    got = [
        {w for w in chunk.split("\n") if w and w.startswith(cur)}
        for chunk, cur in zip(out.split("--\n")[:-1], [ws[-1] for ws in lines], strict=True)
    ]
    assert got == [
        subcommands(),
        {"prod-admin"},
        {"--type"},
        set(FORMATS),
        {"filtered.json"},
        {"bash", "zsh", "fish"},
    ]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_the_same(home: Path) -> None:
    path = home / "c.fish"
    path.write_text(script(build_parser(), "fish"))
    lines = [
        "orgtree-tui ",
        "orgtree-tui --profile p",
        "orgtree-tui --profile dev export --ty",
        "orgtree-tui export --format ",
        "orgtree-tui completion ",
    ]
    calls = "".join(f"complete -C '{line}'; echo @@\n" for line in lines)
    out = run(["fish", "--no-config", "-c"], f"source {path}\n" + calls, home)
    got = [
        {row.split("\t")[0] for row in chunk.split("\n") if row} for chunk in out.split("@@\n")[:-1]
    ]
    assert got == [
        subcommands(),
        {"prod-admin"},
        {"--type"},
        set(FORMATS),
        {"bash", "zsh", "fish"},
    ]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_option_is_in_every_script(shell: str) -> None:
    """Generated from the parser: every flag of every command is in the script."""
    text = script(build_parser(), shell)
    flags = export_options("--") | {"--print-settings", "--version"}
    if shell == "fish":
        assert all(f"-l {f[2:]}" in text for f in flags)
    else:
        assert all(f in text for f in flags)


def test_the_cli_prints_a_script_and_refuses_an_unknown_shell(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["completion", "bash"]) == 0
    assert "complete -F _orgtree_tui orgtree-tui" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["completion", "powershell"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'powershell'" in err and len(err.strip().splitlines()) == 1
