"""OrgTreeApp: the main screen, the crawl worker and what its news does to the widgets.

Threads: the crawl runs in a Textual thread worker and reaches the UI only through messages
posted by `CrawlBridge`; the UI thread never waits on AWS. User actions (filter, export,
copy, help) live in `actions.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import date
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Tree
from textual.worker import Worker, WorkerState

from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.model import DetailState, OrgTree
from orgtree_tui.ui import keys
from orgtree_tui.ui.actions import UserActions
from orgtree_tui.ui.bridge import CrawlBridge
from orgtree_tui.ui.filtering import find_matches
from orgtree_tui.ui.messages import CrawlFinished, CrawlNewsPending, CrawlProgress, CrawlStarted
from orgtree_tui.ui.screens.error import ErrorScreen, describe_error
from orgtree_tui.ui.session import CrawlSession, SessionClosed
from orgtree_tui.ui.widgets.details import DetailsPane
from orgtree_tui.ui.widgets.filter_bar import FilterBar
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.ui.widgets.status_bar import StatusBar, StatusLine

DRAIN_INTERVAL = 0.05  # at most 20 tree updates a second, however fast the crawl
STATUS_INTERVAL = 0.25
DETAILS_DELAY = 0.1  # a cursor racing down the tree should not queue a fetch per node


class OrgTreeApp(UserActions, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "orgtree-tui"
    BINDINGS = keys.APP_BINDINGS

    def __init__(
        self,
        session: CrawlSession,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
        export_dir: Path | None = None,
        details_delay: float | None = DETAILS_DELAY,
    ) -> None:
        super().__init__()
        self.session = session
        self.clock = clock
        self.today = today
        self.export_dir = export_dir
        self.details_delay = details_delay  # None: never ask for details (stable snapshots)
        self.model = OrgTree()
        self.generation = 0
        self.crawler: Crawler | None = None
        self.bridge: CrawlBridge | None = None
        self.state = "connecting"
        self.stats = CrawlStats()
        self.outcome: CrawlOutcome | None = None
        self.source_label = ""
        self.filter_text = ""
        self.matches: list[str] = []
        self._started = clock()
        self._ended: float | None = None
        self._last_drain = 0.0
        self._drain_scheduled = False
        self._details_timer: Timer | None = None
        # Held, not queried: while a dialog is up, queries search the dialog's screen.
        self.org_tree = OrgTreeView(self.model, id="tree")
        self.details = DetailsPane(id="details")
        self.filter_bar = FilterBar(id="filter")
        self.status_bar = StatusBar(id="status")

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            yield self.org_tree
            yield self.details
        yield self.filter_bar
        yield self.status_bar
        yield Footer()

    def on_mount(self) -> None:
        self.org_tree.set_placeholder("connecting...")
        self.org_tree.focus()
        self.set_interval(STATUS_INTERVAL, self.refresh_status)
        self.start_crawl()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from keys.palette_commands(self, self.org_tree, OrgTreeView.BINDINGS)

    # -- the crawl -------------------------------------------------------------------------

    def start_crawl(self) -> None:
        self.generation += 1
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        self.session.cancel()
        self.state, self.outcome, self.stats = "connecting", None, CrawlStats()
        self._started, self._ended = self.clock(), None
        self.refresh_status()
        self.run_worker(
            partial(self._crawl, self.generation),
            name=f"crawl-{self.generation}",
            group="crawl",
            thread=True,
            exit_on_error=False,
        )

    def _crawl(self, generation: int) -> CrawlOutcome | None:
        """Worker thread: open the source, announce the crawler, run it to the end."""
        try:
            crawler = self.session.new_crawler()
        except SessionClosed:
            return None
        bridge = CrawlBridge(crawler, self, generation)
        source = self.session.source
        label = source.label if source is not None else ""
        self.post_message(CrawlStarted(generation, crawler, bridge, label))
        return crawler.run()

    def on_crawl_started(self, message: CrawlStarted) -> None:
        if message.generation != self.generation:
            message.bridge.close()
            return
        self.crawler, self.bridge = message.crawler, message.bridge
        self.model = message.crawler.tree
        self.source_label = message.source_label
        self.state = CrawlState.CRAWLING.value
        self._started = self.clock()
        self.org_tree.reset_model(self.model, placeholder="crawling...")
        self._update_header()

    def on_crawl_news_pending(self, message: CrawlNewsPending) -> None:
        if message.generation != self.generation or self._drain_scheduled:
            return
        self._drain_scheduled = True
        wait = self._last_drain + DRAIN_INTERVAL - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._drain)
        else:
            self.call_later(self._drain)  # Textual's timers divide by a zero delay

    def on_crawl_progress(self, message: CrawlProgress) -> None:
        if message.generation == self.generation:
            self.stats = message.stats

    async def on_crawl_finished(self, message: CrawlFinished) -> None:
        if message.generation != self.generation:
            return
        await self._drain()  # everything found before the end shows before the end state
        outcome = message.outcome
        self.outcome, self.stats = outcome, outcome.stats
        self.state = outcome.state.value
        self._ended = self.clock()
        self.refresh_status()
        if outcome.state is CrawlState.FAILED:
            self.show_error("Could not crawl the organization", outcome.message)

    async def _drain(self) -> None:
        self._drain_scheduled = False
        self._last_drain = time.monotonic()
        if self.bridge is None:
            return
        news = self.bridge.drain()
        if not news:
            return
        if news.organization is not None:
            self._update_header()
        tree = self.org_tree
        await tree.add_nodes(news.nodes)
        tree.refresh_labels(news.incomplete)
        if self.filter_text and (news.nodes or news.details):
            self.matches = find_matches(self.model, self.filter_text)
            tree.grow_filter(self.matches)
        shown = self.details.node_id
        if news.nodes or shown in news.details or shown in news.incomplete:
            self.details.show(self.model, shown)

    def refresh_status(self) -> None:
        end = self._ended if self._ended is not None else self.clock()
        outcome = self.outcome
        status = StatusLine(
            state=self.state,
            found=self.model.totals(),
            stats=self.stats,
            elapsed=max(0.0, end - self._started),
            incomplete_branches=len(outcome.incomplete) if outcome else 0,
        )
        self.status_bar.show(status)

    def _update_header(self) -> None:
        org = self.model.organization
        parts = [self.source_label]
        if org is not None:
            parts = [org.id, f"management {org.management_account_id}", self.source_label]
        self.sub_title = " · ".join(p for p in parts if p)

    # -- selection -------------------------------------------------------------------------

    @on(Tree.NodeHighlighted)
    def _node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        node_id = event.node.data
        if node_id is None or node_id == self.details.node_id:
            return
        self.details.show(self.model, node_id)
        if self._details_timer is not None:
            self._details_timer.stop()
        if self.details_delay is not None:
            fetch = partial(self._want_details, node_id)
            self._details_timer = self.set_timer(self.details_delay, fetch)

    def _want_details(self, node_id: str) -> None:
        """Tags or policies not fetched yet: ask for them ahead of everything queued."""
        crawler = self.crawler
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
        elif (
            worker.group == "crawl"
            and event.state is WorkerState.ERROR
            and worker.name == f"crawl-{self.generation}"
            and worker.error is not None
        ):
            self.state = CrawlState.FAILED.value
            self._ended = self.clock()
            self.org_tree.set_placeholder("")
            self.show_error("Could not connect", describe_error(worker.error))

    def show_error(self, title: str, message: str) -> None:
        self.push_screen(ErrorScreen(title, message), self._error_choice)

    def _error_choice(self, choice: str | None) -> None:
        if choice == "retry":
            self.start_crawl()
        elif choice == "quit":
            self.action_quit_now()

    async def action_quit(self) -> None:
        self.action_quit_now()

    def action_quit_now(self) -> None:
        """Cancel the crawl first: its threads must be gone for the process to end at once."""
        if self.bridge is not None:
            self.bridge.close()
        self.session.cancel()
        self.exit(0)

    def on_unmount(self) -> None:
        self.session.cancel()
