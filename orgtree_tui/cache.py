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

Format: compact JSON with `format_version`. One fixed-order row per node (`columns` names
them) holding its fields, tags, policies and detail states; every distinct policy is stored
once and rows refer to it by index. At 50,000 accounts, objects with repeated keys and a
copy of FullAWSAccess per node would double the size and the time. Loading never raises for
a bad file: the caller gets the reason to show.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orgtree_tui.export import ExportError, write_atomic
from orgtree_tui.gaps import Missing
from orgtree_tui.locations import cache_dir
from orgtree_tui.model import DetailState, Node, NodeType, Organization, OrgTree, Policy
from orgtree_tui.text import visible

FORMAT_VERSION = 1
NODE_FIELDS = tuple(f.name for f in fields(Node))
COLUMNS = (*NODE_FIELDS, "tags", "tags_state", "policies", "policies_state")
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


STRUCTURE_ONLY = " (structure only)"


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
        data = _encode(tree, label, complete=complete, crawled_at=crawled_at)
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
            cached = _decode(data, target)
    except _Unusable as e:
        return _ignored(str(e))
    except (TypeError, ValueError, KeyError, RecursionError) as e:
        return _ignored(f"unexpected content ({_short(str(e))})")
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
        "run once without --cached to create it"
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


# -- encoding ---------------------------------------------------------------------------


def _encode(tree: OrgTree, label: str, *, complete: bool, crawled_at: datetime) -> dict[str, Any]:
    rows: list[list[Any]] = []
    policy_table: dict[Policy, int] = {}
    # Most nodes share a handful of policy sets, so each set is turned into indexes once.
    refs: dict[tuple[Policy, ...], list[int]] = {}
    for node in tree.nodes():
        details = tree.details(node.id)
        policies: list[int] | None = None
        if details.policies is not None:
            policies = refs.get(details.policies)
            if policies is None:
                policies = [policy_table.setdefault(p, len(policy_table)) for p in details.policies]
                refs[details.policies] = policies
        joined = node.joined_timestamp
        rows.append(
            [
                node.id,
                node.type.value,
                node.name,
                node.arn,
                node.parent_id,
                node.email,
                node.state,
                node.joined_method,
                joined.isoformat() if joined is not None else None,
                details.tags,
                _state_name(details.tags_state, details.tags is not None),
                policies,
                _state_name(details.policies_state, policies is not None),
            ]
        )
    org = tree.organization
    return {
        "format_version": FORMAT_VERSION,
        "source": label,
        "crawled_at": crawled_at.isoformat(),
        "complete": complete,
        "organization": {f.name: getattr(org, f.name) for f in fields(org)} if org else None,
        "policies": [[p.id, p.name] for p in policy_table],
        "columns": COLUMNS,
        "nodes": rows,
        "incomplete": tree.incomplete(),
        # Added after format 1 shipped, so optional on load (see _read_gaps).
        "incomplete_causes": {i: c.value for i, c in tree.incomplete_causes().items()},
        "policy_targets_missing": {i: r.value for i, r in tree.policy_targets_missing().items()},
        "details": tree.details_wanted,
    }


def _state_name(state: DetailState, loaded: bool) -> str | None:
    # null stands for the state set_tags/set_policies imply (LOADED, or PENDING when
    # nothing was loaded), which is nearly every node: smaller file, fewer calls on load.
    implied = DetailState.LOADED if loaded else DetailState.PENDING
    return None if state is implied else state.name


# -- decoding: every value is checked, because the file is outside our control ----------


class _Unusable(Exception):
    pass


_TYPES = {t.value: t for t in NodeType}
_STATES = {s.name: s for s in DetailState}


def _ignored(reason: str) -> LoadResult:
    log.warning("cache ignored: %s", reason)
    return LoadResult(None, reason)


