"""The organizations on screen: their slots, crawls, generations and cache loads. UI-free.

The controller decides; the screen renders what it decided and runs the work it asks for.
Work that blocks (opening a source, crawling, reading or writing the cache, asking STS who
the caller is) goes through `Runner`, which the main screen implements with Textual thread
workers; their results come back to the controller, through the screen, tagged with the
generation of the slot they were started for. No textual here: a test can make a
controller with a runner of its own and no app.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from orgtree_tui.cache import store as cache
from orgtree_tui.changes import Changes, refresh_changes
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.forest import Forest
from orgtree_tui.identity import CallerIdentity
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts
from orgtree_tui.source import DEMO_LABEL
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.news import NewsFeed
from orgtree_tui.ui.org_slot import OrgSlot, StatusLine, combined_state, header_text
from orgtree_tui.ui.session import CrawlSession
from orgtree_tui.ui.sources import OrgSource

FINISHED = (CrawlState.COMPLETE, CrawlState.INCOMPLETE)
STOPPED = (CrawlState.FAILED, CrawlState.CANCELLED)


class Runner(Protocol):
    """The work the controller asks for; each reports back with the generation given.
    What a call returns (a Textual worker, say) is not looked at."""

    def crawl(self, session: CrawlSession, generation: int) -> object: ...

    def resume(self, session: CrawlSession, crawler: Crawler, generation: int) -> object: ...

    def load_cache(
        self, generation: int, future: Future[cache.LoadResult] | None, source: str
    ) -> object: ...

    def find_caller(self, session: CrawlSession, generation: int) -> object: ...

    def save_cache(self, tree: OrgTree, source: str, *, complete: bool) -> object: ...


@dataclass(frozen=True)
class Refreshed:
    """A refresh replaced the tree on screen: what changed, and what to say about it."""

    slot: OrgSlot
    changes: Changes
    removed_names: list[str]  # up to three names of removed nodes, for the notification


class OrgController:
    def __init__(
        self,
        sources: Sequence[OrgSource],
        runner: Runner,
        *,
        clock: Callable[[], float] = time.monotonic,
        cache_ttl: timedelta | None = None,
    ) -> None:
        self.runner = runner
        self.clock = clock
        self.cache_ttl = cache_ttl
        self._generations = itertools.count(1)
        self.slots = [self._slot(source) for source in sources]
        self.cache_shown_at: float | None = None  # clock() when a cached tree first showed
        self.last_changes: Changes | None = None  # what the last refresh changed

    def _slot(self, source: OrgSource) -> OrgSlot:
        slot = OrgSlot(
            CrawlSession(source.open, source.options),
            source.label,
            source.cache_source,
            source.profile,
            generation=next(self._generations),  # a cache load started now carries it
            started=self.clock(),
        )
        self._prefetch_cache(slot)
        return slot

    # -- the first organization, for code and tests that know one ---------------------------

    @property
    def session(self) -> CrawlSession:
        return self.slots[0].session

    @property
    def crawler(self) -> Crawler | None:
        return self.slots[0].crawler

    @property
    def generation(self) -> int:
        return self.slots[0].generation

    @property
    def outcome(self) -> CrawlOutcome | None:
        return self.slots[0].outcome

    @property
    def stats(self) -> CrawlStats:
        return self.slots[0].stats

    @property
    def shown_cache(self) -> cache.CachedTree | None:
        """The first organization's cached tree, while it is on screen."""
        return self.slots[0].shown_cache

    # -- all of them ------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return combined_state(self.slots)

    @property
    def several(self) -> bool:
        return len(self.slots) > 1

    def showing_demo(self) -> bool:
        return any(slot.label == DEMO_LABEL for slot in self.slots)

    def model(self) -> TreeView:
        """What the slots hold now, as one tree view."""
        if len(self.slots) == 1:
            return self.slots[0].tree
        return Forest([s.tree for s in self.slots])

    def slot_for(self, generation: int) -> OrgSlot | None:
        return next((s for s in self.slots if s.generation == generation), None)

    def slot_of(self, node_id: str) -> OrgSlot | None:
        return next((s for s in self.slots if node_id in s.tree), None)

    def root_notes(self) -> dict[str, str]:
        """With several organizations, each root says which one it is."""
        if not self.several:
            return {}
        return {r.id: slot.name for slot in self.slots for r in slot.tree.roots()}

    def will_fetch(self, node_id: str) -> bool:
        """A crawler asked for details fetches them, even after its crawl ended; a cached
        tree shown without a crawl has no one to fetch them."""
        slot = self.slot_of(node_id)
        return slot is not None and slot.crawler is not None

    def crawler_of(self, node_id: str) -> Crawler | None:
        slot = self.slot_of(node_id)
        return slot.crawler if slot is not None else None

    def ran_to_end(self, node_id: str) -> bool:
        """Whether the tree on screen for this node's organization came from a crawl that
        ran to its end: an export of it lets the tree's gaps say what it lacks (a finished
        crawl without some tags is finished, not "not finished")."""
        slot = self.slot_of(node_id)
        if slot is None:
            return False
        if slot.shown_cache is not None:
            return cache.ran_to_end(slot.shown_cache)
        return slot.outcome is not None and slot.outcome.state in FINISHED

    def current_profiles(self) -> tuple[str, ...]:
        return tuple(p for s in self.slots if (p := s.profile) is not None)

    def status_lines(self, drawn: Callable[[str], Counts | None] | None = None) -> list[StatusLine]:
        """`drawn`: the counts the tree's lines show (see OrgSlot.status)."""
        now = self.clock()
        return [slot.status(now, named=self.several, drawn=drawn) for slot in self.slots]

    def header(self) -> str:
        """The header's subtitle: which organization, as whom, and how old the tree is."""
        return header_text(self.slots)

    def ticking(self) -> bool:
        """A cached tree's age is on screen: the header goes on changing."""
        return any(slot.shown_cache is not None for slot in self.slots)

    # -- starting, crawling, resuming -------------------------------------------------------

    def _prefetch_cache(self, slot: OrgSlot) -> None:
        """Start reading the cache at once, while Textual starts up: half of a warm start
        at 50,000 accounts is this read. A plain thread, for it starts before the app runs;
        the cache-load worker waits for its future."""
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

    def open_all(self) -> None:
        for slot in self.slots:
            self.open_slot(slot)

    def open_slot(self, slot: OrgSlot) -> None:
        """Start an organization: from its cache if it has one, else by crawling."""
        if slot.cache_source is None:
            self.crawl_slot(slot)
            return
        slot.state = "loading cache"
        self.runner.load_cache(slot.generation, slot.cache_future, slot.cache_source)

    def crawl_all(self) -> None:
        for slot in self.slots:
            self.crawl_slot(slot)

    def crawl_slot(self, slot: OrgSlot) -> None:
        again = slot.crawl_requested
        if again:  # news from the crawl this one replaces is now stale
            slot.generation = next(self._generations)
        slot.crawl_requested = True
        if slot.bridge is not None:
            slot.bridge.close()
            slot.bridge = None
        slot.session.cancel()
        slot.keep_on_screen(self.clock())
        slot.state, slot.outcome, slot.stats = "connecting", None, CrawlStats()
        if again:  # a new crawl counts from 0; the first goes on from the app's start
            slot.started = self.clock()  # (a warm start's cache load is part of it)
        slot.ended = None
        self.runner.crawl(slot.session, slot.generation)

    def resume_all(self) -> bool:
        """Carry on with every crawl that stopped (say, on expired credentials), keeping all
        they found. False when there is nothing to resume."""
        stopped = [s for s in self.slots if s.resumable and s.outcome is not None]
        for slot in stopped:
            crawler = slot.crawler
            assert crawler is not None
            slot.state, slot.outcome, slot.ended = slot.crawling_state(), None, None
            self.runner.resume(slot.session, crawler, slot.generation)
        return bool(stopped)

    def retry_failed(self) -> None:
        """r on the error screen: resume every crawl that stopped, connect again every
        organization that could not connect; crawl everything again if neither."""
        resumed = self.resume_all()
        unopened = [s for s in self.slots if s.state == CrawlState.FAILED.value and not s.resumable]
        for slot in unopened:
            self.crawl_slot(slot)
        if not (resumed or unopened):
            self.crawl_all()

    # -- what the workers found (UI thread) -------------------------------------------------

    def crawl_started(
        self, generation: int, crawler: Crawler, bridge: NewsFeed, source_label: str
    ) -> OrgSlot | None:
        """The slot now crawling; None (and the bridge closed) when it is gone."""
        slot = self.slot_for(generation)
        if slot is None:
            bridge.close()
            return None
        slot.crawler, slot.bridge = crawler, bridge
        slot.label = slot.label or source_label
        slot.state = slot.crawling_state()  # `started` stays: the time shown never goes back
        self.runner.find_caller(slot.session, slot.generation)
        return slot

    def caller_known(self, generation: int, caller: CallerIdentity | None) -> bool:
        """True when the header has news."""
        slot = self.slot_for(generation)
        if slot is None:
            return False
        slot.caller_checked = True
        if caller is None:
            return False
        slot.caller = caller
        return True

    def could_not_start(self, generation: int) -> OrgSlot | None:
        slot = self.slot_for(generation)
        if slot is not None:
            slot.state = CrawlState.FAILED.value
            slot.ended = self.clock()
        return slot

    def progress(self, generation: int, stats: CrawlStats) -> None:
        slot = self.slot_for(generation)
        if slot is not None:
            slot.stats = stats

    def finished(self, slot: OrgSlot, outcome: CrawlOutcome) -> set[str]:
        """Record a crawl's end; the ids whose incomplete mark may have changed."""
        slot.outcome, slot.stats = outcome, outcome.stats
        slot.state = outcome.state.value
        slot.ended = self.clock()
        flagged, slot.flagged = slot.flagged, set(outcome.incomplete)
        return flagged | slot.flagged

    def refresh_done(self, slot: OrgSlot) -> Refreshed | None:
        """A refresh ran to its end under a cached tree: its tree replaces the cached one."""
        shown, crawler, outcome = slot.shown_cache, slot.crawler, slot.outcome
        if shown is None or crawler is None or outcome is None or outcome.state not in FINISHED:
            return None
        changes = refresh_changes(shown.tree, crawler.tree)
        slot.shown_cache, self.last_changes = None, changes
        gone = [n.name for i in changes.removed[:3] if (n := shown.tree.get(i)) is not None]
        return Refreshed(slot, changes, gone)

    def stopped_advice(self, slot: OrgSlot) -> str:
        if not slot.resumable:
            return ""
        if slot.shown_cache is not None:
            kept = "The tree from before stays on screen."
        else:
            kept = "What was found stays on screen; branches not listed yet are marked."
        resume = "resume them all" if self.several else "resume"
        return f"{kept} Press r to {resume} once this is fixed."

    def cache_loaded(self, generation: int, result: cache.LoadResult) -> OrgSlot | None:
        """The slot whose cached tree is now on screen, or None: stale (the slot is gone
        or crawls already), or nothing usable in the cache (the slot crawls instead)."""
        slot = self.slot_for(generation)
        if slot is None or slot.state != "loading cache":
            return None
        cached = result.cached
        if cached is None or not len(cached.tree):
            self.crawl_slot(slot)
            return None
        slot.shown_cache, slot.shown_is_cache, slot.state = cached, True, "cached"
        if self.cache_shown_at is None:
            self.cache_shown_at = self.clock()
        return slot

    def refresh_if_needed(self, slot: OrgSlot) -> bool:
        """After a cached tree showed: crawl again unless it is complete and fresh."""
        cached = slot.shown_cache
        if cached is None or not cache.refresh_needed(cached, self.cache_ttl):
            return False
        self.crawl_slot(slot)
        return True

    def save_cache(self, slot: OrgSlot, outcome: CrawlOutcome) -> None:
        """Once per crawl, by the rule the CLI's export follows too (cache/store.py)."""
        crawler = slot.crawler
        if crawler is None or slot.cache_source is None:
            return
        if slot.saved_generation == slot.generation:
            return
        tree, finished = crawler.tree, outcome.state in FINISHED
        if not cache.worth_saving(
            tree, finished=finished, replaces_cached=slot.shown_cache is not None
        ):
            return
        slot.saved_generation = slot.generation
        complete = cache.saved_complete(tree, finished=finished)
        self.runner.save_cache(tree, slot.cache_source, complete=complete)

    # -- switching, quitting ----------------------------------------------------------------

    def switch(self, sources: Sequence[OrgSource]) -> list[OrgSlot]:
        """Other organizations instead (the profile picker's choice); the old slots are
        stopped and returned, for their sessions to be closed off the UI thread."""
        old, self.slots = self.slots, [self._slot(source) for source in sources]
        stop(old)
        return old

    def stop_all(self) -> None:
        """Cancel the crawls: their threads must be gone for the process to end."""
        stop(self.slots)

    def close_sessions(self) -> None:
        close(self.slots)


def stop(slots: list[OrgSlot]) -> None:
    for slot in slots:
        if slot.bridge is not None:
            slot.bridge.close()
        slot.session.cancel()


def close(slots: list[OrgSlot]) -> None:
    for slot in slots:
        slot.session.close()
