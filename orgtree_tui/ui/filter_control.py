"""The `/` filter on screen: typing throttled, the index kept current, n/N stepping.

The index lives in the core (orgtree_tui/filtering.py) and is fed the crawl's news at each
drain; a keystroke costs one query of it. Keys typed faster than FILTER_INTERVAL are
filtered once for where the typing got to (first key at once, then at most one pass per
interval), so a burst of keys never queues a pass per key.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence

from textual.timer import Timer

from orgtree_tui.filtering import NO_MATCHES, FilterIndex, FilterResult
from orgtree_tui.records import Node
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.widgets.filter_bar import FilterBar
from orgtree_tui.ui.widgets.org_tree import OrgTreeView

FILTER_INTERVAL = 0.1  # seconds: at most one filter pass per this while keys come fast


class FilterControl:
    def __init__(
        self,
        tree: OrgTreeView,
        bar: FilterBar,
        model: Callable[[], TreeView],
        changed: Callable[[], None],
        set_timer: Callable[[float, Callable[[], None]], Timer],
    ) -> None:
        """`model`: what is on screen now; `changed`: called when the filter changed."""
        self.tree = tree
        self.bar = bar
        self.model = model
        self.changed = changed
        self.set_timer = set_timer
        self.text = ""
        self.matches: FilterResult = NO_MATCHES
        self.delay: float | None = FILTER_INTERVAL  # None: filter at every key (snapshots)
        self._index: FilterIndex | None = None
        self._timer: Timer | None = None
        self._last = -FILTER_INTERVAL  # when the last pass ran (time.monotonic)
        self.fixed = False  # the matches are a set given by `show_only`, not a query's

    def index(self) -> FilterIndex:
        """The index of what is on screen; built from the model once after the model is
        swapped (a cache shown, a refresh done), then kept current by `news`."""
        if self._index is None:
            self._index = FilterIndex.of(self.model())
        return self._index

    def forget_model(self) -> None:
        """Another model is on screen: the index is rebuilt when it is next needed."""
        self._index = None
        if self.fixed:
            self.clear()  # the set was of the tree that was replaced
        elif self.text:
            self.matches = self.index().query(self.text)
            self.tree.set_filter(self.matches)
            self.bar.show_matches(self.text, len(self.matches))

    def show_only(self, label: str, ids: Sequence[str]) -> None:
        """Filter to these nodes (a policy's reach), worked out elsewhere once: `label`
        stands for the query. n/N step through them and esc clears, as after `/`."""
        self._stop_timer()
        if self.bar.display:
            self.bar.close()  # what was typed is replaced, not kept half-applied
        index = self.index()
        known = [i for i in ids if i in index]
        self.text, self.fixed = label, True
        shown = index.with_ancestors(known)
        self.matches = FilterResult(label, frozenset(known), index, index.version, shown)
        cursor = self.tree.cursor_id
        self.tree.set_filter(self.matches)
        if cursor is not None and cursor in self.matches:
            # Opened from a node it applies to: stay there, even below the branches the
            # filter opens (the first matches').
            self.tree.reveal(cursor)
        self.tree.focus()
        self.changed()

    def news(self, nodes: Sequence[Node], details: set[str]) -> None:
        """The crawl's drained news goes into the index; an active filter grows with it."""
        index = self.index()
        index.add_many(nodes)
        model = self.model()
        for node_id, found in model.details_of(details).items():
            index.set_tags(node_id, found.tags)
        if any(n.parent_id is None for n in nodes):
            index.order_roots([r.id for r in model.roots()])
        # A set given by `show_only` (a reach) is no query: it does not grow.
        if self.text and not self.fixed and (nodes or details):
            self.matches = index.query(self.text)
            self.tree.grow_filter(self.matches)
            self.bar.show_matches(self.text, len(self.matches))

    def typed(self) -> None:
        """The bar's text changed."""
        if self._timer is not None:
            return  # a pass is due: it reads the bar's value when it runs
        wait = self._last + (self.delay or 0.0) - time.monotonic()
        if self.delay is None or wait <= 0:
            self.apply()
        else:
            self._timer = self.set_timer(wait, self.apply)

    def apply(self) -> None:
        self._stop_timer()
        if self.fixed and not self.bar.display:
            return  # the bar closing for `show_only`: the set given stays
        text = self.bar.value.strip() if self.bar.display else ""
        self._last = time.monotonic()
        if text == self.text:
            return
        self.text, self.fixed = text, False
        self.matches = self.index().query(text)
        self.tree.set_filter(self.matches if text else None)
        self.bar.show_matches(text, len(self.matches))
        self.changed()

    def clear(self) -> None:
        if not self.bar.display and not self.text:
            return
        self._stop_timer()
        self.bar.close()  # its Changed message clears the filter in the tree
        self.text, self.matches, self.fixed = "", NO_MATCHES, False
        self.tree.set_filter(None)
        self.tree.focus()
        self.changed()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def jump(self, step: int) -> bool:
        """The next (step 1) or previous (-1) match from the cursor; False if none."""
        if not self.matches:
            return False
        ordered = self.matches.ordered()
        current = self.tree.cursor_id
        if current is not None and current in self.matches:
            index = (ordered.index(current) + step) % len(ordered)
        else:
            # Matches are in display order: the first one past the cursor, or before it.
            key = self.matches.index.path_key
            here = bisect_left(ordered, key(current), key=key) if current is not None else 0
            index = here % len(ordered) if step > 0 else here - 1
        self.tree.reveal(ordered[index])
        return True
