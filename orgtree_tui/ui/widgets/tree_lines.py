"""Where a node's line goes in the tree widget, and whether it opens: read from the model."""

from __future__ import annotations

from collections.abc import Iterator

from orgtree_tui.forest import Forest
from orgtree_tui.records import Node, sort_key
from orgtree_tui.tree_view import TreeView

SortKey = tuple[int, str, str]


def line_key(model: TreeView, node: Node) -> SortKey:
    """Children in export order; roots in the order their organizations were given in
    (`--profile` order), not by name nor by which answered first."""
    if node.parent_id is not None:
        return sort_key(node)
    if isinstance(model, Forest):
        trees = model.trees
        index = next((i for i, t in enumerate(trees) if node.id in t), len(trees))
    else:
        order = [r.id for r in model.roots()]
        index = order.index(node.id) if node.id in order else len(order)
    return (0, f"{index:06d}", node.id)


def expandable(model: TreeView, node: Node) -> bool:
    """Accounts never; an OU once something is known to be under it; a root always (it
    starts expanded, before its children arrive)."""
    if node.is_account:
        return False
    counts = model.counts(node.id)
    return node.parent_id is None or counts.ous + counts.accounts > 0


def ous_below(model: TreeView, node_id: str) -> Iterator[str]:
    """The node and the OUs below it, depth first, in display order; read as needed."""
    stack = [node_id]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(k.id for k in reversed(model.children(current)) if not k.is_account)
