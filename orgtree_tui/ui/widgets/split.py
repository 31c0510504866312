"""The tree and the details pane side by side, the tree as wide as its longest line.

A fixed 3:2 split kept some 70 columns of a 120-column tree mostly empty while the details
folded emails and tag keys. The tree's lines (Textual's Tree measures them into
`virtual_size`) say what it needs; within bounds, it gets that and the details the rest.
"""

from __future__ import annotations

from textual.containers import Horizontal
from textual.geometry import Size
from textual.widget import Widget

TREE_MIN = 30  # columns: a name and an account id
DETAILS_MIN = 36  # columns: a key, an ARN folded in two or three lines
TREE_SHARE_MAX = 0.6  # of the row: a deep, long-named branch does not take it all
EXTRA = 5  # the tree's padding (2), its border (1) and a vertical scrollbar (2)


def tree_width(content: int, row: int) -> int:
    """The tree's columns for lines `content` cells wide in a row `row` columns wide."""
    most = max(TREE_MIN, min(int(row * TREE_SHARE_MAX), row - DETAILS_MIN))
    return max(TREE_MIN, min(content + EXTRA, most))


class Split(Horizontal):
    def __init__(self, tree: Widget, details: Widget, *, id: str | None = None) -> None:
        super().__init__(tree, details, id=id)
        self.org_tree = tree

    def on_mount(self) -> None:
        self.watch(self.org_tree, "virtual_size", self._lines_measured, init=False)

    def on_resize(self) -> None:
        self.fit()

    def _lines_measured(self, old: Size, new: Size) -> None:
        if new.width != old.width:
            self.fit()

    def fit(self) -> None:
        row = self.size.width
        if not row:
            return  # not laid out yet: the first resize fits it
        content = self.org_tree.virtual_size.width
        width = tree_width(content, row)
        current = self.org_tree.styles.width
        if current is None or current.cells != width:
            self.org_tree.styles.width = width
