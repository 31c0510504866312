"""The tree and the details pane side by side, the tree as wide as its longest line.

A fixed 3:2 split kept some 70 columns of a 120-column tree mostly empty while the details
folded emails and tag keys. The tree's lines (Textual's Tree measures them into
`virtual_size`) say what it needs; within bounds, it gets that and the details the rest.
It only grows as lines get longer, until the terminal is resized: a split that narrowed at
each filter keystroke or collapse would jump about, and lay out and fold the details again
each time (that relayout was most of a filter keystroke's frame on a 50,000-node tree).
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
        self.fit(shrink=True)

    def _lines_measured(self, old: Size, new: Size) -> None:
        if new.width > old.width:
            self.fit()

    def fit(self, *, shrink: bool = False) -> None:
        row = self.size.width
        if not row:
            return  # not laid out yet: the first resize fits it
        content = self.org_tree.virtual_size.width
        width = tree_width(content, row)
        current = self.org_tree.styles.width
        if current is not None and not shrink:
            width = max(width, int(current.cells or 0))
        if current is None or current.cells != width:
            self.org_tree.styles.width = width
