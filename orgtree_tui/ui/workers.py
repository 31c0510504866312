"""The main screen's thread workers, and the messages each posts when it is done.

A widget of no size in the main screen: its workers are Textual `@work(thread=True)` workers
in named groups, and each reports with a typed message nested here, which bubbles up to the
screen. Messages about a slot carry the generation they were started for, so a result
from a crawl a re-crawl replaced, or from a slot a profile switch replaced, finds no slot
and is dropped. Return values and worker names are never looked at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from textual import work
from textual.message import Message
from textual.widget import Widget

from orgtree_tui.cache import store as cache
from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.export import ExportResult, export_subtree
from orgtree_tui.exporters.selection import Selection
from orgtree_tui.identity import CallerIdentity
from orgtree_tui.model import OrgTree
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.bridge import CrawlBridge
from orgtree_tui.ui.controller import close
from orgtree_tui.ui.org_slot import OrgSlot
from orgtree_tui.ui.session import CrawlSession, SessionClosed


class Workers(Widget):
    DEFAULT_CSS = "Workers { display: none; }"

    @dataclass
    class CrawlStarted(Message):
        """The source is open and the crawler exists; `run()` starts right after this."""

        generation: int
        crawler: Crawler
        bridge: CrawlBridge
        source_label: str

    @dataclass
    class CouldNotStart(Message):
        """Opening the source (or re-reading credentials for a resume) raised: say why."""

        generation: int
        error: Exception

    @dataclass
    class CallerKnown(Message):
        """Who the crawl runs as, for the header (None: STS would not say)."""

        generation: int
        caller: CallerIdentity | None

    @dataclass
    class CacheLoaded(Message):
        """The cached tree for one slot was read (or found missing or unusable)."""

        generation: int
        result: cache.LoadResult

    @dataclass
    class CacheNotSaved(Message):
        error: Exception

    @dataclass
    class Exported(Message):
        """An export was written (`result`) or could not be (`error`)."""

        fmt: str
        path: Path
        result: ExportResult | None
        error: Exception | None = None

    def __init__(self, yield_to: Callable[[], None] | None = None) -> None:
        """`yield_to`: what each crawl's threads call before a call or a batch of results
        (the screen's key hold: they wait while a key is being drawn)."""
        super().__init__()
        self.yield_to = yield_to
        self._writes: list[threading.Event] = []  # one per file write, set when it ended

    def _begin_write(self) -> threading.Event:
        done = threading.Event()
        self._writes.append(done)
        return done

    def wait_for_writes(self, timeout: float) -> bool:
        """After the app closed: let files being written (cache saves, exports) finish:
        quitting may skip every other thread, and a write cut off leaves a temp file.
        True when none is left within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        return all(w.wait(max(0.0, deadline - time.monotonic())) for w in self._writes)

    # -- the crawl (the Runner the controller asks) ------------------------------------------

    @work(thread=True, group="crawl", exit_on_error=False)
    def crawl(self, session: CrawlSession, generation: int) -> None:
        """Open the source, announce the crawler, run it to the end."""
        try:
            crawler = session.new_crawler()
            crawler.loop.yield_to = self.yield_to
            bridge = CrawlBridge(crawler, self, generation)  # its messages bubble up too
            source = session.source
            label = source.label if source is not None else ""
            self.post_message(Workers.CrawlStarted(generation, crawler, bridge, label))
            crawler.run()
        except SessionClosed:
            return
        except Exception as exc:
            self.post_message(Workers.CouldNotStart(generation, exc))

    @work(thread=True, group="crawl", exit_on_error=False)
    def resume(self, session: CrawlSession, crawler: Crawler, generation: int) -> None:
        """Read the credentials again (a new login), then carry on."""
        try:
            session.renew_client(crawler)
            crawler.resume()
        except Exception as exc:  # the crawl itself reports through its bridge
            self.post_message(Workers.CouldNotStart(generation, exc))

    @work(thread=True, group="identity", exit_on_error=False)
    def find_caller(self, session: CrawlSession, generation: int) -> None:
        """The caller for the header; nothing if STS will not say."""
        source = session.source
        caller: CallerIdentity | None = None
        if source is not None:
            try:
                caller = source.caller_identity()
            except Exception:  # the header goes without it; the crawl says what is wrong
                caller = None
        self.post_message(Workers.CallerKnown(generation, caller))

    @work(thread=True, group="cache-load", exit_on_error=False)
    def load_cache(
        self, generation: int, future: Future[cache.LoadResult] | None, source: str
    ) -> None:
        """The cached tree, tagged with the slot generation it was read for: by the time it
        arrives, a profile switch or an `r` may have replaced that slot."""
        try:
            result = future.result() if future is not None else cache.load(source)
        except Exception as exc:  # an unreadable cache is no reason not to crawl
            result = cache.LoadResult(None, warning=f"{type(exc).__name__}: {exc}")
        self.post_message(Workers.CacheLoaded(generation, result))

    def save_cache(self, tree: OrgTree, source: str, *, complete: bool) -> None:
        # Counted from now, not from when the thread starts: quitting right after a crawl
        # ended must still wait for this file.
        self._save(tree, source, complete, self._begin_write())

    @work(thread=True, group="cache-save", exit_on_error=False)
    def _save(self, tree: OrgTree, source: str, complete: bool, done: threading.Event) -> None:
        try:
            cache.save(tree, source=source, complete=complete, crawled_at=datetime.now(UTC))
        except Exception as exc:
            self.post_message(Workers.CacheNotSaved(exc))
        finally:
            done.set()

    # -- the rest ----------------------------------------------------------------------------

    def export(
        self,
        tree: TreeView,
        node_id: str,
        fmt: str,
        path: Path,
        *,
        force: bool,
        ran_to_end: bool,
        selection: Selection | None = None,
    ) -> None:
        """Write `node_id`'s subtree (only what `selection` keeps, when given); `ran_to_end`:
        the crawl it comes from did (the tree's gaps then say what the file lacks)."""
        write = partial(
            export_subtree,
            tree,
            node_id,
            fmt,
            path,
            force=force,
            complete=ran_to_end,
            selection=selection,
        )
        self._export(write, fmt, path, self._begin_write())

    @work(thread=True, group="export", exit_on_error=False)
    def _export(
        self, write: Callable[[], ExportResult], fmt: str, path: Path, done: threading.Event
    ) -> None:
        try:
            result = write()
        except Exception as exc:
            self.post_message(Workers.Exported(fmt, path, None, exc))
        else:
            self.post_message(Workers.Exported(fmt, path, result))
        finally:
            done.set()

    @work(thread=True, group="close", exit_on_error=False)
    def close_slots(self, slots: list[OrgSlot]) -> None:
        """Closing may stop a local server or wait on a socket: not on the UI thread."""
        close(slots)

    @work(thread=True, group="browser", exit_on_error=False)
    def open_browser(self, open_url: Callable[[], object]) -> None:
        """Blocks while the browser starts."""
        open_url()
