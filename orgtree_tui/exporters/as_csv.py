"""One row per node, for spreadsheets: the excel dialect (CRLF, minimal quoting)."""

from __future__ import annotations

import csv
import io
import json

from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.model import DetailState

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
)


def render(snap: Snapshot) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(_row(entry) for entry in snap)
    return buffer.getvalue()


def _row(entry: Entry) -> list[str]:
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
    ]
