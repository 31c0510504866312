"""Command line: parse, dispatch, and format every error as one line.

`orgtree-tui export` crawls and writes headlessly; with no command, the `tui` callable that
`orgtree_tui.main` hands in opens the app (this module never imports the UI). Every user
mistake ends with one line on stderr and exit status 2, never a traceback: the layers below
raise, this module writes the line. The flags themselves are declared in `arguments`; this
module checks how they combine and lays them over the settings file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from orgtree_tui.arguments import build_parser
from orgtree_tui.completion import script as completion_script
from orgtree_tui.connection import ConnectionSettingsError, validate_endpoint_url
from orgtree_tui.crawl.engine import DEFAULT_WORKERS
from orgtree_tui.export import VIEWED
from orgtree_tui.headless import HeadlessError, run_export
from orgtree_tui.headless_diff import run_diff
from orgtree_tui.identity import IdentityError
from orgtree_tui.locations import cache_dir, settings_file
from orgtree_tui.options import (
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    EXIT_USAGE,
    PROG,
    Options,
    UsageError,
)
from orgtree_tui.settings import Settings, SettingsError, load_settings, render_settings
from orgtree_tui.text import one_line

# What opens the app: `orgtree_tui.main` passes the UI's; the CLI itself knows no UI.
RunTui = Callable[[Options], int]


def parse_args(argv: Sequence[str] | None = None) -> Options:
    ns = build_parser().parse_args(argv)
    flag_profiles = tuple(ns.profiles or ()) + tuple(getattr(ns, "more_profiles", None) or ())
    if ns.demo and (ns.endpoint_url or flag_profiles or ns.role_arn):
        raise UsageError("--demo cannot be combined with --profile, --role-arn or --endpoint-url")
    if getattr(ns, "cached", False) and ns.no_cache:
        raise UsageError("--cached cannot be combined with --no-cache")
    if len(set(flag_profiles)) != len(flag_profiles):
        raise UsageError("a --profile is given twice")
    diff_files = tuple(getattr(ns, "diff_files", None) or ())
    if len(diff_files) not in (0, 2):
        raise UsageError("diff takes two JSON exports (OLD.json NEW.json), or none")
    _check_diff(ns, flag_profiles, diff_files)
    if ns.external_id and not ns.role_arn:
        raise UsageError("--external-id needs --role-arn")
    if getattr(ns, "label", None) is not None and ns.format not in VIEWED:
        raise UsageError(f"--label is for the text, mermaid and dot formats, not {ns.format}")
    if getattr(ns, "label", None) is not None and getattr(ns, "policy", None) is not None:
        raise UsageError("--label labels the tree; --policy writes a policy's reach instead")
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
        allow_incomplete=getattr(ns, "allow_incomplete", False),
        policy_documents=getattr(ns, "policy_documents", False),
        policy=getattr(ns, "policy", None),
        label=getattr(ns, "label", None),
        policies=getattr(ns, "policies", False),
        role_arn=ns.role_arn,
        external_id=ns.external_id,
        role_session_name=ns.role_session_name,
        export_dir=settings.export_dir,
        theme=settings.theme,
        print_settings=ns.print_settings,
        **_filters(ns),
        shell=getattr(ns, "shell", None),
        diff_files=diff_files,
        allow_partial=getattr(ns, "allow_partial", False),
    )


def _filters(ns: argparse.Namespace) -> dict[str, Any]:
    """`export --match/--type/--state/--tag`, checked against each other."""
    match: str | None = getattr(ns, "match", None)
    found: dict[str, Any] = {
        "match": match,
        "node_type": getattr(ns, "node_type", None),
        "states": getattr(ns, "states", None) or (),
        "tags": tuple(getattr(ns, "tags", None) or ()),
    }
    if match is not None and not match.strip():
        raise UsageError("--match needs some text (an empty one would match nothing)")
    if found["states"] and found["node_type"] == "ou":
        raise UsageError("--state is an account's; it cannot be combined with --type ou")
    if found["tags"] and ns.no_details:
        raise UsageError("--tag needs the tags: it cannot be combined with --no-details")
    if getattr(ns, "policy", None) is not None and any(found.values()):
        raise UsageError("--policy cannot be combined with --match, --type, --state or --tag")
    return found


def _check_diff(ns: Any, profiles: tuple[str, ...], files: tuple[str, ...]) -> None:
    # A flag the comparison would not use must not look as if it had been applied.
    if getattr(ns, "command", None) != "diff":
        return
    crawl_flags = {
        "--profile": profiles,
        "--role-arn": ns.role_arn,
        "--endpoint-url": ns.endpoint_url,
        "--demo": ns.demo,
        "--workers": ns.workers,
        "--no-details": ns.no_details,
        "--no-cache": ns.no_cache,
        "--cache-ttl": ns.cache_ttl,
    }
    given = [flag for flag, value in crawl_flags.items() if value]
    if files and given:
        raise UsageError(
            f"{given[0]} is for a diff against a fresh crawl; two exports are compared as they are"
        )
    if ns.cache_ttl is not None:
        raise UsageError("diff always crawls to compare with the cached tree: no --cache-ttl")


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
    sys.stdout.write(render_settings(settings, settings_file(), cache_dir(create=False)))
    return 0


def fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {one_line(message)}\n")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None, *, tui: RunTui) -> int:
    try:
        options = parse_args(argv)
        if options.print_settings:
            return print_settings()
        if options.command == "completion" and options.shell is not None:
            sys.stdout.write(completion_script(build_parser(), options.shell))
            return 0
        if options.command == "export":
            try:
                code = run_export(options)
                sys.stdout.flush()  # a closed pipe shows here, not at exit
            except BrokenPipeError:
                return closed_pipe()
            return code
        if options.command == "diff":
            try:
                return run_diff(options)
            except BrokenPipeError:
                return closed_pipe()
        return tui(options)
    except (UsageError, ConnectionSettingsError, IdentityError, HeadlessError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED


def closed_pipe() -> int:
    """The reader went away (`| head -c1`, `| true`, a jq that failed): nothing more to say,
    and nowhere to say it. Point stdout at /dev/null so the flush at exit cannot raise
    again, and exit as a shell reports SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no real file (a test's capture): nothing will flush it at exit
    finally:
        os.close(devnull)
    return EXIT_PIPE
