"""OrgTreeApp: the main screen, the crawl workers and what their news does to the widgets.

Threads: each organization's crawl runs in a Textual thread worker and reaches the UI only
through messages posted by its `CrawlBridge`; the UI thread never waits on AWS. User actions
(filter, export, copy, help, console, profiles) live in `actions.py`; the warm start from the
cache in `warm_start.py`.
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Tree
from textual.worker import Worker, WorkerState

from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.exporters.escape import visible
from orgtree_tui.filtering import NO_MATCHES
from orgtree_tui.forest import Forest
from orgtree_tui.identity import CallerIdentity
from orgtree_tui.model import DetailState, OrgTree
from orgtree_tui.source import DEMO_LABEL
from orgtree_tui.ui import keys
from orgtree_tui.ui.bridge import CrawlBridge
from orgtree_tui.ui.messages import CrawlFinished, CrawlNewsPending, CrawlProgress, CrawlStarted
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
        today: Callable[[], date] = date.today,
        export_dir: Path | None = None,
        details_delay: float | None = DETAILS_DELAY,
        cache_ttl: timedelta | None = None,
        theme: str | None = None,
        pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None = None,
    ) -> None:
        """One organization per source. `pick_profiles` makes sources for profiles chosen
        in the profile picker (None: no picker)."""
        super().__init__()
        self.clock = clock
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
        self.model: OrgTree = self._combined_model()
        self.filter_text = ""
        self.matches = NO_MATCHES
        self._last_drain = 0.0
        self._last_key = 0.0
        self._drain_cost = 0.0  # how long the last drain took
        self._next_freeze = FREEZE_FROM
        self._drain_scheduled = False
        self._details_timer: Timer | None = None
        self._details_wanted: str | None = None  # the node the details pane should show
        self._details_pending = False
        # Held, not queried: while a dialog is up, queries search the dialog's screen.
        self.org_tree = OrgTreeView(self.model, id="tree")
        self.details = DetailsPane(id="details")
        self.details.will_fetch = self._will_fetch
        self.filter_bar = FilterBar(id="filter")
        self.status_bar = StatusBar(id="status")

    def _slot(self, source: OrgSource) -> OrgSlot:
        session = CrawlSession(source.open, source.options)
        return OrgSlot(
            session, source.label, source.cache_source, source.profile, started=self.clock()
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
        slot.generation = next(self._generations)
        if slot.bridge is not None:
            slot.bridge.close()
            slot.bridge = None
        slot.session.cancel()
        slot.keep_on_screen(self.clock())
        slot.state, slot.outcome, slot.stats = "connecting", None, CrawlStats()
        slot.started, slot.ended = self.clock(), None
        self.refresh_status()
        self.run_worker(
            partial(self._crawl, slot.session, slot.generation),
            name=f"crawl-{slot.generation}",
            group="crawl",
            thread=True,
            exit_on_error=False,
        )

    def resume_crawl(self) -> bool:
        """Carry on with every crawl that stopped (say, on expired credentials), keeping all
        they found. False when there is nothing to resume."""
        stopped = [s for s in self.slots if s.resumable and s.outcome is not None]
        for slot in stopped:
            crawler = slot.crawler
            assert crawler is not None
            slot.state, slot.outcome, slot.ended = slot.crawling_state(), None, None
            self.run_worker(
                partial(self._resume, slot.session, crawler),
                name=f"crawl-{slot.generation}",
                group="crawl",
                thread=True,
                exit_on_error=False,
            )
        self.refresh_status()
        return bool(stopped)

    @staticmethod
    def _resume(session: CrawlSession, crawler: Crawler) -> CrawlOutcome:
        """Worker thread: read the credentials again (a new login), then carry on."""
        session.renew_client(crawler)
        return crawler.resume()

    def _crawl(self, session: CrawlSession, generation: int) -> CrawlOutcome | None:
        """Worker thread: open the source, announce the crawler, run it to the end."""
        try:
            crawler = session.new_crawler()
        except SessionClosed:
            return None
        bridge = CrawlBridge(crawler, self, generation)
        source = session.source
        label = source.label if source is not None else ""
        self.post_message(CrawlStarted(generation, crawler, bridge, label))
        return crawler.run()

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
        self.run_worker(
            partial(self._who, slot.session),
            name=f"identity-{slot.generation}",
            group="identity",
            thread=True,
            exit_on_error=False,
        )

    @staticmethod
    def _who(session: CrawlSession) -> CallerIdentity | None:
        """Worker thread: the caller for the header; nothing if STS will not say."""
        source = session.source
        if source is None:
            return None
        try:
            return source.caller_identity()
        except Exception:  # the header just goes without it; the crawl says what is wrong
            return None

    def on_crawl_news_pending(self, message: CrawlNewsPending) -> None:
        if self.slot_for(message.generation) is None or self._drain_scheduled:
            return
        self._drain_scheduled = True
        # Each drain costs a frame, and a frame of a big tree costs 20-70 ms: a big org
        # is drained less often (down to 4 a second at 20,000 nodes), so keys pressed
        # meanwhile do not queue behind one repaint after another.
        size_share = min(1.0, len(self.model) / BIG_TREE)
        interval = DRAIN_INTERVAL + (MAX_DRAIN_INTERVAL - DRAIN_INTERVAL) * size_share
        interval = max(interval, 3 * self._drain_cost)
        wait = self._last_drain + interval - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._drain_when_quiet)
        else:
            self.call_later(self._drain_when_quiet)  # Textual's timers divide by a zero delay

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = time.monotonic()
        await super().on_event(event)

    async def _drain_when_quiet(self) -> None:
        """A drain right after a key would hold up that key's repaint: while someone is
        walking the tree, drains wait for a pause in the keys, but never more than
        KEYS_HOLD_DRAINS_FOR after the last one."""
        now = time.monotonic()
        key_just_now = now - self._last_key < KEY_PAUSE
        if key_just_now and now - self._last_drain < KEYS_HOLD_DRAINS_FOR:
            self.set_timer(KEY_PAUSE, self._drain_when_quiet)
            return
        await self._drain()

    def on_crawl_progress(self, message: CrawlProgress) -> None:
        slot = self.slot_for(message.generation)
        if slot is not None:
            slot.stats = message.stats

    async def on_crawl_finished(self, message: CrawlFinished) -> None:
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
            self.show_error(title, self._stopped_message(slot, outcome))

    @staticmethod
    def _stopped_message(slot: OrgSlot, outcome: CrawlOutcome) -> str:
        if not slot.resumable:
            return outcome.message
        if slot.shown_cache is not None:
            kept = "The tree from before stays on screen."
        else:
            kept = "What was found stays on screen; branches not listed yet are marked."
        return f"{outcome.message}\n\n{kept} Press r to resume once this is fixed."

    async def _drain(self) -> None:
        self._drain_scheduled = False
        self._last_drain = time.monotonic()
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
        self._drain_cost = time.monotonic() - self._last_drain

    def _settle_memory(self) -> None:
        """Each time the tree doubles past 10,000 nodes, move what exists to the garbage
        collector's permanent generation: the model is long-lived, and full collections
        that walk all of it again and again stall the screen for 100-200 ms at 50,000."""
        if len(self.model) >= self._next_freeze:
            gc.freeze()
            self._next_freeze = 2 * len(self.model)

    # -- what is on screen -----------------------------------------------------------------

    def _combined_model(self) -> OrgTree:
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
        """The one place worker outcomes (and failures) are dealt with."""
        worker = event.worker
        if worker.group == "export":
            self.export_done(worker)
        elif worker.group in ("cache-load", "cache-save"):
            self.cache_worker_done(worker)
        elif worker.group == "identity" and worker.is_finished:
            slot = self.slot_for(int(worker.name.rpartition("-")[2]))
            if slot is None:
                return
            slot.caller_checked = True
            if isinstance(worker.result, CallerIdentity):
                slot.caller = worker.result
                self._update_header()
        elif worker.group == "crawl" and event.state is WorkerState.ERROR:
            slot = self.slot_for(int(worker.name.rpartition("-")[2]))
            if slot is None or worker.error is None:
                return
            slot.state = CrawlState.FAILED.value
            slot.ended = self.clock()
            self.org_tree.set_placeholder(NOTHING_CRAWLED)  # the message says why
            title = "Could not connect" + (f": {slot.name}" if len(self.slots) > 1 else "")
            self.show_error(title, describe_error(worker.error))

    def show_error(self, title: str, message: str) -> None:
        self.push_screen(ErrorScreen(title, message), self._error_choice)

    def _error_choice(self, choice: str | None) -> None:
        if choice == "retry" and not self.resume_crawl():
            self.start_crawl()
        elif choice == "quit":
            self.action_quit_now()

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
