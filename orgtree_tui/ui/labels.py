"""Tree labels as `rich.text.Text`, never markup: names are data, so `[red]x[/red]` in an
account name shows literally, and control characters show as escapes."""

from __future__ import annotations

from rich.text import Text

from orgtree_tui.exporters.escape import visible
from orgtree_tui.model import Node, NodeType, OrgTree
from orgtree_tui.wording import plural

__all__ = ["node_label", "plural"]

INCOMPLETE_MARK = "⚠ incomplete"
MATCH_STYLE = "bold reverse"
CHANGE_STYLE = "bold green"


def node_label(
    tree: OrgTree, node: Node, *, match: bool = False, change: str = "", note: str = ""
) -> Text:
    """`change`: what the last refresh did to the node ("new", "moved", "renamed");
    `note`: which organization a root belongs to, when several are shown."""
    label = Text(visible(node.name), style=MATCH_STYLE if match else "")
    if node.type is NodeType.ACCOUNT:
        label.append(f"  {node.id}", style="dim")
        if node.state and node.state != "ACTIVE":
            label.append(f"  ⊘ {visible(node.state)}", style="bold yellow")
        if change:
            label.append(f"  ✱ {change}", style=CHANGE_STYLE)
        return label
    counts = tree.counts(node.id)
    label.append(f" ({counts.accounts})", style="dim")
    if node.type is NodeType.ROOT:
        label.append(f"  {node.id}", style="dim")
        if note:
            label.append(f"  {visible(note)}", style="bold cyan")
    if tree.is_incomplete(node.id):
        label.append(f"  {INCOMPLETE_MARK}", style="bold red")
    if change:
        label.append(f"  ✱ {change}", style=CHANGE_STYLE)
    return label
