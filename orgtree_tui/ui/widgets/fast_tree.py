"""FastTree: Textual's Tree with the private parts this app relies on, all in one place.

Checked against Textual 5.0.0 and 8.2.8 (the oldest and newest releases pyproject.toml
allows; see README, Development, "Dependencies"). A Textual upgrade that changes any of
these shows here first: `Tree._invalidate`, `Tree._clear_line_cache`, `Tree._updates`,
`Tree._tree_nodes`, `Tree._build` (copied here, recursion made a loop), `_TreeLine`,
`TreeNode._reset`, `TreeNode._children`, `TreeNode._line`, `Widget._scroll_update`, and
that reading
`Tree.last_line` rebuilds the lines built lazily (and with them `TreeNode.line` and the
cursor's line).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from rich.cells import cell_len
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Tree
from textual.widgets._tree import _TreeLine
from textual.widgets.tree import TreeNode

FREE_SLICE = 500  # old widget nodes and lines freed between yields


class FastTree(Tree[str]):
    # A new line count is a repaint, not a layout of the whole screen (Textual's is a
    # layout: every widget rendered again at each filter keystroke). `_build` updates the
    # scrollbars as a layout would; one appearing or going still asks for a layout.
    virtual_size = Reactive(Size(0, 0), layout=False)

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
        # What a `clear` let go, freed a slice at a time: lines first, then nodes from
        # the top down, so that each one dropped is freed then (a parent goes with its
        # last child), never a whole big OU's worth at once.
        self._doomed: list[object] = []
        self._freeing = False

    def clear(self) -> Self:
        """Textual's `clear` leaves every old node in `_tree_nodes` until a new node takes
        its id, and each old node is a parent <-> children cycle that only a full garbage
        collection frees. A filter rebuilds the tree at every keystroke: the old nodes
        piled up for the collector, and its full passes (30-60 ms on a 50,000-node org)
        landed in keystrokes. Freed at once instead, they cost the keystroke 5 ms for
        10,000 nodes and 34 ms for the 50,000 of an OU opened with `e`: here their cycles
        are broken and they are freed FREE_SLICE at a time between yields to the loop."""
        nodes, lines = self._tree_nodes, self._tree_lines_cached or []
        self._tree_nodes = {}
        super().clear()
        self._tree_nodes[self.root._id] = self.root
        self._doomed[:0] = reversed(list(nodes.values()))  # popped from the end
        self._doomed.extend(reversed(lines))
        if not self.is_running:
            self._free(len(self._doomed))  # not mounted, or unmounting: no worker runs
        elif not self._freeing:
            self.run_worker(self._let_go(), group="let-go")
            self._freeing = True
        return self

    async def _let_go(self) -> None:
        try:
            while self._doomed:
                await asyncio.sleep(0)
                self._free(FREE_SLICE)
        finally:
            self._freeing = False

    def _free(self, count: int) -> None:
        doomed = self._doomed
        for _ in range(min(count, len(doomed))):
            gone = doomed.pop()
            if isinstance(gone, TreeNode):
                gone._children = []

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
        size = Size(width, len(lines))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)
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
