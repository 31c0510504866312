"""`SubtreeCounts`: how many OUs and accounts sit below every node, kept current.

Kept up to date on every change, not recomputed: while a crawl streams 50,000 accounts,
every label and details render asks for them. Not locked: the `OrgTree` that owns it calls
it under its own lock, with its own node table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from orgtree_tui.records import Counts, Node, NodeType


def own_weight(node: Node) -> tuple[int, int]:
    """What the node itself counts for: (OUs, accounts)."""
    return (int(node.type is NodeType.ORGANIZATIONAL_UNIT), int(node.type is NodeType.ACCOUNT))


class SubtreeCounts:
    def __init__(self, nodes: Mapping[str, Node]) -> None:
        self._nodes = nodes  # the owning tree's table, read (never written) here
        self._below: dict[str, list[int]] = {}  # id -> [OUs, accounts] at every depth below
        self._total = [0, 0]  # [OUs, accounts] in the whole tree

    def of(self, node_id: str) -> Counts:
        below = self._below.get(node_id)
        return Counts(below[0], below[1]) if below else Counts(0, 0)

    def totals(self) -> Counts:
        return Counts(self._total[0], self._total[1])

    def created(self, node: Node) -> None:
        """A node new to the tree (call once per id)."""
        ous, accounts = own_weight(node)
        self._total[0] += ous
        self._total[1] += accounts

    def deleted(self, node: Node) -> None:
        """A node gone from the tree, with its own entry (its ancestors: `detach`)."""
        ous, accounts = own_weight(node)
        self._total[0] -= ous
        self._total[1] -= accounts
        self._below.pop(node.id, None)

    def attach(self, node: Node) -> None:
        """The node and all below it now count under its parent's chain."""
        self._count_under(node.parent_id, self._weight(node), 1)

    def detach(self, node: Node) -> None:
        """The node and all below it no longer count under its parent's chain."""
        self._count_under(node.parent_id, self._weight(node), -1)

    def recount(self, roots: list[str], children: Mapping[str, Collection[str]]) -> None:
        """All counts from scratch, children before parents: one step per node."""
        nodes = self._nodes
        # Every parent id, present or not, from the top down (parents that have not
        # arrived yet hold what was counted under them, like the incremental count).
        order = [*roots, *(p for p in children if p not in nodes)]
        for parent_id in order:  # grows while it is read: a breadth-first walk
            kids = children.get(parent_id)
            if kids is not None:
                order.extend(kids)
        if len(order) < len(nodes) + sum(1 for p in children if p not in nodes):
            self._recount_slowly()  # a cycle (bad data) hides nodes from the walk
            return
        below: dict[str, list[int]] = {}
        total = [0, 0]
        for node_id in reversed(order):
            node = nodes.get(node_id)
            mine = below.get(node_id)
            if node is None:
                continue
            ous, accounts = own_weight(node)
            total[0] += ous
            total[1] += accounts
            if node.parent_id is not None:
                up = below.setdefault(node.parent_id, [0, 0])
                up[0] += ous + (mine[0] if mine else 0)
                up[1] += accounts + (mine[1] if mine else 0)
        self._below, self._total = below, total

    def _recount_slowly(self) -> None:
        self._below, self._total = {}, [0, 0]
        for node in self._nodes.values():
            self.created(node)
            self._count_under(node.parent_id, own_weight(node), 1)

    def _weight(self, node: Node) -> tuple[int, int]:
        """What the node brings to its ancestors' counts: itself and all below it."""
        ous, accounts = own_weight(node)
        below = self._below.get(node.id)
        return (ous + below[0], accounts + below[1]) if below else (ous, accounts)

    def _count_under(self, parent_id: str | None, weight: tuple[int, int], sign: int) -> None:
        # Up the parent chain as far as it is known; a parent that arrives later brings
        # what was counted under it. The bound stops a cycle from a bad move.
        steps = 0
        while parent_id is not None and steps <= len(self._nodes):
            entry = self._below.setdefault(parent_id, [0, 0])
            entry[0] += sign * weight[0]
            entry[1] += sign * weight[1]
            parent = self._nodes.get(parent_id)
            parent_id = parent.parent_id if parent is not None else None
            steps += 1
