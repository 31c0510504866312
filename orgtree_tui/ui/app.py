"""OrgTreeApp: the main screen, the crawl workers and what their news does to the widgets.

Threads: each organization's crawl runs in a Textual thread worker and reaches the UI only
through messages posted by its `CrawlBridge`; the UI thread never waits on AWS. User actions
(filter, export, copy, help, console, profiles) live in `actions.py`; the warm start from the
cache in `warm_start.py`.
"""

from __future__ import annotations

import gc
import itertools
import math
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Tree
from textual.worker import Worker, WorkerState

from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.filtering import NO_MATCHES
from orgtree_tui.forest import Forest
from orgtree_tui.identity import CallerIdentity
from orgtree_tui.records import DetailState
from orgtree_tui.source import DEMO_LABEL
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui import keys
from orgtree_tui.ui.bridge import CrawlBridge
from orgtree_tui.ui.messages import (
    CallerKnown,
    CrawlCouldNotStart,
    CrawlStarted,
)
from orgtree_tui.ui.org_slot import OrgSlot, combined_state
from orgtree_tui.ui.screens.error import ErrorScreen, describe_error
from orgtree_tui.ui.session import CrawlSession, SessionClosed
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.warm_start import FINISHED, WarmStart
from orgtree_tui.ui.widgets.details import DetailsPane
from orgtree_tui.ui.widgets.filter_bar import FilterBar
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.ui.widgets.status_bar import StatusBar

DRAIN_INTERVAL = 0.05  # at most 20 tree updates a second, however fast the crawl
MAX_DRAIN_INTERVAL = 0.25
BIG_TREE = 20_000  # nodes from which drains are spaced out the most
FREEZE_FROM = 10_000  # nodes
STATUS_INTERVAL = 0.25
NOTHING_CRAWLED = "nothing crawled · r tries again"
KEY_PAUSE = 0.15  # seconds without a key before news from the crawl is drawn
KEYS_HOLD_DRAINS_FOR = 1.0  # at most: the tree still grows while keys keep coming
DETAILS_DELAY = 0.1  # a cursor racing down the tree should not queue a fetch per node
COMPACT_FOOTER_BELOW = 110  # columns


