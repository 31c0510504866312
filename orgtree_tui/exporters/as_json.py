"""The lossless format: everything the crawl knew about the subtree, for scripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from orgtree_tui.exporters.json_writer import Flushing, write_document, write_value
from orgtree_tui.exporters.policies_json import Chains, documents, organization
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.records import DetailState, NodeType

# /2: "policies" keyed by type with attached and inherited; the organization's facts.
FORMAT_TAG = "orgtree-tui/2"


def render(snap: Snapshot) -> str:
    """`json.dumps(document(snap), indent=2, ensure_ascii=False)`, byte for byte."""
    out: list[str] = []
    stream(snap, out.append)
    return "".join(out)


def stream(snap: Snapshot, write: Callable[[str], object]) -> None:
    """What `render` returns, handed to `write` a piece at a time."""
    out = Flushing(write)
    write_document(document_head(snap), snap, "", out)
    out.append("\n")
    out.flush()


def render_many(snaps: Sequence[Snapshot]) -> str:
    """Each organization's document (exactly what `render` writes for it), in order, under
    "organizations"."""
    out: list[str] = []
    stream_many(snaps, out.append)
    return "".join(out)


def stream_many(snaps: Sequence[Snapshot], write: Callable[[str], object]) -> None:
    """What `render_many` returns, handed to `write` a piece at a time."""
    head = {"format": FORMAT_TAG, "complete": all(snap.complete for snap in snaps)}
    out = Flushing(write)
    write_value(head, "", out, open_end=True)
    if not snaps:
        out.append('  "organizations": []\n}\n')
    else:
        out.append('  "organizations": [\n')
        for i, snap in enumerate(snaps):
            out.append("    " if i == 0 else ",\n    ")
            write_document(document_head(snap), snap, "    ", out)
        out.append("\n  ]\n}\n")
    out.flush()


def document(snap: Snapshot) -> dict[str, Any]:
    """The document as Python values: what `render` writes, and the reference it is held to."""
    return {**document_head(snap), "tree": _node(snap, snap.root, Chains(snap))}


def document_head(snap: Snapshot) -> dict[str, Any]:
    """The document's keys before "tree"."""
    return {
        "format": FORMAT_TAG,
        "organization": organization(snap),
        "complete": snap.complete,
        # What is missing, by kind: id -> "denied" | "failed" | "not fetched".
        "incomplete": snap.gaps.as_json(),
        # The ids of "incomplete"."structure", kept for scripts written before it.
        "incomplete_branches": snap.incomplete_branches,
        **({"policy_documents": documents(snap)} if snap.documents is not None else {}),
        # Only in a filtered export, so an unfiltered one stays byte for byte what it was.
        **({"filter": snap.filter} if snap.filter is not None else {}),
    }


def _node(snap: Snapshot, entry: Entry, chains: Chains) -> dict[str, Any]:
    node, details = entry.node, entry.details
    out: dict[str, Any] = {
        "id": node.id,
        "type": node.type.value,
        "name": node.name,
        "arn": node.arn,
        "path": entry.path,
    }
    if node.type is NodeType.ACCOUNT:
        out["email"] = node.email
        out["state"] = node.state
        out["joined_method"] = node.joined_method
        out["joined_timestamp"] = (
            node.joined_timestamp.isoformat() if node.joined_timestamp else None
        )
    # An empty value alone would claim "has none"; the *_state key says "we don't know".
    loaded_tags = details.tags_state is DetailState.LOADED
    out["tags"] = dict(sorted((details.tags or {}).items())) if loaded_tags else {}
    if not loaded_tags:
        out["tags_state"] = details.tags_state.value
    out["policies"] = chains.of(node.id)
    if entry.incomplete:
        out["incomplete"] = True
    out["children"] = [_node(snap, child, chains) for child in snap.children(node.id)]
    return out
