"""orgtree-tui as a library: crawl an organization, load the cache, walk, diff and export.

    from orgtree_tui import api

    result = api.crawl(profile="org-admin")      # blocks; AWS's rate limits, like the CLI
    for visit in api.walk(result.tree):
        print("  " * visit.depth + visit.node.name)
    print(api.export(result, "text"))

Everything here is what the `orgtree-tui` command itself runs: the same crawler (per-operation
token buckets at AWS's documented rates, retries on throttles), the same cache files and
the same exporters, so a script and the command line see the same organization. The CLI's
`diff` and `export` go through these functions.

Errors: `CacheError` (no usable cache), `ExportError` (bad format, path or subtree),
`SideError` (a file that is not a JSON export), `ConnectionSettingsError` (an unknown
profile, a bad endpoint URL), `IdentityError` (credentials); each one's
str() is one line. A crawl that cannot reach AWS does not raise: its `outcome` says why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from orgtree_tui.aws import OrgClient
from orgtree_tui.cache import store
from orgtree_tui.cache.store import CachedTree, CacheError
from orgtree_tui.connection import (
    DEFAULT_REGION,
    DEFAULT_SESSION_NAME,
    Connection,
    ConnectionSettingsError,
    endpoint_for,
)
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlOutcome, CrawlState
from orgtree_tui.crawl.engine import DEFAULT_WORKERS
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.drift import Drift, compare
from orgtree_tui.drift_render import render as render_drift
from orgtree_tui.drift_sides import Side, SideError, from_document, from_snapshot, read_export
from orgtree_tui.export import ExportError, ExportResult, export_subtree, render
from orgtree_tui.exporters.selection import Selection
from orgtree_tui.exporters.snapshot import take_snapshot
from orgtree_tui.exporters.view import View
from orgtree_tui.identity import IdentityError
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node
from orgtree_tui.source import Source, open_connection
from orgtree_tui.tree_view import TreeView

__all__ = [
    "CacheError",
    "ConnectionSettingsError",
    "Crawl",
    "Drift",
    "ExportError",
    "IdentityError",
    "SideError",
    "Visit",
    "crawl",
    "diff",
    "export",
    "export_to",
    "load_cache",
    "new_crawler",
    "render_diff",
    "run_crawl",
    "save_cache",
    "save_tree",
    "walk",
]

Progress = Callable[[CrawlStats], object]


@dataclass(frozen=True)
class Crawl:
    """One finished (or stopped) crawl: the tree it built and how it ended."""

    tree: OrgTree
    outcome: CrawlOutcome
    label: str  # what keys its cache: "profile NAME", an endpoint URL, "default credentials"
    subtree: str | None = None  # what the crawl was scoped to (None: the organization)

    @property
    def finished(self) -> bool:
        """It ran to its end (what it could not fetch is listed in `tree.gaps()`)."""
        return self.outcome.state in (CrawlState.COMPLETE, CrawlState.INCOMPLETE)

    @property
    def complete(self) -> bool:
        """It ran to its end and nothing it was asked for is missing."""
        return self.outcome.state is CrawlState.COMPLETE


def crawl(
    profile: str | None = None,
    *,
    region: str = DEFAULT_REGION,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    external_id: str | None = None,
    role_session_name: str = DEFAULT_SESSION_NAME,
    workers: int = DEFAULT_WORKERS,
    details: bool = True,
    subtree: str | None = None,
    on_progress: Progress | None = None,
    cancel_event: threading.Event | None = None,
) -> Crawl:
    """Crawl one organization through boto3's credential chain (`profile` None: the
    default chain) and return when the crawl ends. `endpoint_url` None reads
    AWS_ENDPOINT_URL, as the command does, so both key the cache alike.

    `details=False` lists the structure only (no tags, no policies); `subtree` (an id or a
    name path like `/Root/Workloads`) crawls that node and what is below it. `on_progress`
    is called with a `CrawlStats` (calls, queue, throttles, elapsed) from the crawl's
    thread, about ten times a second. Setting `cancel_event` stops the crawl early: the
    result then has `finished` False. Raises ConnectionSettingsError for an unknown
    profile or a bad endpoint URL, IdentityError when no session can be opened.
    """
    connection = _connection(
        Connection(
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            role_arn=role_arn,
            external_id=external_id,
            role_session_name=role_session_name,
        )
    )
    source = open_connection(connection, workers=workers)
    try:
        crawler = new_crawler(
            source, workers=workers, details=details, subtree=subtree, cancel_event=cancel_event
        )
        return run_crawl(crawler, source.label, on_progress=on_progress)
    finally:
        source.close()


def new_crawler(
    source: Source | Any,
    *,
    workers: int = DEFAULT_WORKERS,
    details: bool = True,
    subtree: str | None = None,
    cancel_event: threading.Event | None = None,
) -> Crawler:
    """A crawler for `source` (a `source.Source`, or a boto3 Organizations client, which
    is made read-only: it refuses every write from then on) with AWS's rate limits.
    `run_crawl` runs it; until then anyone may subscribe to `crawler.publisher` (see
    `crawl.topics`)."""
    if isinstance(source, Source):
        client, connection = source.client, source.connection
    else:
        client, connection = OrgClient(source), None
    options = CrawlOptions(workers=workers, details=details, subtree=subtree)
    return Crawler(client, options, connection=connection, cancel_event=cancel_event)


def run_crawl(crawler: Crawler, label: str, *, on_progress: Progress | None = None) -> Crawl:
    """Run `crawler` to its end on this thread; `label` names the source (it keys the cache)."""
    listener = _ProgressListener(on_progress) if on_progress is not None else None
    if listener is not None:
        crawler.publisher.subscribe(listener, topics.PROGRESS)
    try:
        outcome = crawler.run()
    except BaseException:  # ctrl+c: the task loop's threads must not go on calling AWS
        crawler.cancel()
        raise
    finally:
        if listener is not None:  # pypubsub holds it weakly: it lives until here
            crawler.publisher.unsubscribe(listener, topics.PROGRESS)
    return Crawl(crawler.tree, outcome, label, crawler.options.subtree)


class _ProgressListener:
    # pypubsub checks a listener's signature against the topic's: exactly `stats`.
    def __init__(self, callback: Progress) -> None:
        self.callback = callback

    def __call__(self, stats: CrawlStats) -> None:
        self.callback(stats)


def load_cache(
    profile: str | None = None,
    *,
    region: str = DEFAULT_REGION,
    endpoint_url: str | None = None,
    role_arn: str | None = None,
    details: bool = True,
    label: str | None = None,
) -> CachedTree:
    """The tree the last crawl of this source saved (what `orgtree-tui export --cached`
    reads): `.tree`, `.complete`, `.crawled_at`, `.age`. The source is named as `crawl`
    names it (`endpoint_url` None reads AWS_ENDPOINT_URL). `details=False`: the file a
    `--no-details` crawl keeps. `label` names the source directly (`Crawl.label`). Raises
    CacheError when there is none or it cannot be used."""
    if label is None:
        label = _connection(
            Connection(profile=profile, region=region, endpoint_url=endpoint_url, role_arn=role_arn)
        ).describe()
    return store.load_for_export(store.source_for(label, details=details))


def save_cache(result: Crawl) -> Path | None:
    """Save a crawl's tree where `load_cache` (and the app's warm start) finds it, under
    the app's rule: a stopped crawl never replaces a cached tree. Returns the file, or None
    when nothing was saved (a subtree crawl: the cache holds whole organizations). Raises
    CacheError when the file cannot be written."""
    if result.subtree is not None:
        return None
    return save_tree(result.tree, result.label, finished=result.finished)


def save_tree(
    tree: OrgTree, label: str, *, finished: bool, details: bool | None = None
) -> Path | None:
    """`save_cache` for a tree and the label of its source; `finished`: its crawl ran to
    its end; `details`: it was asked for tags and policies (default: what the tree says)."""
    wanted = tree.details_wanted if details is None else details
    source = store.source_for(label, details=wanted)
    replaces = store.cache_path(source).exists()
    if not store.worth_saving(tree, finished=finished, replaces_cached=replaces):
        return None
    return store.save(
        tree,
        source=source,
        complete=store.saved_complete(tree, finished=finished),
        crawled_at=datetime.now(UTC),
    )


@dataclass(frozen=True, slots=True)
class Visit:
    """One node met by `walk`: the node (`.id`, `.name`, `.type`, `.email`, `.state`...),
    its depth below where the walk started and its name path."""

    node: Node
    depth: int
    path: str


def walk(tree: TreeView | Crawl | CachedTree, start: str | None = None) -> Iterator[Visit]:
    """Every node from `start` (an id or name path; None: the root) down, depth first, in
    export order: OUs before accounts, each by name. `tree.details(node.id)` has a node's
    tags and policies. Raises ExportError when `start` is not in the tree."""
    view, _ = _unwrap(tree)
    snap = take_snapshot(view, _root_id(view, start), complete=True)
    depth: dict[str, int] = {}
    for entry in snap:
        parent = entry.node.parent_id
        depth[entry.node.id] = depth[parent] + 1 if parent in depth else 0
        yield Visit(entry.node, depth[entry.node.id], entry.path)


DiffSide = TreeView | Crawl | CachedTree | Path | str | dict[str, Any] | Side


def diff(old: DiffSide, new: DiffSide) -> Drift:
    """What changed from `old` to `new`: each a tree (a `Crawl`, a `CachedTree`, an
    `OrgTree`), a JSON export (a path, or the parsed document; format orgtree-tui/1 or
    /2), or a `drift_sides.Side`. `.changes` lists them (`Change.kind`: added, removed,
    moved, renamed, state, tags, policies), `.partial` says a side was incomplete and
    `.not_compared` what could not be compared. Raises SideError for a file that is not an
    export, or for two sides that are not the same organization and subtree."""
    return compare(_side(old, "old"), _side(new, "new"))


def render_diff(drift: Drift, fmt: str = "text") -> str:
    """The report as `orgtree-tui diff` prints it: "text", "json" or "markdown" (ValueError
    for any other)."""
    return render_drift(drift, fmt)


def export(
    tree: TreeView | Crawl | CachedTree,
    fmt: str = "json",
    *,
    subtree: str | None = None,
    documents: bool = False,
    view: View | None = None,
    selection: Selection | None = None,
) -> str:
    """The tree (or the subtree at `subtree`, an id or name path) in one of the export
    formats: json, csv, text, mermaid, dot, graphml. `view`: labels and policies for text,
    mermaid and dot (`exporters.view.View`); `selection`: only the nodes it matches and
    their ancestors (`exporters.selection.Selection`: what `export --match/--type/--state/
    --tag` build). Raises ExportError."""
    shown, complete = _unwrap(tree)
    root_id = _root_id(shown, subtree)
    return render(
        shown, root_id, fmt, complete=complete, documents=documents, view=view, selection=selection
    )


def export_to(
    tree: TreeView | Crawl | CachedTree,
    path: Path | None,
    fmt: str = "json",
    *,
    subtree: str | None = None,
    force: bool = False,
    complete: bool | None = None,
    documents: bool = False,
    stream: TextIO | None = None,
    view: View | None = None,
    selection: Selection | None = None,
) -> ExportResult:
    """`export` written to `path` atomically (mode 0600; an existing file only with
    `force`), or to `stream` (default stdout) when path is None. `complete` overrides what
    the tree says of itself (a bare OrgTree counts as finished). The result counts what was
    written and says what the export lacks."""
    shown, finished = _unwrap(tree)
    return export_subtree(
        shown,
        _root_id(shown, subtree),
        fmt,
        path,
        force=force,
        complete=finished if complete is None else complete,
        stream=stream,
        documents=documents,
        view=view,
        selection=selection,
    )


# -- helpers --------------------------------------------------------------------------


def _connection(connection: Connection) -> Connection:
    """With AWS_ENDPOINT_URL made explicit: boto3 would follow it anyway, but the cache is
    keyed by the endpoint, and the command keys it so; left implicit, a simulator's tree
    would be saved as the real default credentials' one."""
    return replace(connection, endpoint_url=endpoint_for(connection))


def _unwrap(tree: TreeView | Crawl | CachedTree) -> tuple[TreeView, bool]:
    """The tree, and whether the crawl it came from ran to its end."""
    if isinstance(tree, Crawl):
        return tree.tree, tree.finished
    if isinstance(tree, CachedTree):
        return tree.tree, store.ran_to_end(tree)
    return tree, True


def _root_id(tree: TreeView, ref: str | None) -> str:
    if ref is not None:
        node = tree.find(ref)
        if node is None:
            raise ExportError(f"no root, OU or account {ref!r} in the tree")
        return node.id
    roots = tree.roots()
    if not roots:
        raise ExportError("the tree has no root")
    return roots[0].id


def _side(value: DiffSide, label: str) -> Side:
    if isinstance(value, Side):
        return value
    if isinstance(value, str | Path):
        return read_export(Path(value))
    if isinstance(value, dict):
        return from_document(value, label)
    view, finished = _unwrap(value)
    if isinstance(value, CachedTree):
        label = f"cache ({store.age_text(value.age)} old)"
    elif isinstance(value, Crawl):
        label = "crawl"
    snap = take_snapshot(view, _root_id(view, None), complete=finished)
    return from_snapshot(snap, label)
