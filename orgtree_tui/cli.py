"""Command line: `orgtree-tui` opens the TUI, `orgtree-tui export` crawls and writes headlessly.

Every user mistake ends with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from orgtree_tui import __version__
from orgtree_tui.aws import DEFAULT_REGION, ConnectionSettingsError, validate_endpoint_url
from orgtree_tui.crawl.engine import DEFAULT_WORKERS

PROG = "orgtree-tui"
EXIT_USAGE = 2
EXPORT_FORMATS = ("json", "csv", "text", "mermaid", "dot")


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
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64, got {value}")
    return value


def _endpoint(text: str) -> str:
    try:
        return validate_endpoint_url(text)
    except ConnectionSettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `2h` or `1d`."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in _DURATION_UNITS else (text, "s")
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration like 90s, 15m, 2h or 1d, got {text!r}"
        ) from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"a duration cannot be negative, got {text!r}")
    return timedelta(seconds=value * _DURATION_UNITS[unit])


def _connection_options() -> _Parser:
    common = _Parser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default chain)")
    group.add_argument(
        "--region", default=DEFAULT_REGION, help=f"AWS region (default: {DEFAULT_REGION})"
    )
    group.add_argument(
        "--endpoint-url",
        type=_endpoint,
        help="Organizations endpoint URL (AWS_ENDPOINT_URL also works)",
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
        default=DEFAULT_WORKERS,
        help=f"concurrent API calls (default: {DEFAULT_WORKERS})",
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
    """What the command line asked for, checked."""

    command: str | None
    profile: str | None
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


def parse_args(argv: Sequence[str] | None = None) -> Options:
    ns = build_parser().parse_args(argv)
    if ns.demo and (ns.endpoint_url or ns.profile):
        raise UsageError("--demo cannot be combined with --profile or --endpoint-url")
    if getattr(ns, "cached", False) and ns.no_cache:
        raise UsageError("--cached cannot be combined with --no-cache")
    endpoint = ns.endpoint_url
    if endpoint is None and os.environ.get("AWS_ENDPOINT_URL") and not ns.demo:
        try:
            endpoint = validate_endpoint_url(os.environ["AWS_ENDPOINT_URL"])
        except ConnectionSettingsError as exc:
            raise UsageError(f"AWS_ENDPOINT_URL: {exc}") from None
    return Options(
        command=ns.command,
        profile=ns.profile,
        region=ns.region,
        endpoint_url=endpoint,
        demo=ns.demo,
        workers=ns.workers,
        details=not ns.no_details,
        subtree=getattr(ns, "subtree", None),
        format=getattr(ns, "format", "json"),
        output=getattr(ns, "output", None),
        force=getattr(ns, "force", False),
        quiet=getattr(ns, "quiet", False),
        cache=not ns.no_cache,
        cache_ttl=ns.cache_ttl,
        cached=getattr(ns, "cached", False),
    )


def fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_args(argv)
        if options.command == "export":
            from orgtree_tui.headless import run_export

            return run_export(options)
        from orgtree_tui.ui.launch import run_tui

        return run_tui(options)
    except UsageError as exc:
        return fail(str(exc))
    except ConnectionSettingsError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
