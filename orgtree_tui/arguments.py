"""The command line's grammar: every flag, its help and its type check.

argparse reports a bad value on one line (see `_Parser.error`); `cli.parse_args` then
checks how the flags combine and fills the gaps from the settings file.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from orgtree_tui import __version__
from orgtree_tui.completion import SHELLS
from orgtree_tui.connection import (
    DEFAULT_REGION,
    DEFAULT_SESSION_NAME,
    ConnectionSettingsError,
    validate_endpoint_url,
)
from orgtree_tui.crawl.engine import DEFAULT_WORKERS
from orgtree_tui.drift_render import FORMATS as DIFF_FORMATS
from orgtree_tui.export import FORMATS as EXPORT_FORMATS
from orgtree_tui.exporters.selection import TYPES, parse_tag
from orgtree_tui.exporters.view import LabelError, LabelTemplate
from orgtree_tui.identity import validate_external_id, validate_role_arn, validate_session_name
from orgtree_tui.options import EXIT_INCOMPLETE, EXIT_USAGE, PROG
from orgtree_tui.settings import check_workers, parse_duration
from orgtree_tui.text import one_line

# A region's shape (eu-west-1, us-gov-west-1, ap-southeast-5), not a list that goes stale.
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
# The ids `--subtree` can name, as the Organizations API documents them; anything else that
# does not start with "/" (a name path) could never be found.
SUBTREE_ID = re.compile(r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|[0-9]{12}")
SUBTREE_FORMS = (
    "a root id (r-...), an OU id (ou-...-...), a 12-digit account id or a name path like /Root/OU"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line says it better. `prog` names the
        # subcommand (`orgtree-tui diff`), whose --help lists the flag that was wrong.
        sys.stderr.write(f"{PROG}: error: {one_line(message)} (see {self.prog} --help)\n")
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


def _region(text: str) -> str:
    if not REGION.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected an AWS region like eu-west-1, got {text!r}")
    return text


def _subtree(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"empty; expected {SUBTREE_FORMS}")
    if text.startswith("/"):
        if not text.strip("/"):
            raise argparse.ArgumentTypeError(
                f"{text!r} names no root, OU or account; a name path looks like /Root/OU"
            )
        return text
    if not SUBTREE_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected {SUBTREE_FORMS}, got {text!r}")
    return text


def _label(text: str) -> str:
    # Checked here, before any crawl, so a typo writes nothing; headless parses it again.
    try:
        LabelTemplate.parse(text)
    except LabelError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _output_path(text: str) -> Path:
    # Path("") is Path("."), which would only be reported later as "a directory".
    if not text:
        raise argparse.ArgumentTypeError("empty output path")
    return Path(text)


def _connection_options(*, after_command: bool = False, several: bool = True) -> _Parser:
    """The flags both the app and `export` take.

    After a command (`orgtree-tui --demo export --profile x`) they default to "not given",
    so a flag written before the command is kept instead of reset by the command's
    defaults; profiles from both sides are added up (`cli.parse_args`).
    """
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS if after_command else None)

    def default(value: Any) -> dict[str, Any]:
        return {} if after_command else {"default": value}

    group = common.add_argument_group("connection")
    group.add_argument(
        "--profile",
        dest="more_profiles" if after_command else "profiles",
        action="append",
        metavar="PROFILE",
        help="AWS profile (default: AWS_PROFILE, the settings file, the default chain)"
        + ("; repeat it to explore several organizations at once" if several else ""),
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
        **default(DEFAULT_SESSION_NAME),
        help=f"for --role-arn (default: {DEFAULT_SESSION_NAME})",
    )
    group.add_argument(
        "--region",
        type=_region,
        **default(DEFAULT_REGION),
        help=f"AWS region (default: {DEFAULT_REGION})",
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
        parents=[_connection_options(after_command=True)],
        help="crawl and write the tree (or a subtree) without the TUI",
        description="Crawl the organization and write a subtree to stdout or a file.",
    )
    export.add_argument(
        "--subtree",
        metavar="ID|/Root/OU/...",
        type=_subtree,
        help="a root, OU or account id, or a name path (default: the whole organization)",
    )
    export.add_argument("--format", choices=EXPORT_FORMATS, default="json", help="default: json")
    export.add_argument("-o", "--output", type=_output_path, help="file to write (default: stdout)")
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    export.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    export.add_argument(
        "--allow-incomplete",
        action="store_true",
        help=f"exit 0 for an export that lacks something (default: exit {EXIT_INCOMPLETE})",
    )
    export.add_argument(
        "--policy",
        metavar="NAME_OR_ID",
        help="write the reach of one policy: the nodes it applies to (json or text)",
    )
    export.add_argument(
        "--policy-documents",
        action="store_true",
        help="json: add every policy's document (DescribePolicy, 2 a second)",
    )
    export.add_argument(
        "--label",
        metavar="TEMPLATE",
        type=_label,
        help="text, mermaid, dot: each node's label, e.g. '{name} <{email}> {state}'; fields "
        "{name} {id} {type} {email} {state} {path} {arn} {joined} {tag:KEY} (default: Name (id))",
    )
    export.add_argument(
        "--policies",
        action="store_true",
        help="text, mermaid, dot: show each node's policies, attached and inherited "
        "(json, csv and graphml always carry them)",
    )
    export.add_argument(
        "--cached",
        action="store_true",
        help="export the tree saved by the last crawl, without calling AWS",
    )
    _filter_options(export)
    completion = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print a completion script: commands, options and AWS profiles.",
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    _add_diff(sub)
    return parser


def _add_diff(sub: Any) -> None:
    diff = sub.add_parser(
        "diff",
        parents=[_connection_options(after_command=True, several=False)],
        help="what changed: the cached tree against a fresh crawl, or two JSON exports",
        description="Compare the cached tree with a fresh crawl, or OLD.json with NEW.json"
        " (orgtree-tui/1 or /2 exports). Exit 0: no changes, 1: changes, 2: trouble.",
    )
    diff.add_argument(
        "diff_files",
        nargs="*",
        type=_output_path,
        metavar="OLD.json NEW.json",
        help="two JSON exports (default: the cached tree, then a fresh crawl)",
    )
    diff.add_argument("--format", choices=DIFF_FORMATS, default="text", help="default: text")
    diff.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    diff.add_argument(
        "--allow-partial",
        action="store_true",
        help="exit 0 or 1 by the changes found even when a side is incomplete (default: exit 2)",
    )


def _filter_options(export: argparse.ArgumentParser) -> None:
    """`export`'s filters (exporters.selection): combined with AND, each keeps the nodes
    that match and their ancestors."""
    group = export.add_argument_group(
        "filters", "keep the nodes that match every filter given, and their ancestors"
    )
    group.add_argument(
        "--match",
        metavar="TEXT",
        help="the TUI's / filter: name, id, email or a tag value contains TEXT (any case)",
    )
    group.add_argument("--type", dest="node_type", choices=sorted(TYPES), help="nodes of a type")
    group.add_argument(
        "--state",
        dest="states",
        type=_states,
        metavar="STATE,...",
        help="accounts in one of these states (e.g. ACTIVE,SUSPENDED)",
    )
    group.add_argument(
        "--tag",
        dest="tags",
        action="append",
        type=_tag,
        metavar="KEY[=VALUE]",
        help="has the tag (KEY alone: with any value); repeat it: every one must hold",
    )


@cache
def account_states() -> tuple[str, ...]:
    """The account states botocore's Organizations model allows (not a list that goes stale)."""
    import botocore.session  # only when --state is given: the model takes a moment to load

    model = botocore.session.get_session().get_service_model("organizations")
    states: list[str] = model.shape_for("AccountState").enum  # type: ignore[attr-defined]
    return tuple(states)


def _states(text: str) -> tuple[str, ...]:
    states = tuple(s.strip() for s in text.split(","))
    allowed = account_states()
    for state in states:
        if state not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown account state {state!r}; choose from {', '.join(allowed)}"
            )
    return tuple(dict.fromkeys(states))


def _tag(text: str) -> tuple[str, str | None]:
    try:
        return parse_tag(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
