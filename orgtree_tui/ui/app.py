"""OrgTreeApp: the main screen, the crawl worker and what its news does to the widgets.

Threads: the crawl runs in a Textual thread worker and reaches the UI only through messages
posted by `CrawlBridge`; the UI thread never waits on AWS. User actions (filter, export,
copy, help) live in `actions.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Tree
from textual.worker import Worker, WorkerState

from orgtree_tui import cache
from orgtree_tui.changes import Changes, refresh_changes
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.exporters.escape import visible
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
FINISHED = (CrawlState.COMPLETE, CrawlState.INCOMPLETE)
STOPPED = (CrawlState.FAILED, CrawlState.CANCELLED)
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
        cache_source: str | None = None,
        cache_ttl: timedelta | None = None,
        theme: str | None = None,
    ) -> None:
        """`cache_source`: the label the last crawl's tree is cached under; it is shown at
        once and refreshed in the background (None: no cache)."""
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
        self.wanted_theme = theme
        self.cache_source = cache_source
        self.cache_ttl = cache_ttl
        self.shown_cache: cache.CachedTree | None = None  # on screen while a refresh runs
        self.cache_shown_at: float | None = None  # clock() when the cached tree showed
        self.last_changes: Changes | None = None
        self._saved_generation = 0
        self._flagged: set[str] = set()  # ids labelled incomplete by the last outcome
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
        if self.wanted_theme is not None:
            if self.wanted_theme in self.available_themes:
                self.theme = self.wanted_theme
            else:
                names = ", ".join(sorted(self.available_themes))
                self.notify(
                    f"Unknown theme {visible(self.wanted_theme)!r} in the settings; "
                    f"themes: {names}",
                    severity="warning",
                    markup=False,
                )
        self.org_tree.set_placeholder("connecting...")
        self.org_tree.focus()
        self.set_interval(STATUS_INTERVAL, self.refresh_status)
        if self.cache_source is None:
            self.start_crawl()
            return
        self.state = "loading cache"
        self.run_worker(
            partial(cache.load, self.cache_source),
            name="cache-load",
            group="cache-load",
            thread=True,
            exit_on_error=False,
        )

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

    def resume_crawl(self) -> bool:
        """Carry on with a crawl that stopped (say, on expired credentials), keeping all it
        found. False when there is nothing to resume."""
        crawler = self.crawler
        if crawler is None or not crawler.resumable or self.outcome is None:
            return False
        self.state, self.outcome, self._ended = self._crawling_state(), None, None
        self.refresh_status()
        self.run_worker(
            partial(self._resume, crawler),
            name=f"crawl-{self.generation}",
            group="crawl",
            thread=True,
            exit_on_error=False,
        )
        return True

    def _resume(self, crawler: Crawler) -> CrawlOutcome:
        """Worker thread: read the credentials again (a new login), then carry on."""
        self.session.renew_client(crawler)
        return crawler.resume()

    def _crawling_state(self) -> str:
        return "refreshing" if self.shown_cache is not None else CrawlState.CRAWLING.value

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
        self.source_label = message.source_label
        self.state = self._crawling_state()
        self._started = self.clock()
        if self.shown_cache is None:  # else the cached tree stays until the refresh ends
            self.model = message.crawler.tree
            self.org_tree.reset_model(self.model, placeholder="crawling...")
        self._update_header()
        self.refresh_status()

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
        crawler = self.crawler
        if crawler is not None and self.shown_cache is not None and outcome.state in FINISHED:
            await self._show_refresh(crawler.tree)
        flagged, self._flagged = self._flagged, set(outcome.incomplete)
        self.org_tree.refresh_labels(flagged | self._flagged)
        self.details.show(self.model, self.details.node_id)
        self.refresh_status()
        if crawler is not None:
            self._save_cache(crawler.tree, outcome)
        if outcome.state is CrawlState.FAILED:
            self.show_error("The crawl stopped", self._stopped_message(outcome))

    def _stopped_message(self, outcome: CrawlOutcome) -> str:
        if self.crawler is None or not self.crawler.resumable:
            return outcome.message
        if self.shown_cache is not None:
            kept = "The cached tree stays on screen."
        else:
            kept = "What was found stays on screen; branches not listed yet are marked."
        return f"{outcome.message}\n\n{kept} Press r to resume once this is fixed."

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
        if self.shown_cache is not None:
            return  # a refresh: its tree replaces the cached one when it is complete
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
        crawler = self.crawler
        refreshing = self.shown_cache is not None and crawler is not None
        status = StatusLine(
            state=self.state,
            found=(crawler.tree if refreshing and crawler else self.model).totals(),
            stats=self.stats,
            elapsed=max(0.0, end - self._started),
            incomplete_branches=len(outcome.incomplete) if outcome else 0,
            resumable=crawler is not None and crawler.resumable,
            note=self._cache_note(),
        )
        self.status_bar.show(status)

    def _update_header(self) -> None:
        org = self.model.organization
        label = self.source_label or (self.shown_cache.source if self.shown_cache else "")
        parts = [label]
        if org is not None:
            parts = [org.id, f"management {org.management_account_id}", label]
        parts.append(self._cache_note())
        self.sub_title = " · ".join(p for p in parts if p)

    def _cache_note(self) -> str:
        shown = self.shown_cache
        if shown is None:
            return ""
        partial_note = "" if shown.complete else ", partial"
        return f"cached {cache.age_text(shown.age)} ago{partial_note}"

    # -- the cache -------------------------------------------------------------------------

    def _show_cached(self, result: cache.LoadResult) -> None:
        if result.message is not None:
            self.notify(visible(result.message), severity="warning", markup=False, timeout=8)
        cached = result.cached
        if cached is None or not len(cached.tree):
            self.start_crawl()
            return
        self.shown_cache, self.model = cached, cached.tree
        self.state = "cached"
        self.org_tree.reset_model(self.model)
        self.cache_shown_at = self.clock()
        self._update_header()
        self.refresh_status()
        if cache.refresh_needed(cached, self.cache_ttl):
            self.start_crawl()
        else:
            age = cache.age_text(cached.age)
            self.notify(f"Showing the tree cached {age} ago. Press r to crawl again.", timeout=5)

    async def _show_refresh(self, tree: OrgTree) -> None:
        """The refresh is done: show its tree, mark what changed, say what changed."""
        shown = self.shown_cache
        if shown is None:
            return
        changes = refresh_changes(shown.tree, tree)
        self.shown_cache, self.model, self.last_changes = None, tree, changes
        marks = {i: "new" for i in changes.added}
        marks.update({i: "moved" for i in changes.moved})
        marks.update({i: "renamed" for i in changes.renamed if i not in marks})
        self.org_tree.mark_changes(marks)
        self.org_tree.reset_model(tree)
        if self.filter_text:
            self.matches = find_matches(tree, self.filter_text)
            self.org_tree.set_filter(self.matches)
        self._update_header()
        gone = [n.name for i in changes.removed[:3] if (n := shown.tree.get(i)) is not None]
        more = len(changes.removed) - len(gone)
        removed = (
            f" Removed: {', '.join(map(visible, gone))}{' ...' if more else ''}." if gone else ""
        )
        self.notify(f"{changes.summary()}.{removed}", title="Refreshed", markup=False, timeout=8)

    def _save_cache(self, tree: OrgTree, outcome: CrawlOutcome) -> None:
        """Once per crawl. A stopped crawl's partial tree never replaces a cached one."""
        if self.cache_source is None or self._saved_generation == self.generation:
            return
        if outcome.state in STOPPED and (self.shown_cache is not None or not len(tree)):
            return
        self._saved_generation = self.generation
        save = partial(
            cache.save,
            tree,
            source=self.cache_source,
            complete=outcome.state is CrawlState.COMPLETE,
            crawled_at=datetime.now(UTC),
        )
        self.run_worker(
            save, name="cache-save", group="cache-save", thread=True, exit_on_error=False
        )

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
        elif worker.group == "cache-load" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            result = worker.result
            self._show_cached(
                result if isinstance(result, cache.LoadResult) else cache.LoadResult(None)
            )
        elif worker.group == "cache-save" and event.state is WorkerState.ERROR:
            text = visible(str(worker.error))
            self.notify(text, title="Cache not saved", severity="warning", markup=False)
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
        if choice == "retry" and not self.resume_crawl():
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
