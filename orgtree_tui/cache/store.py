"""The last crawled org tree on disk, so the next start can show it before any AWS call.

Keys: one file per source, `tree-<key>.json` in `locations.cache_dir()`, where the key is
the first 32 hex digits of the SHA-256 of the cleaned source label (`profile NAME`, the
endpoint URL, or `default credentials`). The organization id is stored inside the file,
not in its name: on start the app knows only its source, and the org id arrives with the
first AWS answer. A source that now reaches another organization is caught then, by
`load(..., org_id=...)` or by comparing `CachedTree.organization`, and the next save
replaces the file. So each source keeps one tree and the directory never grows beyond one
file per source.

Credentials never reach the file: the tree holds none, and `clean_source` drops the
userinfo, query and fragment of an endpoint URL before the label is hashed or stored.

What is inside a file is `format`'s. Loading never raises for a bad file: the caller gets
the reason to show.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from orgtree_tui.cache.format import STRUCTURE_ONLY, FormatError, decode, encode
from orgtree_tui.export import ExportError, write_atomic
from orgtree_tui.locations import cache_dir
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Organization
from orgtree_tui.text import short, visible

DEFAULT_SOURCE = "default credentials"

log = logging.getLogger(__name__)


class CacheError(Exception):
    """The cache could not be written, or holds nothing usable for `export --cached`.
    str(e) is a one-line message fit to show the user."""


@dataclass(frozen=True)
class CachedTree:
    tree: OrgTree
    complete: bool  # False: the crawl stopped early or some branches could not be listed
    crawled_at: datetime  # timezone-aware
    source: str
    path: Path

    @property
    def age(self) -> timedelta:
        return datetime.now(UTC) - self.crawled_at

    @property
    def organization(self) -> Organization | None:
        return self.tree.organization


@dataclass(frozen=True)
class LoadResult:
    cached: CachedTree | None
    warning: str | None = None  # why an existing cache file was not used

    @property
    def message(self) -> str | None:
        return f"cache ignored: {self.warning}" if self.warning else None


def clean_source(source: str) -> str:
    """The label as stored and hashed: an endpoint URL loses userinfo, query and fragment."""
    label = source.strip() or DEFAULT_SOURCE
    parts = urlsplit(label)
    if not (parts.scheme and parts.netloc):
        return label
    host = parts.netloc.rpartition("@")[2].lower()
    return urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))


def source_for(label: str, *, details: bool) -> str:
    """What a crawl's tree is cached under: a crawl without tags and SCPs (`--no-details`)
    keeps a file of its own, so it never replaces a tree that has them."""
    return label if details else f"{label}{STRUCTURE_ONLY}"


def cache_key(source: str) -> str:
    return hashlib.sha256(clean_source(source).encode("utf-8")).hexdigest()[:32]


def cache_path(source: str, *, create: bool = False) -> Path:
    return cache_dir(create=create) / f"tree-{cache_key(source)}.json"


def save(
    tree: OrgTree,
    *,
    source: str,
    complete: bool,
    crawled_at: datetime,
    path: Path | None = None,
) -> Path:
    """Write the whole tree atomically, mode 0600. Raises CacheError if it cannot."""
    if crawled_at.tzinfo is None:
        raise ValueError("crawled_at must be timezone-aware")
    label = clean_source(source)
    target = path if path is not None else cache_path(label, create=True)
    with _gc_paused():
        data = encode(tree, label, complete=complete, crawled_at=crawled_at)
        text = json.dumps(data, separators=(",", ":"))
    try:
        write_atomic(target, text, force=True)
    except ExportError as e:
        raise CacheError(f"cannot save the cache: {e}") from e
    return target


def load(source: str, *, org_id: str | None = None, path: Path | None = None) -> LoadResult:
    """The cached tree for this source (and org, if given). Never raises for a bad file."""
    label = clean_source(source)
    target = path if path is not None else cache_path(label)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return LoadResult(None)
    except OSError as e:
        return _ignored(f"cannot read {visible(str(target))}: {e.strerror or e}")
    try:
        with _gc_paused():
            data = json.loads(raw)
    except (ValueError, RecursionError):
        return _ignored(f"{visible(str(target))} is not valid JSON (truncated or corrupt)")
    try:
        with _gc_paused():
            decoded = decode(data)
    except FormatError as e:
        return _ignored(str(e))
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        return _ignored(f"unexpected content ({short(str(e))})")
    cached = CachedTree(decoded.tree, decoded.complete, decoded.crawled_at, decoded.source, target)
    if cached.source != label:
        return _ignored(f"it was saved for {visible(cached.source)!r}, not {visible(label)!r}")
    if org_id is not None:
        found = cached.organization.id if cached.organization else None
        if found != org_id:
            return _ignored(f"it is for organization {visible(str(found))}, not {visible(org_id)}")
    return LoadResult(cached)


def load_for_export(
    source: str, *, org_id: str | None = None, path: Path | None = None
) -> CachedTree:
    """For `export --cached`: the cached tree, or CacheError saying why there is none."""
    result = load(source, org_id=org_id, path=path)
    if result.cached is not None:
        return result.cached
    if result.message is not None:
        raise CacheError(result.message)
    where = path if path is not None else cache_path(source)
    raise CacheError(
        f"no cached tree for {visible(clean_source(source))} ({visible(str(where))}); "
        "a crawl creates it (the app, or export without --cached)"
    )


def is_fresh(cached: CachedTree, ttl: timedelta | None, *, now: datetime | None = None) -> bool:
    """Younger than ttl (None: never expires). Says nothing about completeness."""
    if ttl is None:
        return True
    return (now or datetime.now(UTC)) - cached.crawled_at <= ttl


def age_text(age: timedelta) -> str:
    """Short and rounded down: `45s`, `12m`, `5h`, `3d`."""
    seconds = max(0, int(age.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def refresh_needed(cached: CachedTree, ttl: timedelta | None) -> bool:
    """Whether the app should crawl again after showing `cached`: always, unless the tree is
    complete and younger than a ttl the user set."""
    return ttl is None or not cached.complete or not is_fresh(cached, ttl)


# -- what is saved, and what a saved tree says (one rule for the CLI and the TUI) -------------


def worth_saving(tree: OrgTree, *, finished: bool, replaces_cached: bool) -> bool:
    """Whether a crawl's tree goes into the cache. `finished`: the crawl ran to its end
    (complete, or incomplete with its gaps recorded in the tree). A stopped crawl (failed,
    cancelled) holds only part of the organization: it is saved only where it replaces
    nothing, never over a cached tree (`replaces_cached`) and never empty."""
    if finished:
        return True
    return not replaces_cached and len(tree) > 0


def saved_complete(tree: OrgTree, *, finished: bool) -> bool:
    """The `complete` flag a saved tree gets: it ran to its end and lacks nothing."""
    return finished and not tree.gaps()


def ran_to_end(cached: CachedTree) -> bool:
    """Whether the crawl a cached tree came from ran to its end (`finished` above): saved
    complete, or saved with the gaps it ended with. An export of it lets those gaps say what
    is missing instead of "the crawl had not finished"."""
    return cached.complete or bool(cached.tree.gaps())


@contextmanager
def _gc_paused() -> Iterator[None]:
    # Building or parsing ~300,000 small objects sets off the cycle collector again and
    # again, for nothing: none of them form cycles. Pausing it saves about a fifth of a load.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ignored(reason: str) -> LoadResult:
    log.warning("cache ignored: %s", reason)
    return LoadResult(None, reason)
