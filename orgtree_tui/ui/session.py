"""The source and the current crawler, shared by the UI thread and the crawl worker.

Opening the source (the demo builds an org; real AWS may read SSO caches) happens on the
worker thread so the app paints at once; quitting may happen at any moment in between, so
every step checks whether the session was closed meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.source import Source, renew_client


class SessionClosed(Exception):
    """The app quit while the crawl was being set up."""


class CrawlSession:
    def __init__(self, open_source: Callable[[], Source], options: CrawlOptions) -> None:
        self._open_source = open_source
        self.options = options
        self._lock = threading.Lock()
        self._source: Source | None = None
        self._crawler: Crawler | None = None
        self._closed = False

    @property
    def source(self) -> Source | None:
        return self._source

    @property
    def crawler(self) -> Crawler | None:
        return self._crawler

    def new_crawler(self) -> Crawler:
        """Open the source if needed and make a fresh crawler, cancelling the previous one.
        Worker thread: may block on the network or on building the demo org."""
        with self._lock:
            if self._closed:
                raise SessionClosed
            source = self._source
        if source is None:
            source = self._open_source()
            with self._lock:
                if self._closed:
                    source.close()
                    raise SessionClosed
                self._source = source
        crawler = Crawler(source.client, self.options, connection=source.connection)
        with self._lock:
            if self._closed:
                raise SessionClosed
            previous, self._crawler = self._crawler, crawler
        if previous is not None:
            previous.cancel()
        return crawler

    def renew_client(self, crawler: Crawler) -> None:
        """Before resuming: read the credentials again, so a new `aws sso login` (or new
        environment credentials) is used. Worker thread: may block on the network."""
        source = self._source
        if source is not None:
            client = renew_client(source, workers=self.options.workers)
            if client is not None:
                crawler.loop.client = client

    def cancel(self) -> None:
        crawler = self._crawler
        if crawler is not None:
            crawler.cancel()

    def close(self) -> None:
        """Cancel the crawl and release the source. Idempotent; any thread."""
        with self._lock:
            self._closed = True
            source, self._source = self._source, None
        self.cancel()
        if source is not None:
            source.close()
