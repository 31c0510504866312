"""The main screen: the tree, the details, the filter bar and the status lines, and the keys
that act on them.

It renders what the controller (ui/controller.py, UI-free) decided; the work the controller
asks for runs in the thread workers of ui/workers.py, whose messages bubble up to here (one
handler per message type). The crawl's own news comes through each crawl's bridge and is
drawn at the pace ui/pacing.py sets. What `x`, `y`, `o` and `P` do is in ui/screens/commands.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Tree

from orgtree_tui.cache import store as cache
from orgtree_tui.crawl.crawler import CrawlState
from orgtree_tui.export import FORMATS
from orgtree_tui.records import DetailState
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui import keys, on_screen
from orgtree_tui.ui.bridge import CrawlBridge
from orgtree_tui.ui.browser import browser_available, open_in_browser
from orgtree_tui.ui.controller import OrgController
from orgtree_tui.ui.filter_control import FilterControl
from orgtree_tui.ui.news import gather
from orgtree_tui.ui.on_screen import OnScreenDetails
from orgtree_tui.ui.pacing import DrainPacer
from orgtree_tui.ui.screens import commands
from orgtree_tui.ui.screens.error import OneErrorScreen, describe_error
from orgtree_tui.ui.screens.help import HelpScreen
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.widgets.copied_note import CopiedNote
from orgtree_tui.ui.widgets.details import DetailsPane
from orgtree_tui.ui.widgets.filter_bar import FilterBar
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.ui.widgets.split import Split
from orgtree_tui.ui.widgets.status_bar import StatusBar
from orgtree_tui.ui.workers import Workers

STATUS_INTERVAL = 0.25
NOTHING_CRAWLED = "nothing crawled · r tries again"
DETAILS_DELAY = 0.1  # a cursor racing down the tree should not queue a fetch per node
COMPACT_FOOTER_BELOW = 110  # columns


class MainScreen(Screen[None]):
    BINDINGS = keys.MAIN_BINDINGS

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
        pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None = None,
    ) -> None:
        super().__init__()
        self.pacer = DrainPacer(frame_clock)
        self.jobs = Workers(self.pacer.collector.wait_open)
        self.controller = OrgController(sources, self.jobs, clock=clock, cache_ttl=cache_ttl)
        self.today = today
        self.export_dir = export_dir
        self.export_format = FORMATS[0]  # then the last one that worked
        self.details_delay = details_delay  # None: never ask for details (stable snapshots)
        self.pick_profiles = pick_profiles
        self.model: TreeView = self.controller.model()
        self._drain_scheduled = False
        self._details_timer: Timer | None = None
        self._details_wanted: str | None = None  # the node the details pane should show
        self._details_pending = False
        self.org_tree = OrgTreeView(self.model, id="tree")
        self.details = DetailsPane(id="details")
        self.details.will_fetch = self.controller.will_fetch
        self.details.drawn_counts = self.org_tree.drawn_counts  # the tree's numbers, not anew
        self.errors = OneErrorScreen(self._error_choice)
        self.filter_bar = FilterBar(id="filter")
        self.status_bar = StatusBar(id="status")
        self.copied = CopiedNote(id="copied")  # what `y`, `Y`, `o` and ctrl+c copied
        self.filter = FilterControl(
            self.org_tree, self.filter_bar, lambda: self.model, self._filtered, self.set_timer
        )

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Split(self.org_tree, self.details, id="main")  # the tree as wide as its lines
        yield self.filter_bar
        yield self.status_bar
        yield Footer()
        yield self.copied
        yield self.jobs

    def on_resize(self, event: events.Resize) -> None:
        # Narrow: the footer's main keys fit only without padding and the palette hint (? lists ^p)
        footer = self.query_one(Footer)
        footer.compact = event.size.width < COMPACT_FOOTER_BELOW
        footer.show_command_palette = not footer.compact

    def on_mount(self) -> None:
        self._fit_status_bar()
        self.org_tree.set_placeholder("connecting...")
        self.org_tree.focus()
        self.set_interval(STATUS_INTERVAL, self.refresh_status)
        self.set_interval(on_screen.INTERVAL, OnScreenDetails(self.org_tree, self.controller).tick)
        self.controller.open_all()
        self.refresh_status()

    def _fit_status_bar(self) -> None:
        """One status line per organization; the filter bar sits just above them."""
        lines = len(self.controller.slots)
        self.status_bar.styles.height = lines
        self.filter_bar.styles.margin = (0, 0, lines + 1, 0)

    def show_model(self, *, placeholder: str = "") -> None:
        """Show what the slots hold now (after a crawl starts, a cache loads or a refresh
        ends), keeping what was expanded and selected."""
        self.model = self.controller.model()
        self.org_tree.reset_model(self.model, placeholder=placeholder)
        self._name_roots()
        self.filter.forget_model()

    def _name_roots(self) -> None:
        if notes := self.controller.root_notes():
            self.org_tree.set_root_notes(notes)

    def refresh_status(self) -> None:
        self.status_bar.show(self.controller.status_lines(self.org_tree.drawn_counts))
        if self.controller.ticking():
            self.update_header()  # the cached tree's age goes on ticking

    def update_header(self) -> None:
        self.app.sub_title = self.controller.header()

    # -- what the workers found ------------------------------------------------------------

    @on(Workers.CrawlStarted)
    def _crawl_started(self, message: Workers.CrawlStarted) -> None:
        started = self.controller.crawl_started(
            message.generation, message.crawler, message.bridge, message.source_label
        )
        if started is None:
            return
        if started.shown_cache is None:  # else the cached tree stays until the refresh ends
            self.show_model(placeholder="crawling...")
        self.update_header()
        self.refresh_status()

    @on(Workers.CallerKnown)
    def _caller_known(self, message: Workers.CallerKnown) -> None:
        if self.controller.caller_known(message.generation, message.caller):
            self.update_header()

    @on(Workers.CouldNotStart)
    def _could_not_start(self, message: Workers.CouldNotStart) -> None:
        slot = self.controller.could_not_start(message.generation)
        if slot is None:
            return
        self.refresh_status()
        self.org_tree.set_placeholder(NOTHING_CRAWLED)  # the message says why
        title = "Could not connect" + (f": {slot.name}" if self.controller.several else "")
        self.errors.show(self.app, title, describe_error(message.error))

    @on(Workers.CacheLoaded)
    def _cache_loaded(self, message: Workers.CacheLoaded) -> None:
        waiting = self.controller.slot_for(message.generation)
        fresh = waiting is not None and waiting.state == "loading cache"
        if fresh and message.result.message is not None:
            self.notify(
                visible(message.result.message), severity="warning", markup=False, timeout=8
            )
        slot = self.controller.cache_loaded(message.generation, message.result)
        if slot is None:
            self.refresh_status()
            return
        self.show_model()
        self.update_header()
        self.refresh_status()
        if self.controller.refresh_if_needed(slot):
            self.refresh_status()
        elif slot.shown_cache is not None:
            age = cache.age_text(slot.shown_cache.age)
            self.notify(f"Showing the tree cached {age} ago. Press r to crawl again.", timeout=5)

    @on(CrawlBridge.NewsPending)
    def _crawl_news(self, message: CrawlBridge.NewsPending) -> None:
        if self.controller.slot_for(message.generation) is None or self._drain_scheduled:
            return
        self._drain_scheduled = True
        self.call_later(self._drain_when_quiet)

    @on(CrawlBridge.Progress)
    def _crawl_progress(self, message: CrawlBridge.Progress) -> None:
        self.controller.progress(message.generation, message.stats)

    @on(CrawlBridge.Finished)
    async def _crawl_finished(self, message: CrawlBridge.Finished) -> None:
        controller = self.controller
        slot = controller.slot_for(message.generation)
        if slot is None:
            return
        await self._drain()  # everything found before the end shows before the end state
        outcome = message.outcome
        flagged = controller.finished(slot, outcome)
        refreshed = controller.refresh_done(slot)
        if refreshed is not None:
            commands.show_refresh(self, refreshed)
        self.org_tree.refresh_labels(flagged)
        self.details.show(self.model, self.details.node_id)
        self.refresh_status()
        controller.save_cache(slot, outcome)
        if not len(self.model):
            self.org_tree.set_placeholder(NOTHING_CRAWLED)  # not "crawling..." forever
        if outcome.state is CrawlState.FAILED:
            title = "The crawl stopped" + (f": {slot.name}" if controller.several else "")
            self.errors.show(self.app, title, outcome.message, controller.stopped_advice(slot))

    # -- drawing the crawl's news ----------------------------------------------------------

    async def _drain_when_quiet(self, after_key: bool = False) -> None:
        """Drain when the pacer says so; the timers only bring the next look."""
        if not self._drain_scheduled:
            return  # a key's frame brought the drain first
        wait = 0.0 if after_key else self.pacer.wait(len(self.model))
        if wait > 0:
            self.set_timer(max(wait, 0.01), self._drain_when_quiet)
            return
        await self._drain()

    def _key_shown(self) -> None:
        """After the key's frame: what the key held back (collections, crawl, news) goes on."""
        self.call_after_refresh(self.pacer.collector.release)
        if self._drain_scheduled and self.pacer.due_after_key(len(self.model)):
            self.call_after_refresh(self._drain_when_quiet, True)

    async def _drain(self) -> None:
        self._drain_scheduled = False
        self.pacer.drain_started()
        news, organization = gather(self.controller.slots)
        nodes, details, incomplete = news.nodes, news.details, news.incomplete
        if organization:
            self.update_header()
        if organization or any(n.parent_id is None for n in nodes):
            # An organization drained before its root would leave the root unnamed.
            self._name_roots()
        if not (nodes or details or incomplete):
            return
        tree = self.org_tree
        await tree.add_nodes(nodes)
        self.pacer.settle_memory(len(self.model))
        tree.refresh_labels(incomplete)
        if nodes or details:
            self.filter.news(nodes, details)
        shown = self.details.node_id
        arrived_under = any(n.parent_id == shown for n in nodes)  # its direct count moved
        force = shown in details or shown in incomplete or arrived_under
        self.details.refresh_if_changed(self.model, force=force)
        self.pacer.drain_ended()

    # -- selection -------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        node_id = event.node.data
        self._key_shown()
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
        crawler = self.controller.crawler_of(node_id)
        if crawler is None or node_id != self.org_tree.cursor_id:
            return
        details = self.model.details(node_id)
        if DetailState.PENDING in (details.tags_state, details.policies_state):
            crawler.request_details(node_id)  # only queues tasks: never blocks on AWS

    # -- the filter ------------------------------------------------------------------------

    def action_start_filter(self) -> None:
        self.filter_bar.open()

    def _filtered(self) -> None:
        self.refresh_status()
        self._key_shown()

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.filter.typed()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.filter.apply()  # enter keeps what was typed, even mid-interval
        self.org_tree.focus()

    def action_clear_filter(self) -> None:
        self.filter.clear()

    def action_next_match(self) -> None:
        if not self.filter.jump(1):
            self.app.bell()

    def action_previous_match(self) -> None:
        if not self.filter.jump(-1):
            self.app.bell()

    # -- crawling again, other profiles, help ----------------------------------------------

    def action_recrawl(self) -> None:
        if self.controller.resume_all():
            self.refresh_status()
            self.notify("Resuming the crawl.", timeout=2)
            return
        self.notify("Crawling the organization again.", timeout=2)
        self.controller.crawl_all()
        self.refresh_status()

    def _error_choice(self, choice: str | None) -> None:
        if choice == "retry":
            self.controller.retry_failed()
            self.refresh_status()
        elif choice == "quit":
            self.controller.stop_all()
            self.app.exit(0)

    def switch_sources(self, sources: list[OrgSource]) -> None:
        """Crawl other organizations instead (the profile picker's choice)."""
        old = self.controller.switch(sources)
        self.jobs.close_slots(old)  # closing may wait on a socket: not on the UI thread
        self.details.show(self.model, None)
        self.show_model(placeholder="connecting...")
        self._fit_status_bar()
        self.update_header()
        self.controller.open_all()
        self.refresh_status()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(keys.help_rows(self.app, OrgTreeView.BINDINGS)))

    @on(Workers.CacheNotSaved)
    def _cache_not_saved(self, message: Workers.CacheNotSaved) -> None:
        text = visible(str(message.error))
        self.notify(text, title="Cache not saved", severity="warning", markup=False)

    # -- export, copy, console, profiles: ui/screens/commands.py --------------------------

    def action_export(self) -> None:
        commands.start_export(self)

    @on(Workers.Exported)
    def _exported(self, message: Workers.Exported) -> None:
        commands.exported(self, message)

    def action_copy_id(self) -> None:
        commands.copy(self, lambda node_id: node_id, "id")

    def action_copy_arn(self) -> None:
        commands.copy(self, lambda node_id: n.arn if (n := self.model.get(node_id)) else "", "ARN")

    def action_open_console(self) -> None:
        commands.open_console(self)

    def browser_available(self) -> bool:
        return browser_available()

    def open_browser(self, url: str) -> bool:
        return open_in_browser(url)

    def action_pick_profiles(self) -> None:
        commands.pick_profiles(self)