class OrgTreeApp(WarmStart):
    CSS_PATH = "app.tcss"
    TITLE = "orgtree-tui"
    BINDINGS = keys.APP_BINDINGS

    def __init__(
        self,
        sources: Sequence[OrgSource],
        *,
        clock: Callable[[], float] = time.monotonic,
        frame_clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
        export_dir: Path | None = None,
        details_delay: float | None = DETAILS_DELAY,
        cache_ttl: timedelta | None = None,
        theme: str | None = None,
        pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None = None,
    ) -> None:
        """One organization per source. `pick_profiles` makes sources for profiles chosen
        in the profile picker (None: no picker). `clock` times the crawls for the status
        line; `frame_clock` paces drains and key pauses (tests step it by hand)."""
        super().__init__()
        self.clock = clock
        self.frame_clock = frame_clock
        self.today = today
        self.export_dir = export_dir
        self.details_delay = details_delay  # None: never ask for details (stable snapshots)
        self.cache_ttl = cache_ttl
        self.wanted_theme = theme
        self.pick_profiles = pick_profiles
        self._generations = itertools.count(1)
        self.slots = [self._slot(source) for source in sources]
        for slot in self.slots:
            self.prefetch_cache(slot)
        self.model: TreeView = self._combined_model()
        self.filter_text = ""
        self.matches = NO_MATCHES
        self._last_drain = -math.inf  # frame_clock() at the last drain and the last key
        self._last_key = -math.inf
        self._drain_cost = 0.0  # how long the last drain took
        self._next_freeze = FREEZE_FROM
        self._drain_scheduled = False
        self._details_timer: Timer | None = None
        self._details_wanted: str | None = None  # the node the details pane should show
        self._details_pending = False
        self._error_screen: ErrorScreen | None = None
        self._saves = []
        # Held, not queried: while a dialog is up, queries search the dialog's screen.
        self.org_tree = OrgTreeView(self.model, id="tree")
        self.details = DetailsPane(id="details")
        self.details.will_fetch = self._will_fetch
        self.filter_bar = FilterBar(id="filter")
        self.status_bar = StatusBar(id="status")

    def _slot(self, source: OrgSource) -> OrgSlot:
        session = CrawlSession(source.open, source.options)
        return OrgSlot(
            session,
            source.label,
            source.cache_source,
            source.profile,
            generation=next(self._generations),  # a cache load started now carries it
            started=self.clock(),
        )

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

    def showing_demo(self) -> bool:
        return any(slot.label == DEMO_LABEL for slot in self.slots)

    @property
    def state(self) -> str:
        return combined_state(self.slots)

    @property
    def outcome(self) -> CrawlOutcome | None:
        return self.slots[0].outcome

    @property
    def stats(self) -> CrawlStats:
        return self.slots[0].stats

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            yield self.org_tree
            yield self.details
        yield self.filter_bar
        yield self.status_bar
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        # Below this width the footer's main keys fit only without the padding.
        self.query_one(Footer).compact = event.size.width < COMPACT_FOOTER_BELOW

    def on_mount(self) -> None:
        self._apply_theme()
        self._fit_status_bar()
        self.org_tree.set_placeholder("connecting...")
        self.org_tree.focus()
        self.set_interval(STATUS_INTERVAL, self.refresh_status)
        for slot in self.slots:
            self.open_slot(slot)

    def _apply_theme(self) -> None:
        if self.wanted_theme is None:
            return
        if self.wanted_theme in self.available_themes:
            self.theme = self.wanted_theme
            return
        names = ", ".join(sorted(self.available_themes))
        self.notify(
            f"Unknown theme {visible(self.wanted_theme)!r} in the settings; themes: {names}",
            severity="warning",
            markup=False,
        )

    def _fit_status_bar(self) -> None:
        """One status line per organization; the filter bar sits just above them."""
        lines = len(self.slots)
        self.status_bar.styles.height = lines
        self.filter_bar.styles.margin = (0, 0, lines + 1, 0)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from keys.palette_commands(self, self.org_tree, OrgTreeView.BINDINGS)

    # -- the crawls ------------------------------------------------------------------------

    def start_crawl(self) -> None:
        for slot in self.slots:
            self.crawl_slot(slot)

    def crawl_slot(self, slot: OrgSlot) -> None:
        if slot.crawl_requested:  # news from the crawl this one replaces is now stale
            slot.generation = next(self._generations)
        slot.crawl_requested = True
        if slot.bridge is not None:
            slot.bridge.close()
            slot.bridge = None
        slot.session.cancel()
        slot.keep_on_screen(self.clock())
        slot.state, slot.outcome, slot.stats = "connecting", None, CrawlStats()
        slot.started, slot.ended = self.clock(), None
        self.refresh_status()
        self._crawl(slot.session, slot.generation)

    def resume_crawl(self) -> bool:
        """Carry on with every crawl that stopped (say, on expired credentials), keeping all
        they found. False when there is nothing to resume."""
        stopped = [s for s in self.slots if s.resumable and s.outcome is not None]
        for slot in stopped:
            crawler = slot.crawler
            assert crawler is not None
            slot.state, slot.outcome, slot.ended = slot.crawling_state(), None, None
            self._resume(slot.session, crawler, slot.generation)
        self.refresh_status()
        return bool(stopped)

    # Crawl and identity workers report through messages carrying the slot's generation
    # (handled below, one handler per message type); the crawl's own news comes through
    # its bridge. Their return values and names are never looked at.

    @work(thread=True, group="crawl", exit_on_error=False)
    def _resume(self, session: CrawlSession, crawler: Crawler, generation: int) -> None:
        """Worker thread: read the credentials again (a new login), then carry on."""
        try:
            session.renew_client(crawler)
            crawler.resume()
        except Exception as exc:  # the crawl itself reports through its bridge
            self.post_message(CrawlCouldNotStart(generation, exc))

    @work(thread=True, group="crawl", exit_on_error=False)
    def _crawl(self, session: CrawlSession, generation: int) -> None:
        """Worker thread: open the source, announce the crawler, run it to the end."""
        try:
            crawler = session.new_crawler()
            bridge = CrawlBridge(crawler, self, generation)
            source = session.source
            label = source.label if source is not None else ""
            self.post_message(CrawlStarted(generation, crawler, bridge, label))
            crawler.run()
        except SessionClosed:
            return
        except Exception as exc:
            self.post_message(CrawlCouldNotStart(generation, exc))

    def slot_for(self, generation: int) -> OrgSlot | None:
        return next((s for s in self.slots if s.generation == generation), None)

    def on_crawl_started(self, message: CrawlStarted) -> None:
        slot = self.slot_for(message.generation)
        if slot is None:
            message.bridge.close()
            return
        slot.crawler, slot.bridge = message.crawler, message.bridge
        slot.label = slot.label or message.source_label
        slot.state = slot.crawling_state()
        slot.started = self.clock()
        if slot.shown_cache is None:  # else the cached tree stays until the refresh ends
            self.show_model(placeholder="crawling...")
        self._update_header()
        self.refresh_status()
        self._who(slot.session, slot.generation)

    @work(thread=True, group="identity", exit_on_error=False)
    def _who(self, session: CrawlSession, generation: int) -> None:
        """Worker thread: the caller for the header; nothing if STS will not say."""
        source = session.source
        caller: CallerIdentity | None = None
        if source is not None:
            try:
                caller = source.caller_identity()
            except Exception:  # the header goes without it; the crawl says what is wrong
                caller = None
        self.post_message(CallerKnown(generation, caller))

    def on_caller_known(self, message: CallerKnown) -> None:
        slot = self.slot_for(message.generation)
        if slot is None:
            return
        slot.caller_checked = True
        if message.caller is not None:
            slot.caller = message.caller
            self._update_header()

    def on_crawl_could_not_start(self, message: CrawlCouldNotStart) -> None:
        slot = self.slot_for(message.generation)
        if slot is None:
            return
        slot.state = CrawlState.FAILED.value
        slot.ended = self.clock()
        self.refresh_status()
        self.org_tree.set_placeholder(NOTHING_CRAWLED)  # the message says why
        title = "Could not connect" + (f": {slot.name}" if len(self.slots) > 1 else "")
        self.show_error(title, describe_error(message.error))

    @on(CrawlBridge.NewsPending)
    def _crawl_news(self, message: CrawlBridge.NewsPending) -> None:
        if self.slot_for(message.generation) is None or self._drain_scheduled:
            return
        self._drain_scheduled = True
        self.call_later(self._drain_when_quiet)

    def _drain_interval(self) -> float:
        # Each drain costs a frame, and a frame of a big tree costs 20-70 ms: a big org
        # is drained less often (down to 4 a second at 20,000 nodes), so keys pressed
        # meanwhile do not queue behind one repaint after another.
        size_share = min(1.0, len(self.model) / BIG_TREE)
        interval = DRAIN_INTERVAL + (MAX_DRAIN_INTERVAL - DRAIN_INTERVAL) * size_share
        return max(interval, 3 * self._drain_cost)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = self.frame_clock()
        await super().on_event(event)

    async def _drain_when_quiet(self) -> None:
        """Drain when the interval since the last drain has passed and no key came just
        now: a drain right after a key would hold up that key's repaint. While someone is
        walking the tree, drains wait for a pause in the keys, but never more than
        KEYS_HOLD_DRAINS_FOR after the last one. Every decision is on `frame_clock`; the
        timers only bring the next look."""
        now = self.frame_clock()
        since_drain = now - self._last_drain
        wait = self._drain_interval() - since_drain
        if wait <= 0 and now - self._last_key < KEY_PAUSE:
            wait = min(KEY_PAUSE - (now - self._last_key), KEYS_HOLD_DRAINS_FOR - since_drain)
        if wait > 0:
            self.set_timer(max(wait, 0.01), self._drain_when_quiet)
            return
        await self._drain()

    @on(CrawlBridge.Progress)
    def _crawl_progress(self, message: CrawlBridge.Progress) -> None:
        slot = self.slot_for(message.generation)
        if slot is not None:
            slot.stats = message.stats

    @on(CrawlBridge.Finished)
    async def _crawl_finished(self, message: CrawlBridge.Finished) -> None:
        slot = self.slot_for(message.generation)
        if slot is None:
            return
        await self._drain()  # everything found before the end shows before the end state
        outcome = message.outcome
        slot.outcome, slot.stats = outcome, outcome.stats
        slot.state = outcome.state.value
        slot.ended = self.clock()
        crawler = slot.crawler
        if crawler is not None and slot.shown_cache is not None and outcome.state in FINISHED:
            await self.show_refresh(slot, crawler.tree)
        flagged, slot.flagged = slot.flagged, set(outcome.incomplete)
        self.org_tree.refresh_labels(flagged | slot.flagged)
        self.details.show(self.model, self.details.node_id)
        self.refresh_status()
        if crawler is not None:
            self.save_cache(slot, crawler.tree, outcome)
        if not len(self.model):
            self.org_tree.set_placeholder(NOTHING_CRAWLED)  # not "crawling..." forever
        if outcome.state is CrawlState.FAILED:
            title = "The crawl stopped" + (f": {slot.name}" if len(self.slots) > 1 else "")
            self.show_error(title, outcome.message, self._stopped_advice(slot))

    def _stopped_advice(self, slot: OrgSlot) -> str:
        if not slot.resumable:
            return ""
        if slot.shown_cache is not None:
            kept = "The tree from before stays on screen."
        else:
            kept = "What was found stays on screen; branches not listed yet are marked."
        resume = "resume them all" if len(self.slots) > 1 else "resume"
        return f"{kept} Press r to {resume} once this is fixed."

    async def _drain(self) -> None:
        self._drain_scheduled = False
        self._last_drain = self.frame_clock()
        nodes, details, incomplete, organization = [], set(), set(), False
        for slot in self.slots:
            if slot.bridge is None:
                continue
            news = slot.bridge.drain()
            organization = organization or news.organization is not None
            if slot.shown_cache is not None:
                continue  # a refresh: its tree replaces the cached one when it is complete
            nodes.extend(news.nodes)
            details |= news.details
            incomplete |= news.incomplete
        if organization:
            self._update_header()
        if organization or any(n.parent_id is None for n in nodes):
            # An organization drained before its root would leave the root unnamed.
            self._name_roots()
        if not (nodes or details or incomplete):
            return
        tree = self.org_tree
        await tree.add_nodes(nodes)
        self._settle_memory()
        tree.refresh_labels(incomplete)
        if nodes or details:
            self.filter_news(nodes, details)
        shown = self.details.node_id
        arrived_under = any(n.parent_id == shown for n in nodes)  # its direct count moved
        force = shown in details or shown in incomplete or arrived_under
        self.details.refresh_if_changed(self.model, force=force)
        self._drain_cost = self.frame_clock() - self._last_drain

    def _settle_memory(self) -> None:
        """Each time the tree doubles past 10,000 nodes, move what exists to the garbage
        collector's permanent generation: the model is long-lived, and full collections
        that walk all of it again and again stall the screen for 100-200 ms at 50,000."""
        if len(self.model) >= self._next_freeze:
            gc.freeze()
            self._next_freeze = 2 * len(self.model)

    # -- what is on screen -----------------------------------------------------------------

    def _combined_model(self) -> TreeView:
        if len(self.slots) == 1:
            return self.slots[0].tree
        return Forest([s.tree for s in self.slots])

    def show_model(self, *, placeholder: str = "") -> None:
        """Show what the slots hold now (after a crawl starts, a cache loads or a refresh
        ends), keeping what was expanded and selected."""
        self.model = self._combined_model()
        self.org_tree.reset_model(self.model, placeholder=placeholder)
        self._name_roots()
        self.filter_forget_model()

    def _name_roots(self) -> None:
        """With several organizations, each root says which one it is."""
        if len(self.slots) > 1:
            notes = {r.id: slot.name for slot in self.slots for r in slot.tree.roots()}
            self.org_tree.set_root_notes(notes)

    def _will_fetch(self, node_id: str) -> bool:
        """A crawler asked for details fetches them, even after its crawl ended; a cached
        tree shown without a crawl has no one to fetch them."""
        slot = self.slot_of(node_id)
        return slot is not None and slot.crawler is not None

    def slot_of(self, node_id: str) -> OrgSlot | None:
        return next((s for s in self.slots if node_id in s.tree), None)

    def is_complete(self, node_id: str) -> bool:
        """Whether an export of this subtree holds everything below it."""
        slot = self.slot_of(node_id)
        outcome = slot.outcome if slot is not None else None
        return (
            outcome is not None
            and outcome.state is CrawlState.COMPLETE
            and not self.model.incomplete_under(node_id)
        )

    def refresh_status(self) -> None:
        now = self.clock()
        named = len(self.slots) > 1
        self.status_bar.show([slot.status(now, named=named) for slot in self.slots])
        if any(slot.shown_cache is not None for slot in self.slots):
            self._update_header()  # the cached tree's age goes on ticking

    def _update_header(self) -> None:
        if len(self.slots) > 1:
            names = [s.name for s in self.slots]
            self.sub_title = f"{len(self.slots)} organizations: " + ", ".join(names)
            return
        slot = self.slots[0]
        org = slot.tree.organization
        label = slot.label or (slot.shown_cache.source if slot.shown_cache else "")
        parts = [label]
        if org is not None:
            parts = [org.id, f"management {org.management_account_id}", label]
        if slot.caller is not None:
            # The account is the management account already shown; the principal is news.
            parts.append(f"as {slot.caller.arn.split(':', 5)[-1]}")
        parts.append(slot.cache_note())
        self.sub_title = visible(" · ".join(p for p in parts if p))

    # -- selection -------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        node_id = event.node.data
        if node_id is None or node_id == self._details_wanted:
            return
        # The cursor's move is painted first; the details (a re-layout) in the frame after,
        # and only for where the cursor ended up when keys come fast.
        self._details_wanted = node_id
        if not self._details_pending:
            self._details_pending = True
            self.call_after_refresh(self._show_wanted_details)
        if self._details_timer is not None:
            self._details_timer.stop()
        if self.details_delay is not None:
            fetch = partial(self._want_details, node_id)
            self._details_timer = self.set_timer(self.details_delay, fetch)

    def _show_wanted_details(self) -> None:
        self._details_pending = False
        if self._details_wanted != self.details.node_id:
            self.details.show(self.model, self._details_wanted)

    def _want_details(self, node_id: str) -> None:
        """Tags or policies not fetched yet: ask for them ahead of everything queued."""
        slot = self.slot_of(node_id)
        crawler = slot.crawler if slot is not None else None
        if crawler is None or node_id != self.org_tree.cursor_id:
            return
        details = self.model.details(node_id)
        if DetailState.PENDING in (details.tags_state, details.policies_state):
            crawler.request_details(node_id)  # only queues tasks: never blocks on AWS

    # -- workers and errors ----------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Exports and cache saves belong to no slot: they report as workers. The event's
        own state is used (the worker's may have moved on since it was posted)."""
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        worker = event.worker
        if worker.group == "export":
            self.export_done(worker)
        elif worker.group == "cache-save":
            self.cache_saved(worker)

    def show_error(self, title: str, message: str, advice: str = "") -> None:
        """One error screen at a time: a problem arriving while it is up joins it."""
        screen = self._error_screen
        if screen is not None and screen in self.screen_stack:
            screen.add(title, message, advice)
            return
        self._error_screen = ErrorScreen(title, message, advice)
        self.push_screen(self._error_screen, self._error_choice)

    def _error_choice(self, choice: str | None) -> None:
        self._error_screen = None
        if choice == "retry":
            self.retry_failed()
        elif choice == "quit":
            self.action_quit_now()

    def retry_failed(self) -> None:
        """r on the error screen: resume every crawl that stopped, connect again every
        organization that could not connect; crawl everything again if neither."""
        resumed = self.resume_crawl()
        unopened = [s for s in self.slots if s.state == CrawlState.FAILED.value and not s.resumable]
        for slot in unopened:
            self.crawl_slot(slot)
        if not (resumed or unopened):
            self.start_crawl()

    async def action_quit(self) -> None:
        self.action_quit_now()

    def action_quit_now(self) -> None:
        """Cancel the crawls first: their threads must be gone for the process to end."""
        for slot in self.slots:
            if slot.bridge is not None:
                slot.bridge.close()
            slot.session.cancel()
        self.exit(0)

    def current_profiles(self) -> tuple[str, ...]:
        return tuple(p for s in self.slots if (p := s.profile) is not None)

    def switch_sources(self, sources: list[OrgSource]) -> None:
        """Crawl other organizations instead (the profile picker's choice)."""
        old, self.slots = self.slots, [self._slot(source) for source in sources]
        for slot in self.slots:
            self.prefetch_cache(slot)
        for slot in old:
            if slot.bridge is not None:
                slot.bridge.close()
            slot.session.cancel()
        # Closing may stop a local server or wait on a socket: not on the UI thread.
        self.run_worker(partial(_close_all, old), group="close", thread=True)
        self.details.show(self.model, None)
        self.show_model(placeholder="connecting...")
        self._fit_status_bar()
        self._update_header()
        for slot in self.slots:
            self.open_slot(slot)

    def close_sessions(self) -> None:
        for slot in self.slots:
            slot.session.close()

    def on_unmount(self) -> None:
        for slot in self.slots:
            slot.session.cancel()


def _close_all(slots: list[OrgSlot]) -> None:
    for slot in slots:
        slot.session.close()