def _short(text: str, limit: int = 120) -> str:
    text = visible(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _decode(data: object, path: Path) -> CachedTree:
    top = _mapping(data, "the file")
    version = top.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        shown = _short(repr(version))
        raise _Unusable(
            f"format version {shown}; this version of orgtree-tui reads {FORMAT_VERSION}"
        )
    if top.get("columns") != list(COLUMNS):
        raise _Unusable("unexpected node columns")
    source, complete = top.get("source"), top.get("complete")
    if not isinstance(source, str) or not isinstance(complete, bool):
        raise _Unusable("source or complete flag missing")
    stamp = top.get("crawled_at")
    crawled_at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    if crawled_at is None or crawled_at.tzinfo is None:
        raise _Unusable("crawl time missing or without a time zone")

    tree = OrgTree(details=_details_wanted(top, source))
    organization = top.get("organization")
    if organization is not None:
        org = _mapping(organization, "organization")
        if not all(isinstance(v, str) for v in org.values()):
            raise _Unusable("organization fields must be strings")
        tree.set_organization(Organization(**org))
    policy_table = [_policy(item) for item in _list(top.get("policies"), "policies")]
    rows = _list(top.get("nodes"), "nodes")
    nodes = {node.id: node for node in map(_node, rows)}
    if len(nodes) != len(rows):
        raise _Unusable("a node is listed twice")
    _check_structure(nodes)
    tree.add_many(nodes.values())
    details = _Details()
    for row in rows:
        _read_details(details, row, policy_table)
    tree.set_details_many(details.tags, details.policies, details.states)
    _read_gaps(tree, top)
    return CachedTree(tree, complete, crawled_at, source, path)


_MISSING = {m.value: m for m in Missing}


def _details_wanted(top: dict[str, Any], source: str) -> bool:
    wanted = top.get("details")
    if wanted is None:  # a file from before the key: `source_for` names structure-only ones
        return not source.endswith(STRUCTURE_ONLY)
    if not isinstance(wanted, bool):
        raise _Unusable("details flag is not a boolean")
    return wanted


def _read_gaps(tree: OrgTree, top: dict[str, Any]) -> None:
    causes = _reasons(top.get("incomplete_causes", {}), "incomplete causes")
    for node_id, reason in _mapping(top.get("incomplete"), "incomplete").items():
        if not isinstance(reason, str):
            raise _Unusable("incomplete reasons must be strings")
        tree.mark_incomplete(node_id, reason, cause=causes.get(node_id) or _guess_cause(reason))
    for policy_id, why in _reasons(top.get("policy_targets_missing", {}), "policy targets").items():
        tree.mark_policy_targets_missing(policy_id, why)


def _reasons(value: object, what: str) -> dict[str, Missing]:
    out: dict[str, Missing] = {}
    for key, name in _mapping(value, what).items():
        reason = _MISSING.get(name) if isinstance(name, str) else None
        if reason is None:
            raise _Unusable(f"unknown reason {_short(repr(name))} in {what}")
        out[key] = reason
    return out


def _guess_cause(reason: str) -> Missing:
    """For a file saved before causes were: the reason is `Operation: Code`, or says the
    crawl stopped."""
    if reason.startswith("not listed"):
        return Missing.NOT_FETCHED
    return Missing.DENIED if "AccessDenied" in reason else Missing.FAILED


def _node(row: object) -> Node:
    if type(row) is not list or len(row) != len(COLUMNS):
        raise _Unusable("a node row has the wrong shape")
    node_id, kind, name, arn, parent_id, email, state, method, joined = row[:9]
    # Spelled out rather than all(...): this runs 50,000 times on a warm start.
    if not (
        type(node_id) is str
        and type(name) is str
        and type(arn) is str
        and (parent_id is None or type(parent_id) is str)
        and (email is None or type(email) is str)
        and (state is None or type(state) is str)
        and (method is None or type(method) is str)
        and (joined is None or type(joined) is str)
    ):
        raise _Unusable("a node field has the wrong type")
    node_type = _TYPES.get(kind) if type(kind) is str else None
    if node_type is None:
        raise _Unusable(f"unknown node type {_short(repr(kind))}")
    when = datetime.fromisoformat(joined) if joined is not None else None
    return Node(node_id, node_type, name, arn, parent_id, email, state, method, when)


@dataclass
class _Details:
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: dict[str, tuple[Policy, ...]] = field(default_factory=dict)
    states: dict[str, tuple[DetailState | None, DetailState | None]] = field(default_factory=dict)
    policy_sets: dict[tuple[int, ...], tuple[Policy, ...]] = field(default_factory=dict)


def _read_details(out: _Details, row: list[Any], policy_table: list[Policy]) -> None:
    node_id = row[0]
    tags, tags_state, refs, policies_state = row[9:]
    if tags is not None:
        if type(tags) is not dict:
            raise _Unusable("tags are not an object")
        try:
            "".join(tags.values())  # the fastest check that every value is a string
        except TypeError:
            raise _Unusable("tag values must be strings") from None
        out.tags[node_id] = tags
    if refs is not None:
        key = tuple(_list(refs, "policy references"))
        policies = out.policy_sets.get(key)
        if policies is None:
            if not all(type(i) is int and 0 <= i < len(policy_table) for i in key):
                raise _Unusable("a policy reference is out of range")
            policies = out.policy_sets[key] = tuple(policy_table[i] for i in key)
        out.policies[node_id] = policies
    if tags_state is not None or policies_state is not None:
        out.states[node_id] = (
            _state(tags_state) if tags_state is not None else None,
            _state(policies_state) if policies_state is not None else None,
        )


def _state(name: object) -> DetailState:
    state = _STATES.get(name) if type(name) is str else None
    if state is None:
        raise _Unusable(f"unknown detail state {_short(repr(name))}")
    return state


def _check_structure(nodes: dict[str, Node]) -> None:
    # The model follows parent links without a guard, so a cycle would hang the app.
    # Every chain must end at a root, through OUs or roots only.
    reaches_root: set[str] = set()
    for node in nodes.values():
        if (node.type is NodeType.ROOT) != (node.parent_id is None):
            raise _Unusable(f"node {_short(node.id)} has a misplaced parent")
        chain: dict[str, None] = {}
        current = node
        while current.id not in reaches_root and current.parent_id is not None:
            if current.id in chain:
                raise _Unusable(f"node {_short(current.id)} is its own ancestor")
            chain[current.id] = None
            parent = nodes.get(current.parent_id)
            if parent is None or parent.type is NodeType.ACCOUNT:
                raise _Unusable(f"node {_short(current.id)} has a missing or invalid parent")
            current = parent
        reaches_root.update(chain)


def _policy(item: object) -> Policy:
    if type(item) is not list or len(item) != 2 or not all(isinstance(v, str) for v in item):
        raise _Unusable("a policy has the wrong shape")
    return Policy(item[0], item[1])


def _mapping(value: object, what: str) -> dict[str, Any]:
    # json.loads only makes str keys, so the values are all that needs checking.
    if not isinstance(value, dict):
        raise _Unusable(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Unusable(f"{what} is not a list")
    return value
