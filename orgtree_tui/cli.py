"""Command line: `orgtree-tui` opens the TUI, `orgtree-tui export` crawls and writes headlessly.

Every user mistake ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from orgtree_tui import __version__
from orgtree_tui.aws import (
    DEFAULT_REGION,
    DEFAULT_SESSION_NAME,
    ConnectionSettingsError,
    validate_endpoint_url,
)
from orgtree_tui.crawl.engine import DEFAULT_WORKERS
from orgtree_tui.export import FORMATS as EXPORT_FORMATS
from orgtree_tui.identity import (
    IdentityError,
    validate_external_id,
    validate_role_arn,
    validate_session_name,
)
from orgtree_tui.locations import settings_file
from orgtree_tui.settings import (
    Settings,
    SettingsError,
    check_workers,
    load_settings,
    parse_duration,
    render_settings,
)

PROG = "orgtree-tui"
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input: reported as one line and exit status 2."""


def one_line(text: str) -> str:
    """Control characters from user input shown as escapes, so an error stays one line."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line says it better.
        sys.stderr.write(f"{PROG}: error: {one_line(message)} (see {PROG} --help)\n")
        raise SystemExit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    try:
        return check_workers(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _checked(check: Callable[[str], object]) -> Callable[[str], str]:
    """An argparse type from a validator that raises ConnectionSettingsError."""

    def parse(text: str) -> str:
        try:
            check(text)
        except ConnectionSettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return parse


def _duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `2h` or `1d`."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _connection_options() -> _Parser:
    common = _Parser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument(
        "--profile",
        dest="profiles",
        action="append",
        metavar="PROFILE",
        help="AWS profile (default: AWS_PROFILE, the settings file, the default chain); "
        "repeat it to explore several organizations at once",
    )
    group.add_argument(
        "--role-arn",
        type=_checked(validate_role_arn),
        help="assume this role (in the management or a delegated admin account) first",
    )
    group.add_argument("--external-id", type=_checked(validate_external_id), help="for --role-arn")
    group.add_argument(
        "--role-session-name",
        type=_checked(validate_session_name),
        default=DEFAULT_SESSION_NAME,
        help=f"for --role-arn (default: {DEFAULT_SESSION_NAME})",
    )
    group.add_argument(
        "--region", default=DEFAULT_REGION, help=f"AWS region (default: {DEFAULT_REGION})"
    )
    group.add_argument(
        "--endpoint-url",
        type=_checked(validate_endpoint_url),
        help="endpoint URL for Organizations and STS (AWS_ENDPOINT_URL also works)",
    )
    group.add_argument(
        "--demo",
        action="store_true",
        help="crawl the built-in demo organization (simulated, no AWS needed)",
    )
    crawl = common.add_argument_group("crawl")
    crawl.add_argument(
        "--workers",
        type=_positive_int,
        help=f"concurrent API calls per organization (default: {DEFAULT_WORKERS})",
    )
    crawl.add_argument(
        "--no-details",
        action="store_true",
        help="crawl structure only: no tags, no policies",
    )
    cache = common.add_argument_group("cache")
    cache.add_argument(
        "--no-cache",
        action="store_true",
        help="neither show nor save the cached tree of the last crawl",
    )
    cache.add_argument(
        "--cache-ttl",
        type=_duration,
        metavar="DURATION",
        help="trust a cached tree younger than this without crawling again (e.g. 15m, 2h)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _connection_options()
    parser = _Parser(
        prog=PROG,
        description="Explore an AWS Organization in the terminal.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--print-settings",
        action="store_true",
        help="show the settings file's path and what it sets, then exit",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    export = sub.add_parser(
        "export",
        parents=[common],
        help="crawl and write the tree (or a subtree) without the TUI",
        description="Crawl the organization and write a subtree to stdout or a file.",
    )
    export.add_argument(
        "--subtree",
        metavar="ID|/Root/OU/...",
        help="a root, OU or account id, or a name path (default: the whole organization)",
    )
    export.add_argument("--format", choices=EXPORT_FORMATS, default="json", help="default: json")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    export.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    export.add_argument(
        "--cached",
        action="store_true",
        help="export the tree saved by the last crawl, without calling AWS",
    )
    return parser


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line (over the settings file) asked for, checked."""

    command: str | None
    profile: str | None  # the first of `profiles`, for code that knows one organization
    region: str
    endpoint_url: str | None
    demo: bool
    workers: int
    details: bool
    subtree: str | None = None
    format: str = "json"
    output: Path | None = None
    force: bool = False
    quiet: bool = False
    cache: bool = True
    cache_ttl: timedelta | None = None
    cached: bool = False
    profiles: tuple[str, ...] = ()  # one organization each; empty: the default chain
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = DEFAULT_SESSION_NAME
    export_dir: Path | None = None  # default directory of the TUI's export dialog
    theme: str | None = None  # a Textual theme name, checked by the TUI
    print_settings: bool = False


