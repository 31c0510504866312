"""Wording shared by the human-facing formats (text, mermaid, dot), so they agree.

Everything returned here is raw text; each format escapes it its own way.
"""

from __future__ import annotations

from orgtree_tui.exporters.snapshot import Entry
from orgtree_tui.model import NodeType


def markers(entry: Entry) -> str:
    """` [SUSPENDED]`, ` [incomplete]`, both, or nothing."""
    node = entry.node
    parts: list[str] = []
    if node.type is NodeType.ACCOUNT and node.state is not None and node.state != "ACTIVE":
        parts.append(f" [{node.state}]")
    if entry.incomplete:
        parts.append(" [incomplete]")
    return "".join(parts)


def diagram_label(entry: Entry) -> list[str]:
    """The label's lines. Containers show how many accounts sit below them; accounts show
    their id, which is what people search for."""
    node = entry.node
    if node.type is NodeType.ACCOUNT:
        return [node.name, node.id + markers(entry)]
    return [f"{node.name} ({entry.accounts_below}){markers(entry)}"]
