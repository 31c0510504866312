"""The `/` filter, run on the model: which nodes match, and what must show to reach them."""

from __future__ import annotations

from orgtree_tui.records import Node
from orgtree_tui.tree_view import TreeView


def node_matches(tree: TreeView, node: Node, needle: str) -> bool:
    """Case-insensitive substring match on name, id, email or any tag value."""
    fields = [node.name, node.id, node.email or ""]
    tags = tree.details(node.id).tags
    if tags:
        fields.extend(tags.values())
    return any(needle in f.casefold() for f in fields)


def find_matches(tree: TreeView, query: str) -> list[str]:
    """Ids of matching nodes in display order (depth first, export order)."""
    needle = query.strip().casefold()
    if not needle:
        return []
    found: list[str] = []
    for root in tree.roots():
        found.extend(n.id for n in tree.walk(root.id) if node_matches(tree, n, needle))
    return found


def with_ancestors(tree: TreeView, ids: list[str]) -> set[str]:
    """The matches plus every node on the way down to them."""
    shown = set(ids)
    for node_id in ids:
        shown.update(a.id for a in tree.ancestors(node_id))
    return shown
