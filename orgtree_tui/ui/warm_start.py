"""The cached tree shown at once, refreshed in the background, and what changed marked.

Loading and saving run in thread workers (50,000 nodes take about half a second either
way); everything here decides on the UI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from functools import partial

from textual import work
from textual.worker import Worker, WorkerState

from orgtree_tui.cache import store as cache
from orgtree_tui.changes import Changes, refresh_changes
from orgtree_tui.crawl.crawler import CrawlOutcome, CrawlState
from orgtree_tui.model import OrgTree
from orgtree_tui.text import visible
from orgtree_tui.ui.actions import UserActions
from orgtree_tui.ui.messages import CacheLoaded
from orgtree_tui.ui.org_slot import OrgSlot

FINISHED = (CrawlState.COMPLETE, CrawlState.INCOMPLETE)
STOPPED = (CrawlState.FAILED, CrawlState.CANCELLED)


class WarmStart(UserActions):
    slots: list[OrgSlot]
    clock: Callable[[], float]
    cache_ttl: timedelta | None
    cache_shown_at: float | None = None  # clock() when a cached tree first showed
    last_changes: Changes | None = None  # what the last refresh changed
    _saves: list[threading.Event]  # one per cache save started, set when it ended

    def crawl_slot(self, slot: OrgSlot) -> None:
        raise NotImplementedError

    def show_model(self, *, placeholder: str = "") -> None:
        raise NotImplementedError

    def _update_header(self) -> None:
        raise NotImplementedError

    def slot_for(self, generation: int) -> OrgSlot | None:
        raise NotImplementedError

    @property
    def shown_cache(self) -> cache.CachedTree | None:
        """The first organization's cached tree, while it is on screen."""
        return self.slots[0].shown_cache

    def prefetch_cache(self, slot: OrgSlot) -> None:
        """Start reading the cache at once, while Textual starts up: half of a warm start
        at 50,000 accounts is this read."""
        if slot.cache_source is None:
            return
        future: Future[cache.LoadResult] = Future()

        def load(source: str) -> None:
            try:
                future.set_result(cache.load(source))
            except BaseException as exc:  # handed to the worker that waits for it
                future.set_exception(exc)

        slot.cache_future = future
        threading.Thread(
            target=load, args=(slot.cache_source,), name="orgtree-cache-load", daemon=True
        ).start()

    def open_slot(self, slot: OrgSlot) -> None:
        """Start an organization: from its cache if it has one, else by crawling."""
        if slot.cache_source is None:
            self.crawl_slot(slot)
            return
        slot.state = "loading cache"
        self._load_cache(slot.generation, slot.cache_future, slot.cache_source)

    @work(thread=True, group="cache-load", exit_on_error=False)
    def _load_cache(
        self, generation: int, future: Future[cache.LoadResult] | None, source: str
    ) -> None:
        """Worker thread: the cached tree, tagged with the slot generation it was read for:
        by the time it arrives, a profile switch or an `r` may have replaced that slot."""
        try:
            result = future.result() if future is not None else cache.load(source)
        except Exception as exc:  # an unreadable cache is no reason not to crawl
            result = cache.LoadResult(None, warning=f"{type(exc).__name__}: {exc}")
        self.post_message(CacheLoaded(generation, result))

    def on_cache_loaded(self, message: CacheLoaded) -> None:
        slot = self.slot_for(message.generation)
        if slot is None or slot.state != "loading cache":
            return  # stale: that slot is gone, or it crawls already
        self._show_cached(slot, message.result)

    def cache_saved(self, worker: Worker[object]) -> None:
        if worker.state is WorkerState.ERROR:
            text = visible(str(worker.error))
            self.notify(text, title="Cache not saved", severity="warning", markup=False)

    def _show_cached(self, slot: OrgSlot, result: cache.LoadResult) -> None:
        if result.message is not None:
            self.notify(visible(result.message), severity="warning", markup=False, timeout=8)
        cached = result.cached
        if cached is None or not len(cached.tree):
            self.crawl_slot(slot)
            return
        slot.shown_cache, slot.shown_is_cache, slot.state = cached, True, "cached"
        self.show_model()
        if self.cache_shown_at is None:
            self.cache_shown_at = self.clock()
        self._update_header()
        self.refresh_status()
        if cache.refresh_needed(cached, self.cache_ttl):
            self.crawl_slot(slot)
        else:
            age = cache.age_text(cached.age)
            self.notify(f"Showing the tree cached {age} ago. Press r to crawl again.", timeout=5)

    async def show_refresh(self, slot: OrgSlot, tree: OrgTree) -> None:
        """A refresh is done: show its tree, mark what changed, say what changed."""
        shown = slot.shown_cache
        if shown is None:
            return
        changes = refresh_changes(shown.tree, tree)
        slot.shown_cache, self.last_changes = None, changes
        marks = {i: "new" for i in changes.added}
        marks.update({i: "moved" for i in changes.moved})
        marks.update({i: "renamed" for i in changes.renamed if i not in marks})
        self.org_tree.mark_changes({**self.org_tree.changes, **marks})
        self.show_model()
        self._update_header()
        gone = [n.name for i in changes.removed[:3] if (n := shown.tree.get(i)) is not None]
        more = " ..." if len(changes.removed) > len(gone) else ""
        removed = f" Removed: {', '.join(map(visible, gone))}{more}." if gone else ""
        title = "Refreshed" + (f" {slot.name}" if len(self.slots) > 1 else "")
        summary = changes.summary()
        self.notify(
            f"{summary[:1].upper()}{summary[1:]}.{removed}", title=title, markup=False, timeout=8
        )

    def save_cache(self, slot: OrgSlot, tree: OrgTree, outcome: CrawlOutcome) -> None:
        """Once per crawl. A stopped crawl's partial tree never replaces a cached one."""
        if slot.cache_source is None or slot.saved_generation == slot.generation:
            return
        if outcome.state in STOPPED and (slot.shown_cache is not None or not len(tree)):
            return
        slot.saved_generation = slot.generation
        save = partial(
            cache.save,
            tree,
            source=slot.cache_source,
            complete=outcome.state is CrawlState.COMPLETE,
            crawled_at=datetime.now(UTC),
        )
        saved = threading.Event()
        self._saves.append(saved)

        def save_and_say_so() -> object:
            try:
                return save()
            finally:
                saved.set()

        self.run_worker(
            save_and_say_so,
            name="cache-save",
            group="cache-save",
            thread=True,
            exit_on_error=False,
        )

    def wait_for_saves(self, timeout: float) -> bool:
        """After the app closed: let cache files being written finish (quitting may skip
        every other thread). True when none is left within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        return all(s.wait(max(0.0, deadline - time.monotonic())) for s in self._saves)
