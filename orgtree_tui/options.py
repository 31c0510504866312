"""What the command line asked for (`Options`), the usage error and the exit statuses.

A leaf: the CLI builds an Options, and every layer that acts on one (headless export,
sources, the TUI) reads it from here without importing the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from orgtree_tui.connection import DEFAULT_SESSION_NAME

PROG = "orgtree-tui"
EXIT_OK = 0
EXIT_USAGE = 2  # bad input, or a crawl that could not be done: one line on stderr
EXIT_INCOMPLETE = 3  # `export` wrote its output, but something is missing from it
EXIT_INTERRUPTED = 130  # ctrl+c, as a shell reports SIGINT
EXIT_PIPE = 141  # stdout closed early (`| head`), as a shell reports SIGPIPE


class UsageError(Exception):
    """Bad input: reported as one line and exit status 2."""


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
    allow_incomplete: bool = False  # `export` exits 0, not 3, when the output lacks something
    policy_documents: bool = False  # `export`: JSON gets each policy's document
    policy: str | None = None  # `export --policy`: the reach of this policy (name or id)
    label: str | None = None  # `export --label`: a checked template (exporters.view)
    policies: bool = False  # `export --policies`: text and diagrams show each node's policies
    profiles: tuple[str, ...] = ()  # one organization each; empty: the default chain
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = DEFAULT_SESSION_NAME
    export_dir: Path | None = None  # default directory of the TUI's export dialog
    theme: str | None = None  # a Textual built-in theme name (see settings.THEMES)
    print_settings: bool = False
    # `export`'s filters (exporters.selection); none given: the whole subtree.
    match: str | None = None
    node_type: str | None = None  # "account" or "ou"
    states: tuple[str, ...] = ()
    tags: tuple[tuple[str, str | None], ...] = ()
    shell: str | None = None  # `completion SHELL`
    diff_files: tuple[Path, ...] = ()  # `diff OLD.json NEW.json`; empty: the cache vs a crawl
    allow_partial: bool = False  # `diff` exits by its changes even when a side is incomplete
