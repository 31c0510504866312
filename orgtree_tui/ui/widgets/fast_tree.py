"""FastTree: Textual's Tree with the private parts this app relies on, all in one place.

Checked against Textual 5.0.0 and 8.2.8 (the oldest and newest releases pyproject.toml
allows; see README, Development, "Dependencies"). A Textual upgrade that changes any of
these shows here first: `Tree._invalidate`, `Tree._clear_line_cache`, `Tree._updates`,
`Tree._tree_nodes`, `TreeNode._reset`, `TreeNode._children`, and that reading
`Tree.last_line` rebuilds the lines built lazily (and with them `TreeNode.line` and the
cursor's line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from textual.widgets import Tree
from textual.widgets.tree import TreeNode


class FastTree(Tree[str]):
    def _invalidate(self) -> None:
        """Textual's Tree lays the whole screen out again on every added or removed node;
        this tree's size is set by its container, and a new line count reaches the
        scrollbars through `virtual_size`, so a repaint does. While a big org streams in,
        that is most of what the UI thread would do."""
        self._clear_line_cache()
        self._updates += 1
        self.root._reset()
        self.refresh()

    def clear(self) -> Self:
        """Textual's `clear` leaves every old node in `_tree_nodes` until a new node takes
        its id, and each old node is a parent <-> children cycle that only a full garbage
        collection frees. A filter rebuilds the tree at every keystroke: the old nodes
        piled up for the collector, and its full passes (30-60 ms on a 50,000-node org)
        landed in keystrokes. Here they are let go, their cycles broken, and freed at once."""
        old = self._tree_nodes
        self._tree_nodes = {}
        super().clear()
        self._tree_nodes[self.root._id] = self.root
        for node in old.values():
            node._children = []
        return self

    def build_lines(self) -> None:
        """Build the lines now: the cursor, and `TreeNode.line`, need the new ones."""
        _ = self.last_line

    @property
    def cursor_id(self) -> str | None:
        node = self.cursor_node
        # After a rebuild the old cursor node lingers until the cursor moves again.
        return node.data if node is not None and self.cursor_line >= 0 else None

    def ids_on_screen(self) -> Iterator[str]:
        """The nodes on the lines the tree shows now."""
        top = self.scroll_offset.y
        for line in range(top, top + self.size.height):
            node = self.get_node_at_line(line)
            if node is None:
                return
            if node.data is not None:
                yield node.data

    @contextmanager
    def cursor_kept(self) -> Iterator[None]:
        """Keep the cursor's row on screen while lines are inserted above it."""
        node = self.cursor_node
        row = self.cursor_line - self.scroll_offset.y
        yield
        if node is None or self.cursor_node is not node or not 0 <= row < self.size.height:
            return
        self.build_lines()  # the cursor follows its node
        if node.line >= 0 and node.line - self.scroll_offset.y != row:
            self.scroll_to(y=node.line - row, animate=False, immediate=True)


def subtree_ids(tn: TreeNode[str]) -> Iterator[str]:
    """The ids under a widget node, itself included."""
    stack = [tn]
    while stack:
        current = stack.pop()
        if current.data is not None:
            yield current.data
        stack.extend(current.children)
