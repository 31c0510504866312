"""FastTree: Textual's Tree with the private parts this app relies on, all in one place.

Checked against Textual 5.0.0 and 8.2.8 (the oldest and newest releases pyproject.toml
allows; see README, Development, "Dependencies"). A Textual upgrade that changes any of
these shows here first: `Tree._invalidate`, `Tree._clear_line_cache`, `Tree._updates`,
`Tree._tree_nodes`, `Tree._build` (copied here, recursion made a loop), `_TreeLine`,
`TreeNode._reset`, `TreeNode._children`, `TreeNode._line`, and that reading
`Tree.last_line` rebuilds the lines built lazily (and with them `TreeNode.line` and the
cursor's line).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from rich.cells import cell_len
from textual.geometry import Size
from textual.widgets import Tree
from textual.widgets._tree import _TreeLine
from textual.widgets.tree import NodeID, TreeNode


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

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(label, id=id)
        self._discarded: dict[NodeID, TreeNode[str]] = {}  # the nodes a `clear` let go

    def clear(self) -> Self:
        """Textual's `clear` leaves every old node in `_tree_nodes` until a new node takes
        its id, and each old node is a parent <-> children cycle that only a full garbage
        collection frees. A filter rebuilds the tree at every keystroke: the old nodes
        piled up for the collector, and its full passes (30-60 ms on a 50,000-node org)
        landed in keystrokes. Here they are let go, their cycles broken after the next
        frame (freeing thousands of nodes is itself a few ms), and freed at once."""
        self._let_go()  # those of the clear before, if no frame came since
        self._discarded = self._tree_nodes
        self._tree_nodes = {}
        super().clear()
        self._tree_nodes[self.root._id] = self.root
        self.call_after_refresh(self._let_go)
        return self

    def _let_go(self) -> None:
        discarded, self._discarded = self._discarded, {}
        for node in discarded.values():
            node._children = []

    def _build(self) -> None:
        """Textual's `_build` with a loop where it recurses: its recursive closure is a
        reference cycle that keeps the list of lines it built, and through their paths
        every node shown, alive until a garbage collection (every rebuild, every chunk of
        a big OU, every filter keystroke). The lines, and what sets them, are the same."""
        lines: list[_TreeLine[str]] = []
        tops = [self.root] if self.show_root else self.root._children
        # Top-level lines count as last (as Textual's do); below, the last child does.
        stack: list[tuple[list[TreeNode[str]], TreeNode[str], bool]]
        stack = [([], node, True) for node in reversed(tops)]
        while stack:
            path, node, last = stack.pop()
            child_path = [*path, node]
            node._line = len(lines)
            lines.append(_TreeLine(child_path, last))
            if node._expanded:
                children = node._children
                final = len(children) - 1
                stack.extend((child_path, children[i], i == final) for i in range(final, -1, -1))
        self._tree_lines_cached = lines
        guide_depth, show_root, label_width = self.guide_depth, self.show_root, self.get_label_width
        if lines:
            width = max(
                label_width(line.node) + line._get_guide_width(guide_depth, show_root)
                for line in lines
            )
        else:
            width = self.size.width
        self.virtual_size = Size(width, len(lines))
        if self.cursor_line != -1:
            if self.cursor_node is not None:
                self.cursor_line = self.cursor_node._line
            if self.cursor_line >= len(lines):
                self.cursor_line = -1

    def get_label_width(self, node: TreeNode[str]) -> int:
        """What Textual's measures (the icon, then the label) without rendering the label:
        `_build` measures every line, and a build comes with every cursor move that lines
        were added above (see `cursor_kept`)."""
        if not node._allow_expand:
            return node._label.cell_len
        icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        return cell_len(icon) + node._label.cell_len

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
