"""An indented tree with the same guide characters rich draws, for terminals and tickets."""

from __future__ import annotations

from collections.abc import Sequence

from orgtree_tui.exporters.labels import markers, organization_line
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.text import visible

_TEE, _ELBOW, _PIPE, _SPACE = "├── ", "└── ", "│   ", "    "


def render(snap: Snapshot) -> str:
    return render_many([snap])


def render_many(snaps: Sequence[Snapshot]) -> str:
    """One tree per organization, each under a `# organization ...` line."""
    return "\n".join("\n".join(_tree(snap)) + "\n" for snap in snaps)


def _tree(snap: Snapshot) -> list[str]:
    lines = [f"# {organization_line(snap)}"] if snap.organization else []
    lines.append(_line(snap.root))
    _branch(snap, snap.root_id, "", lines)
    if snap.gaps:
        lines.append(f"({snap.gaps_line()})")
    if snap.filter is not None:
        lines.append(f"({snap.filter_line()})")
    if not snap.crawl_complete:
        lines.append("(the crawl had not finished; nodes may be missing)")
    return lines


def _branch(snap: Snapshot, node_id: str, prefix: str, lines: list[str]) -> None:
    # Recursion is fine: AWS caps OU nesting at five levels below the root.
    kids = snap.children(node_id)
    for i, child in enumerate(kids):
        last = i == len(kids) - 1
        lines.append(prefix + (_ELBOW if last else _TEE) + _line(child))
        _branch(snap, child.node.id, prefix + (_SPACE if last else _PIPE), lines)


def _line(entry: Entry) -> str:
    node = entry.node
    return visible(f"{node.name} ({node.id}){markers(entry)}")
