"""One row per node, for spreadsheets: the excel dialect (CRLF, minimal quoting).

The header is lower-case snake_case on purpose: a file whose first two bytes are `ID` makes
Excel take it for a SYLK file and refuse it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

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


def render(snap: Snapshot) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(_row(snap, entry) for entry in snap)
    return buffer.getvalue()


def render_many(snaps: Sequence[Snapshot]) -> str:
    """Several organizations in one sheet: `organization_id` first, then the usual columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("organization_id", *HEADER))
    for snap in snaps:
        org_id = snap.organization.id if snap.organization else ""
        writer.writerows([org_id, *_row(snap, entry)] for entry in snap)
    return buffer.getvalue()


def _row(snap: Snapshot, entry: Entry) -> list[str]:
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
    ]
