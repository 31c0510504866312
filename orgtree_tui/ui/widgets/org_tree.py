"""The organization as a Textual Tree that grows while the crawl runs.

The private Tree parts it relies on are in FastTree (fast_tree.py). Widget nodes are built
lazily, harlequin-style: the children of a node exist only once it has
been expanded ("populated"); everything else stays in the model until then. New arrivals are
inserted at their sorted position (export order) under populated parents only, in chunks,
and the cursor keeps both its node and its row on screen while lines are inserted above it.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from orgtree_tui.filtering import FilterResult
from orgtree_tui.records import Counts, Node, NodeType
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.labels import LineMarks
from orgtree_tui.ui.widgets.fast_tree import FastTree, subtree_ids
from orgtree_tui.ui.widgets.tree_lines import SortKey, expandable, line_key, ous_below

CHUNK = 250  # nodes inserted between yields to the event loop
LOADING = "loading..."
EXPAND_FIRST = 2 * CHUNK  # lines expand-all adds at once: the OU's and its first sub-OU's
EXPAND_SLICE = 0.1  # seconds of expand-all between yields to the keys and the screen
FILTERED_FIRST = 40  # children a filtered branch shows at once; the rest follow in chunks
OPEN_FIRST = 20  # matches whose branches a filter opens (about a screenful); the rest when asked


class OrgTreeView(FastTree):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("l,right", "expand_node", "Expand", show=False),
        Binding("h,left", "collapse_or_parent", "Collapse / parent", show=False),
        Binding("space", "toggle_node", "Toggle", show=False),
        Binding("p", "go_parent", "Parent", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
        Binding("e", "expand_all_under", "Expand below"),
        Binding("c", "collapse_everything", "Collapse all"),
    ]

    def __init__(self, model: TreeView, *, id: str | None = None) -> None:
        super().__init__("organization", id=id)
        self.show_root = False
        self.guide_depth = 3
        self.model = model
        self._by_id: dict[str, TreeNode[str]] = {}
        self._placed: dict[str, tuple[str, SortKey]] = {}  # id -> (parent id, sort key)
        self._keys: dict[str, list[SortKey]] = {}  # parent id -> keys of placed children
        self._populated: set[str] = set()
        self._visible: set[str] | None = None  # None: no filter
        self.marks = LineMarks()
        self._expanded_before_filter: set[str] = set()
        self._want_expanded: set[str] = set()
        self._want_cursor: str | None = None
        self._placeholder: TreeNode[str] | None = None
        self._builds = 0  # bumped by every rebuild: a fill still running for an old one stops
        self._expansions = 0  # bumped by expand-all and collapse-all: an older one stops
        self.filling: set[str] = set()  # parents whose children are still being added

    # -- what the app asks -----------------------------------------------------------------

    def widget_node(self, node_id: str) -> TreeNode[str] | None:
        return self._by_id.get(node_id)

    def drawn_counts(self, node_id: str) -> Counts | None:
        """The counts the node's line shows now (None: no line, or an account's)."""
        return self.marks.drawn.get(node_id) if node_id in self._by_id else None

    def expanded_ids(self) -> set[str]:
        return {i for i, tn in self._by_id.items() if tn.is_expanded}

    def reset_model(self, model: TreeView, *, placeholder: str = "") -> None:
        """Show another crawl's model, keeping what was expanded and selected."""
        self._want_expanded = self.expanded_ids() | self._want_expanded
        self._want_cursor = self.cursor_id or self._want_cursor
        self.model = model
        self._rebuild()
        self.set_placeholder(placeholder)

    def set_placeholder(self, text: str) -> None:
        if self._placeholder is not None:
            self._placeholder.remove()
            self._placeholder = None
        if text and not self.root.children:
            self._placeholder = self.root.add_leaf(Text(text, style="dim italic"))

    async def add_nodes(self, nodes: Sequence[Node]) -> None:
        """Place what the crawl found; labels of their ancestors get the new counts."""
        if nodes:
            self.set_placeholder("")
        for start in range(0, len(nodes), CHUNK):
            with self.cursor_kept():
                for node in nodes[start : start + CHUNK]:
                    self._place(node)
            if start + CHUNK < len(nodes):
                await asyncio.sleep(0)  # let the screen and keys breathe
        touched: set[str] = set()
        for node in nodes:
            touched.update(a.id for a in self.model.ancestors(node.id))
        self.refresh_labels(touched)

    def refresh_labels(self, ids: set[str]) -> None:
        for node_id in ids:
            tn = self._by_id.get(node_id)
            node = self.model.get(node_id)
            if tn is not None and node is not None:
                tn.set_label(self.marks.label(self.model, node))
                if node.type is NodeType.ORGANIZATIONAL_UNIT:
                    opens = expandable(self.model, node)
                    if tn.allow_expand != opens:
                        tn.allow_expand = opens

    def mark_changes(self, changes: dict[str, str]) -> None:
        """Label what a refresh added, moved or renamed (an empty dict clears the marks)."""
        marks = self.marks
        before, marks.changes = set(marks.changes), dict(changes)
        self.refresh_labels(before | set(changes))

    @property
    def changes(self) -> dict[str, str]:
        return dict(self.marks.changes)

    def set_root_notes(self, notes: dict[str, str]) -> None:
        """Name each root's organization (with several organizations on screen)."""
        if notes != self.marks.root_notes:
            self.marks.root_notes = dict(notes)
            self.refresh_labels(set(notes))

    def change_of(self, node_id: str) -> str:
        return self.marks.changes.get(node_id, "")

    def cursor_record(self) -> Node | None:
        """The node the cursor is on, as the model has it (None: no cursor, or gone)."""
        node_id = self.cursor_id
        return self.model.get(node_id) if node_id else None

    def set_filter(self, result: FilterResult | None) -> None:
        """Show only the matches and their ancestors (None: everything again). The way down
        to the first OPEN_FIRST matches opens; other branches with matches stay closed
        until asked, so a query matching 50,000 accounts does not build 50,000 lines."""
        cursor = self.cursor_id
        if result is None:
            if self._visible is None:
                return
            self._visible, self.marks.matches = None, frozenset()
            self._want_expanded = self._expanded_before_filter
            if cursor is not None:
                self._want_expanded |= {a.id for a in self.model.ancestors(cursor)}
            self._want_cursor = cursor
        else:
            if self._visible is None:
                self._expanded_before_filter = self.expanded_ids()
            first = result.first(OPEN_FIRST)
            self._visible = result.shown()
            self.marks.matches = result.ids
            self._want_expanded = result.index.with_ancestors(first)
            keep = cursor is not None and cursor in self.marks.matches
            self._want_cursor = cursor if keep else (first[0] if first else None)
        self._rebuild()

    def grow_filter(self, result: FilterResult) -> None:
        """New matches while crawling: add them (and their ancestors) without a rebuild."""
        if self._visible is None:
            return
        index = result.index
        visible = result.shown()
        added = visible - self._visible
        newly_matched = result.ids - self.marks.matches
        self._visible, self.marks.matches = visible, result.ids
        self._want_expanded |= added & index.with_ancestors(result.first(OPEN_FIRST))
        with self.cursor_kept():
            for node_id in sorted(added, key=lambda i: len(index.path_key(i))):
                node = self.model.get(node_id)
                if node is not None:
                    self._place(node)
        self.refresh_labels(set(newly_matched))

    def reveal(self, node_id: str) -> bool:
        """Expand the way down to a node and put the cursor on it."""
        for ancestor in self.model.ancestors(node_id):
            tn = self._by_id.get(ancestor.id)
            if tn is None:
                return False
            self._expand(tn)
        target = self._by_id.get(node_id)
        node = self.model.get(node_id)
        if target is None and node is not None and node.parent_id in self._populated:
            self._place(node)  # its parent is still being filled in: jump the queue
            target = self._by_id.get(node_id)
        if target is None:
            return False
        self.build_lines()
        self.move_cursor(target)
        return True

    # -- actions ---------------------------------------------------------------------------

    def action_expand_node(self) -> None:
        tn = self.cursor_node
        if tn is None:
            return
        if tn.allow_expand and not tn.is_expanded:
            self._expand(tn)
        elif tn.is_expanded and tn.children:
            self.move_cursor(tn.children[0])

    def action_collapse_or_parent(self) -> None:
        tn = self.cursor_node
        if tn is None:
            return
        if tn.allow_expand and tn.is_expanded:
            tn.collapse()
        else:
            self.action_go_parent()

    def action_go_parent(self) -> None:
        tn = self.cursor_node
        if tn is not None and tn.parent is not None and tn.parent is not self.root:
            self.move_cursor(tn.parent)

    def action_expand_all_under(self) -> None:
        tn = self.cursor_node
        if tn is None or tn.data is None or not tn.allow_expand:
            self.app.bell()  # an account or an empty OU: nothing below to open
            return
        # Top down, a chunk of lines between yields: the first screenful shows at once and
        # keys still work while an OU of 50,000 opens (all at once took seconds).
        self._expansions += 1  # an expand-all still running for another OU stops
        ous = ous_below(self.model, tn.data)
        if self._expand_some(ous):
            self.run_worker(self._expand_all(ous), group="fill")

    def _expand_some(self, ous: Iterator[str], until: float | None = None) -> bool:
        """Open OUs in order until EXPAND_FIRST lines were added (or, given `until`, until
        that moment on the monotonic clock). True if some are left."""
        placed = 0
        with self.cursor_kept():  # once a slice: it lays out every line
            for ou in ous:
                tn = self._by_id.get(ou)
                if tn is None:
                    self._want_expanded.add(ou)  # its parent is still filling: opens as placed
                    continue
                if tn.is_expanded and ou in self._populated:
                    continue
                tn.expand()  # even an empty OU, as Textual's expand_all does
                self._populate(ou)
                placed += len(tn.children)
                if placed >= EXPAND_FIRST if until is None else time.monotonic() >= until:
                    return True
        return False

    async def _expand_all(self, ous: Iterator[str]) -> None:
        build, expansion, more = self._builds, self._expansions, True
        while more:
            await asyncio.sleep(0)
            if self._builds != build or self._expansions != expansion:
                return  # rebuilt meanwhile (a filter, a refresh), collapsed, or another one
            # Slices of time, not of lines: each slice ends in a repaint of every line,
            # so small slices of a 50,000-line tree would cost more in repaints than work.
            more = self._expand_some(ous, until=time.monotonic() + EXPAND_SLICE)

    def action_collapse_everything(self) -> None:
        """Collapse all but the roots; the cursor moves to what stays visible above it."""
        self._expansions += 1  # an expand-all still opening OUs stops
        cursor = self.cursor_id
        if cursor is not None:
            chain = [a.id for a in self.model.ancestors(cursor)] + [cursor]
            target = self._by_id.get(chain[1] if len(chain) > 1 else chain[0])
            if target is not None:
                self.move_cursor(target)
        for top in self.root.children:
            for child in top.children:
                child.collapse_all()

    @on(Tree.NodeExpanded)
    def _populate_on_expand(self, event: Tree.NodeExpanded[str]) -> None:
        if event.node.data is not None:
            with self.cursor_kept():
                self._populate(event.node.data)

    # -- building --------------------------------------------------------------------------

    def _rebuild(self) -> None:
        self._builds += 1
        self.filling.clear()
        self.clear()
        self.unselect()
        self._by_id, self._placed, self._keys = {}, {}, {}
        self._populated = {""}  # "" stands for the hidden root: org roots always show
        self._placeholder = None
        for root in self.model.roots():
            self._place(root)

    def _shown(self, node_id: str) -> bool:
        return self._visible is None or node_id in self._visible

    def _place(self, node: Node) -> None:
        parent_key = node.parent_id or ""
        key = line_key(self.model, node)
        placed = self._placed.get(node.id)
        if placed == (parent_key, key):
            self.refresh_labels({node.id})
            return
        if placed is not None:
            self._remove(node.id)  # moved or renamed: its sorted position changed
        if not self._shown(node.id) or parent_key not in self._populated:
            return
        parent = self.root if node.parent_id is None else self._by_id.get(parent_key)
        if parent is None:
            return
        keys = self._keys.setdefault(parent_key, [])
        index = bisect_left(keys, key)
        keys.insert(index, key)
        tn = parent.add(
            self.marks.label(self.model, node),
            node.id,
            before=index,
            allow_expand=expandable(self.model, node),
        )
        self._by_id[node.id] = tn
        self._placed[node.id] = (parent_key, key)
        if node.parent_id is None or node.id in self._want_expanded:
            self._expand(tn)
        if node.id == self._want_cursor:
            self._want_cursor = None
            self.build_lines()
            self.move_cursor(tn)
        elif self.cursor_line < 0 and node.parent_id is None:
            self.build_lines()
            self.move_cursor(tn)

    def _populate(self, node_id: str) -> None:
        """Add a parent's children: the first chunk at once, the rest in chunks after a
        "loading..." line, yielding to the event loop in between (an OU may hold 5,000)."""
        tn = self._by_id.get(node_id)
        if node_id in self._populated or tn is None:
            return
        self._populated.add(node_id)
        children = self.model.children(node_id)
        first = CHUNK
        if self._visible is not None:  # filtered: only what shows, a screenful at once
            children = [c for c in children if c.id in self._visible]
            first = FILTERED_FIRST
        for child in children[:first]:
            self._place(child)
        if len(children) > first:
            placeholder = tn.add_leaf(Text(LOADING, style="dim italic"))
            self.filling.add(node_id)
            self.run_worker(self._fill(node_id, children[first:], placeholder), group="fill")

    async def _fill(self, node_id: str, rest: list[Node], placeholder: TreeNode[str]) -> None:
        build, parent = self._builds, self._by_id.get(node_id)
        for start in range(0, len(rest), CHUNK):
            await asyncio.sleep(0)
            if self._builds != build or self._by_id.get(node_id) is not parent:
                return  # rebuilt, or the parent moved away meanwhile
            with self.cursor_kept():
                for child in rest[start : start + CHUNK]:
                    current = self.model.get(child.id)
                    if current is not None and current.parent_id == node_id:
                        self._place(current)
        self.filling.discard(node_id)
        placeholder.remove()

    def _expand(self, tn: TreeNode[str]) -> None:
        if tn.data is not None and tn.allow_expand:
            tn.expand()  # first, so a cursor placed while populating finds its line
            self._populate(tn.data)

    def _remove(self, node_id: str) -> None:
        tn = self._by_id.get(node_id)
        parent_key, key = self._placed[node_id]
        keys = self._keys.get(parent_key, [])
        index = bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]
        if tn is not None:
            for gone in subtree_ids(tn):
                self._by_id.pop(gone, None)
                self._placed.pop(gone, None)
                self._keys.pop(gone, None)
                self._populated.discard(gone)
            tn.remove()
