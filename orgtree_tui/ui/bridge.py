"""Pubsub listeners -> batched Textual messages.

The crawl publishes from its dispatcher thread, often hundreds of nodes a second. Listeners
here only append to a buffer under a lock and, when the buffer turns non-empty, post one
`CrawlNewsPending` (never `call_from_thread`, which would block the crawl on the UI). The
UI drains the whole buffer at most ~20 times a second, so a flood costs a few tree updates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from textual.message import Message
from textual.message_pump import MessagePump

from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.records import DetailState, Node, Organization, Policy
from orgtree_tui.ui.messages import CrawlFinished, CrawlNewsPending, CrawlProgress


@dataclass
class CrawlNews:
    """Everything that arrived since the last drain."""

    nodes: list[Node] = field(default_factory=list)
    details: set[str] = field(default_factory=set)  # ids whose tags or policies changed
    incomplete: set[str] = field(default_factory=set)  # ids whose marks changed: a listing
    # failed, or tags or SCPs were refused or failed
    organization: Organization | None = None

    def __bool__(self) -> bool:
        return bool(self.nodes or self.details or self.incomplete or self.organization)


_Change = Callable[[CrawlNews], object]


class CrawlBridge:
    """Subscribes to one crawler's publisher and feeds the app. Keep a reference to it:
    pypubsub holds listeners weakly, so a dropped bridge silently stops listening."""

    def __init__(self, crawler: Crawler, target: MessagePump, generation: int) -> None:
        self.crawler = crawler
        self.target = target
        self.generation = generation
        self._lock = threading.Lock()
        self._news = CrawlNews()
        self._closed = False
        publisher = crawler.publisher
        publisher.subscribe(self._on_organization, topics.ORGANIZATION)
        for topic in (topics.ROOT, topics.ORGANIZATIONAL_UNIT, topics.ACCOUNT):
            publisher.subscribe(self._on_node, topic)
        publisher.subscribe(self._on_tags, topics.TAGS)
        publisher.subscribe(self._on_policies, topics.POLICIES)
        publisher.subscribe(self._on_detail_state, topics.DETAIL_STATE)
        publisher.subscribe(self._on_branch_error, topics.BRANCH_ERROR)
        publisher.subscribe(self._on_progress, topics.PROGRESS)
        publisher.subscribe(self._on_finished, topics.FINISHED)

    def drain(self) -> CrawlNews:
        """Take everything buffered. UI thread."""
        with self._lock:
            news, self._news = self._news, CrawlNews()
        return news

    def close(self) -> None:
        """Stop forwarding: the app is gone or a new crawl replaced this one."""
        with self._lock:
            self._closed = True

    # -- listeners (crawl thread) ---------------------------------------------------------

    def _on_organization(self, organization: Organization) -> None:
        self._add(lambda news: setattr(news, "organization", organization))

    def _on_node(self, node: Node) -> None:
        self._add(lambda news: news.nodes.append(node))

    def _on_tags(self, node_id: str, tags: dict[str, str]) -> None:
        self._add(lambda news: news.details.add(node_id))

    def _on_policies(self, node_id: str, policies: tuple[Policy, ...], policy_type: str) -> None:
        self._add(lambda news: news.details.add(node_id))

    def _on_detail_state(self, node_id: str, detail: str, state: DetailState) -> None:
        def change(news: CrawlNews) -> None:
            news.details.add(node_id)
            news.incomplete.add(node_id)  # its label gets a mark (`⚠ tags failed`)

        self._add(change)

    def _on_branch_error(self, error: BranchError) -> None:
        if error.part == "structure":
            self._add(lambda news: news.incomplete.add(error.node_id))

    def _on_progress(self, stats: CrawlStats) -> None:
        self._post(CrawlProgress(self.generation, stats))

    def _on_finished(self, outcome: CrawlOutcome) -> None:
        self._post(CrawlFinished(self.generation, outcome))

    def _add(self, change: _Change) -> None:
        with self._lock:
            if self._closed:
                return
            was_empty = not self._news
            change(self._news)
        if was_empty:
            self._post(CrawlNewsPending(self.generation))

    def _post(self, message: Message) -> None:
        if self._closed:
            return
        try:
            self.target.post_message(message)
        except RuntimeError:
            # The app's event loop closed under us while quitting: nobody is listening.
            self.close()
