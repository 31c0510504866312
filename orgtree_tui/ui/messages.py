"""Textual messages posted from worker threads to the app: what the crawl, identity and
cache-load workers found (the crawl's own news comes as `CrawlBridge`'s messages).

Every message carries the slot `generation` it belongs to, so news from a crawl that a
re-crawl replaced, or from a slot that a profile switch replaced, is recognised and
dropped. Nothing is routed by a worker's name or a slot's index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from orgtree_tui.cache.store import LoadResult
    from orgtree_tui.crawl.crawler import Crawler
    from orgtree_tui.identity import CallerIdentity
    from orgtree_tui.ui.bridge import CrawlBridge


class CrawlStarted(Message):
    """The source is open and the crawler exists; `run()` starts right after this."""

    def __init__(
        self, generation: int, crawler: Crawler, bridge: CrawlBridge, source_label: str
    ) -> None:
        super().__init__()
        self.generation = generation
        self.crawler = crawler
        self.bridge = bridge
        self.source_label = source_label


class CrawlCouldNotStart(Message):
    """Opening the source (or re-reading credentials for a resume) raised: say why."""

    def __init__(self, generation: int, error: Exception) -> None:
        super().__init__()
        self.generation = generation
        self.error = error


class CallerKnown(Message):
    """Who the crawl runs as, for the header (None: STS would not say)."""

    def __init__(self, generation: int, caller: CallerIdentity | None) -> None:
        super().__init__()
        self.generation = generation
        self.caller = caller


class CacheLoaded(Message):
    """The cached tree for one slot was read (or found missing or unusable)."""

    def __init__(self, generation: int, result: LoadResult) -> None:
        super().__init__()
        self.generation = generation
        self.result = result
