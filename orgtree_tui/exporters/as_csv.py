"""One row per node, for spreadsheets: the excel dialect (CRLF, minimal quoting).

The header is lower-case snake_case on purpose: a file whose first two bytes are `ID` makes
Excel take it for a SYLK file and refuse it.

After the fixed columns come two per policy type enabled on the root (SCPs alone for a tree
that predates policy types): `<type>_attached`, a JSON list of the names attached to the
node, and `<type>_inherited`, a JSON list of `[name, from]` pairs, `from` the id of the
ancestor that attaches it. An empty cell means "not known", as for tags.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from orgtree_tui.exporters.policies_json import Chains
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.records import DetailState

HEADER = (
    "id",
    "type",
    "name",
    "parent_id",
    "path",
    "email",
    "state",
    "joined_method",
    "joined_timestamp",
    "tags",
    "policies",
    "incomplete",
    "tags_state",
    "policies_state",
)


def _types(snaps: Sequence[Snapshot]) -> list[str]:
    return sorted({t for snap in snaps for t in snap.root.details.by_type})


def _type_columns(types: Sequence[str]) -> list[str]:
    return [f"{t.lower()}_{part}" for t in types for part in ("attached", "inherited")]


def render(snap: Snapshot) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    types = _types([snap])
    writer.writerow((*HEADER, *_type_columns(types)))
    chains = Chains(snap)
    writer.writerows(_row(snap, entry, chains, types) for entry in snap)
    return buffer.getvalue()


def render_many(snaps: Sequence[Snapshot]) -> str:
    """Several organizations in one sheet: `organization_id` first, then the usual columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    types = _types(snaps)
    writer.writerow(("organization_id", *HEADER, *_type_columns(types)))
    for snap in snaps:
        org_id = snap.organization.id if snap.organization else ""
        chains = Chains(snap)
        writer.writerows([org_id, *_row(snap, entry, chains, types)] for entry in snap)
    return buffer.getvalue()


def _row(snap: Snapshot, entry: Entry, chains: Chains, types: Sequence[str]) -> list[str]:
    node, details = entry.node, entry.details
    # An empty cell means "not known"; "{}" means "known to have no tags".
    tags = ""
    if details.tags_state is DetailState.LOADED:
        tags = json.dumps(details.tags or {}, sort_keys=True, ensure_ascii=False)
    policies = ""
    if details.policies_state is DetailState.LOADED:
        policies = ";".join(p.name for p in details.policies or ())
    return [
        node.id,
        node.type.value,
        node.name,
        node.parent_id or "",
        entry.path,
        node.email or "",
        node.state or "",
        node.joined_method or "",
        node.joined_timestamp.isoformat() if node.joined_timestamp else "",
        tags,
        policies,
        "yes" if entry.incomplete else "",
        # Why the tags or policies cell is empty when it should not be: denied, failed or
        # not fetched (empty when they arrived, or when the crawl was not asked for them).
        snap.gaps.tags.get(node.id, ""),
        snap.gaps.policies.get(node.id, ""),
        *_type_cells(chains.of(node.id), types),
    ]


def _type_cells(policies: dict[str, dict[str, Any] | None], types: Sequence[str]) -> list[str]:
    cells: list[str] = []
    for policy_type in types:
        found = policies.get(policy_type)  # absent: not enabled in this organization
        attached = found["attached"] if found else None
        inherited = found["inherited"] if found else None
        cells.append(_json([p["name"] for p in attached]) if attached is not None else "")
        cells.append(
            _json([[p["name"], p["from"]] for p in inherited]) if inherited is not None else ""
        )
    return cells


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
