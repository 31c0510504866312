"""Tree labels as `rich.text.Text`, never markup: names are data, so `[red]x[/red]` in an
account name shows literally, and control characters show as escapes."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text

from orgtree_tui.gaps import Missing
from orgtree_tui.records import Counts, Node, NodeType
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView

__all__ = ["LineMarks", "node_label"]

INCOMPLETE_MARK = "⚠ incomplete"
# Tags or SCPs that were asked for and refused or failed (not those still on their way).
_DETAIL_WORDS = {Missing.DENIED: "not permitted", Missing.FAILED: "failed"}
MATCH_STYLE = "bold reverse"
CHANGE_STYLE = "bold green"


def node_label(
    tree: TreeView,
    node: Node,
    *,
    match: bool = False,
    change: str = "",
    note: str = "",
    counts: Counts | None = None,
) -> Text:
    """`change`: what the last refresh did to the node ("new", "moved", "renamed");
    `note`: which organization a root belongs to, when several are shown; `counts`: the
    node's, when the caller has read them already."""
    label = Text(visible(node.name), style=MATCH_STYLE if match else "")
    if node.type is NodeType.ACCOUNT:
        label.append(f"  {node.id}", style="dim")
        if node.state and node.state != "ACTIVE":
            label.append(f"  ⊘ {visible(node.state)}", style="bold yellow")
        _detail_marks(tree, node, label)
        if change:
            label.append(f"  ✱ {change}", style=CHANGE_STYLE)
        return label
    counts = counts or tree.counts(node.id)
    label.append(f" ({counts.accounts})", style="dim")
    if node.type is NodeType.ROOT:
        label.append(f"  {node.id}", style="dim")
        if note:
            label.append(f"  {visible(note)}", style="bold cyan")
    if tree.is_incomplete(node.id):
        label.append(f"  {INCOMPLETE_MARK}", style="bold red")
    _detail_marks(tree, node, label)
    if change:
        label.append(f"  ✱ {change}", style=CHANGE_STYLE)
    return label


def _detail_marks(tree: TreeView, node: Node, label: Text) -> None:
    """`⚠ tags failed`, `⚠ SCPs not permitted`, or `⚠ tags, SCPs failed` when both agree."""
    tags, policies = tree.detail_gaps(node.id)
    words = {
        k: _DETAIL_WORDS.get(v) if v else None for k, v in (("tags", tags), ("SCPs", policies))
    }
    shown = {k: w for k, w in words.items() if w}
    if not shown:
        return
    if len(shown) == 2 and len(set(shown.values())) == 1:
        label.append(f"  ⚠ tags, SCPs {shown['tags']}", style="yellow")
        return
    for what, word in shown.items():
        label.append(f"  ⚠ {what} {word}", style="yellow")


@dataclass
class LineMarks:
    """What the tree's lines say beyond the node itself: which match the filter, what the
    last refresh did to them, which organization each root is."""

    matches: frozenset[str] = frozenset()
    changes: dict[str, str] = field(default_factory=dict)  # id -> "new", "moved", ...
    root_notes: dict[str, str] = field(default_factory=dict)  # root id -> organization
    # The counts each OU's and root's label shows, as read when it was made: the details
    # and the status bar show these, so the three agree while the crawl adds nodes.
    drawn: dict[str, Counts] = field(default_factory=dict)

    def label(self, tree: TreeView, node: Node) -> Text:
        counts = None
        if node.type is not NodeType.ACCOUNT:
            counts = self.drawn[node.id] = tree.counts(node.id)
        return node_label(
            tree,
            node,
            match=node.id in self.matches,
            change=self.changes.get(node.id, ""),
            note=self.root_notes.get(node.id, ""),
            counts=counts,
        )
