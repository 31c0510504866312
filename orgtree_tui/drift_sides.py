"""The two sides of a drift report, read from a JSON export (/1 or /2) or from a tree.

A `Side` is what the comparison needs of one organization and nothing more: each node's
place, name, state, tags and attached policies by type, plus what the side says it lacks.
A value that the side does not know is None, never empty: "no tags" and "tags not known"
must not compare equal. A tree (the cache, a fresh crawl) goes through the very values the
JSON export writes (`policies_json.Chains`), so a tree and its export read the same.

UI-free; raises `SideError` (one line) for a document that is not an export it can read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orgtree_tui.exporters.policies_json import Chains
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.gaps import KINDS, Gaps, Missing
from orgtree_tui.records import SCP, DetailState
from orgtree_tui.text import short, visible

FORMATS = ("orgtree-tui/1", "orgtree-tui/2")
# AWS's largest organization (50,000 accounts) exports to well under 200 MB; the cap keeps
# a wrong path (/dev/zero, a disk image, an endless pipe) from eating the machine's memory.
MAX_BYTES = 1 << 30


class SideError(ValueError):
    """A side that cannot be compared (not JSON, another format, several organizations);
    str(e) is one line fit to show the user."""


@dataclass(frozen=True, slots=True)
class Item:
    """One node as the comparison sees it."""

    id: str
    type: str  # ROOT | ORGANIZATIONAL_UNIT | ACCOUNT
    name: str
    path: str
    parent_id: str | None  # None for the top of the side (its parent is not in it)
    state: str | None = None  # accounts
    tags: Mapping[str, str] | None = None  # None: not known
    # policy type -> {policy id: name} attached here; a type's value None: not known.
    policies: Mapping[str, Mapping[str, str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Side:
    label: str  # how the report names it: a file name, "cache", "crawl"
    format: str
    organization_id: str | None
    top_id: str
    items: dict[str, Item]  # export order: depth first, OUs before accounts, by name
    complete: bool
    gaps: Gaps  # what the side says it lacks, by kind
    details: bool  # tags and policies were asked for (False: a --no-details crawl)
    # The policy types enabled on the root (None: not known, as in /1); a type not enabled
    # has nothing attached anywhere.
    enabled_types: tuple[str, ...] | None

    @property
    def finished(self) -> bool:
        """False when the side says it is incomplete without saying what it lacks: the crawl
        stopped before the end, so any part of the organization may be missing."""
        return self.complete or bool(self.gaps)

    @property
    def structure_known(self) -> bool:
        """Every branch was listed: a node absent here is absent from the organization."""
        return self.finished and not self.gaps.structure

    def gaps_line(self) -> str:
        if self.gaps:
            return self.gaps.summary()
        return "" if self.complete else "the crawl had not finished"


# -- from a JSON export ---------------------------------------------------------------


def read_export(path: Path, label: str | None = None) -> Side:
    """The export in the file at `path` (format orgtree-tui/1 or /2, one organization)."""
    shown = visible(str(path))
    try:
        with path.open("rb") as file:  # not read_bytes: a device or a pipe has no end
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SideError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise SideError(f"{shown} is larger than {MAX_BYTES:,} bytes: too large for an export")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise SideError(f"{shown} is not valid JSON (diff compares JSON exports)") from None
    except MemoryError:
        raise SideError(f"{shown} is too large to read in the memory there is") from None
    return from_document(data, label or str(path))


def from_document(data: Any, label: str) -> Side:
    """A parsed JSON export; SideError when it is not one this can compare."""
    shown = visible(label)
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt not in FORMATS:
        found = f"format {short(repr(fmt), 40)}" if isinstance(fmt, str) else "no format"
        raise SideError(
            f"{shown} is not an orgtree-tui JSON export ({found}; expected {' or '.join(FORMATS)})"
        )
    if "organizations" in data:
        orgs = data["organizations"]
        if not isinstance(orgs, list) or len(orgs) != 1:
            raise SideError(
                f"{shown} holds several organizations; diff compares one: export each with one"
                " --profile"
            )
        data = orgs[0]
    if isinstance(data, dict) and "policy" in data and "tree" not in data:
        raise SideError(f"{shown} is one policy's reach (export --policy); diff compares trees")
    try:
        return _from_document(data, fmt, label)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A KeyError's str() is the bare key in quotes: say what it means.
        what = f"no {short(repr(exc.args[0]), 40)}" if isinstance(exc, KeyError) else str(exc)
        raise SideError(f"{shown} is not a valid {fmt} export ({short(what, 60)})") from None


def _from_document(data: dict[str, Any], fmt: str, label: str) -> Side:
    org = data.get("organization") or {}
    gaps = _gaps(data)
    items: dict[str, Item] = {}
    unknown_tags = False
    stack: list[tuple[dict[str, Any], str | None]] = [(data["tree"], None)]
    while stack:  # depth first, children in their export order
        node, parent = stack.pop()
        item = _item(node, parent, fmt)
        items[item.id] = item
        if item.tags is None and item.id not in gaps.tags:
            unknown_tags = True
        stack.extend((child, item.id) for child in reversed(node["children"]))
    types = org.get("policy_types") if fmt != FORMATS[0] else None
    enabled = None
    if isinstance(types, dict):
        enabled = tuple(sorted(t for t, status in types.items() if status == "ENABLED"))
    top = next(iter(items))
    return Side(
        label=label,
        format=fmt,
        organization_id=org.get("id"),
        top_id=top,
        items=items,
        complete=bool(data["complete"]),
        gaps=gaps,
        # A --no-details crawl has no tags anywhere and calls it no gap.
        details=not unknown_tags,
        enabled_types=enabled,
    )


def _gaps(data: dict[str, Any]) -> Gaps:
    listed = data.get("incomplete")
    if listed is None:  # an early /1: only the branches were listed
        structure = {str(i): Missing.NOT_FETCHED for i in data.get("incomplete_branches", ())}
        return Gaps(structure=structure)
    return Gaps(**{k: {str(i): Missing(r) for i, r in listed.get(k, {}).items()} for k in KINDS})


def _item(node: dict[str, Any], parent: str | None, fmt: str) -> Item:
    tags = None if "tags_state" in node else {str(k): str(v) for k, v in node["tags"].items()}
    raw = node["policies"]
    policies: dict[str, dict[str, str] | None] = {}
    if fmt == FORMATS[0]:  # /1: the SCPs attached, [] with "policies_state" when not known
        policies[SCP] = None if "policies_state" in node else _attached(raw)
    else:
        for policy_type, value in raw.items():
            policies[policy_type] = None if value is None else _attached(value["attached"])
    return Item(
        id=str(node["id"]),
        type=str(node["type"]),
        name=str(node["name"]),
        path=str(node["path"]),
        parent_id=parent,
        state=node.get("state"),
        tags=tags,
        policies=policies,
    )


def _attached(policies: list[dict[str, Any]]) -> dict[str, str]:
    return {str(p["id"]): str(p["name"]) for p in policies}


# -- from a tree ----------------------------------------------------------------------


def from_snapshot(snap: Snapshot, label: str) -> Side:
    """A snapshot of a tree (the cache, a crawl), read as its /2 export would be."""
    chains = Chains(snap)
    items: dict[str, Item] = {}
    for entry in snap:
        node, details = entry.node, entry.details
        known = details.tags_state is DetailState.LOADED
        policies = {
            t: None if v is None else {p["id"]: p["name"] for p in v["attached"]}
            for t, v in chains.of(node.id).items()
        }
        items[node.id] = Item(
            id=node.id,
            type=node.type.value,
            name=node.name,
            path=entry.path,
            parent_id=node.parent_id if node.id != snap.root_id else None,
            state=node.state,
            tags=dict(details.tags or {}) if known else None,
            policies=policies,
        )
    types = snap.facts.policy_types
    return Side(
        label=label,
        format=FORMATS[1],
        organization_id=snap.organization.id if snap.organization else None,
        top_id=snap.root_id,
        items=items,
        complete=snap.complete,
        gaps=snap.gaps,
        details=_details_wanted(snap),
        enabled_types=snap.facts.enabled_types() if types is not None else None,
    )


def _details_wanted(snap: Snapshot) -> bool:
    # A tree that never asked for tags has them pending everywhere with no gap for them.
    return not any(
        e.details.tags_state is not DetailState.LOADED and e.node.id not in snap.gaps.tags
        for e in snap
    )