def parse_args(argv: Sequence[str] | None = None) -> Options:
    ns = build_parser().parse_args(argv)
    flag_profiles = tuple(ns.profiles or ())
    if ns.demo and (ns.endpoint_url or flag_profiles or ns.role_arn):
        raise UsageError("--demo cannot be combined with --profile, --role-arn or --endpoint-url")
    if getattr(ns, "cached", False) and ns.no_cache:
        raise UsageError("--cached cannot be combined with --no-cache")
    if len(set(flag_profiles)) != len(flag_profiles):
        raise UsageError("a --profile is given twice")
    if ns.external_id and not ns.role_arn:
        raise UsageError("--external-id needs --role-arn")
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    profiles = _profiles(flag_profiles, settings, demo=ns.demo)
    if ns.role_arn and len(profiles) > 1:
        raise UsageError(
            "--role-arn takes one source profile; for several organizations put role_arn "
            "and source_profile in each AWS profile"
        )
    endpoint = ns.endpoint_url
    if endpoint is None and os.environ.get("AWS_ENDPOINT_URL") and not ns.demo:
        try:
            endpoint = validate_endpoint_url(os.environ["AWS_ENDPOINT_URL"])
        except ConnectionSettingsError as exc:
            raise UsageError(f"AWS_ENDPOINT_URL: {exc}") from None
    return Options(
        command=ns.command,
        profile=profiles[0] if profiles else None,
        profiles=profiles,
        region=ns.region,
        endpoint_url=endpoint,
        demo=ns.demo,
        workers=ns.workers or settings.workers or DEFAULT_WORKERS,
        details=not ns.no_details,
        subtree=getattr(ns, "subtree", None),
        format=getattr(ns, "format", "json"),
        output=getattr(ns, "output", None),
        force=getattr(ns, "force", False),
        quiet=getattr(ns, "quiet", False),
        cache=not ns.no_cache,
        cache_ttl=ns.cache_ttl if ns.cache_ttl is not None else settings.cache_ttl,
        cached=getattr(ns, "cached", False),
        role_arn=ns.role_arn,
        external_id=ns.external_id,
        role_session_name=ns.role_session_name,
        export_dir=settings.export_dir,
        theme=settings.theme,
        print_settings=ns.print_settings,
    )


def _profiles(flags: tuple[str, ...], settings: Settings, *, demo: bool) -> tuple[str, ...]:
    # The AWS CLI's order: a flag, then AWS_PROFILE (set for this shell, so more specific
    # than a file written once), then our settings file, then boto3's default chain.
    if flags or demo or os.environ.get("AWS_PROFILE"):
        return flags
    return settings.profiles


def print_settings() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        return fail(str(exc))
    sys.stdout.write(render_settings(settings, settings_file()))
    return 0


def fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_args(argv)
        if options.print_settings:
            return print_settings()
        if options.command == "export":
            from orgtree_tui.headless import run_export

            return run_export(options)
        from orgtree_tui.ui.launch import run_tui

        return run_tui(options)
    except UsageError as exc:
        return fail(str(exc))
    except (ConnectionSettingsError, IdentityError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
