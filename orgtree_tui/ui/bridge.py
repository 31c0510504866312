"""Pubsub listeners -> batched Textual messages.

The crawl publishes from its dispatcher thread, often hundreds of nodes a second. Listeners
here only append to a buffer under a lock and, when the buffer turns non-empty, post one
`CrawlBridge.NewsPending` (never `call_from_thread`, which would block the crawl on the UI).
The UI drains the whole buffer at most ~20 times a second, so a flood costs a few tree
updates. The messages the bridge posts are nested in it (Textual's idiom: a message lives in
the class that sends it) and carry the generation of the crawl they come from.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from textual.message import Message
from textual.message_pump import MessagePump

from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.records import DetailState, Node, Organization, Policy
from orgtree_tui.ui.news import CrawlNews

_Change = Callable[[CrawlNews], object]


class CrawlBridge:
    """Subscribes to one crawler's publisher and feeds the app. Keep a reference to it:
    pypubsub holds listeners weakly, so a dropped bridge silently stops listening."""

    @dataclass
    class NewsPending(Message):
        """The bridge holds news (nodes, details, errors) the UI has not drained yet."""

        generation: int

        def can_replace(self, message: Message) -> bool:
            # Draining takes everything buffered, so one pending note stands for many of
            # the same crawl (another crawl's note is its own: it may be stale, or not).
            return (
                isinstance(message, CrawlBridge.NewsPending)
                and message.generation == self.generation
            )

    @dataclass
    class Progress(Message):
        """A snapshot of the task loop's counters: only the latest one matters."""

        generation: int
        stats: CrawlStats

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, CrawlBridge.Progress) and message.generation == self.generation
            )

    @dataclass
    class Finished(Message):
        """The crawl ended (it may end again later, when details asked for afterwards
        arrive)."""

        generation: int
        outcome: CrawlOutcome

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
        publisher.subscribe(self._on_policy_targets, topics.POLICY_TARGETS)
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

    def _on_policy_targets(self, policy: Policy, target_ids: tuple[str, ...]) -> None:
        # Each target has this policy attached: its details pane shows it as pages arrive.
        self._add(lambda news: news.details.update(target_ids))

    def _on_detail_state(self, node_id: str, detail: str, state: DetailState) -> None:
        def change(news: CrawlNews) -> None:
            news.details.add(node_id)
            news.incomplete.add(node_id)  # its label gets a mark (`⚠ tags failed`)

        self._add(change)

    def _on_branch_error(self, error: BranchError) -> None:
        if error.part == "structure":
            self._add(lambda news: news.incomplete.add(error.node_id))

    def _on_progress(self, stats: CrawlStats) -> None:
        self._post(CrawlBridge.Progress(self.generation, stats))

    def _on_finished(self, outcome: CrawlOutcome) -> None:
        self._post(CrawlBridge.Finished(self.generation, outcome))

    def _add(self, change: _Change) -> None:
        with self._lock:
            if self._closed:
                return
            was_empty = not self._news
            change(self._news)
        if was_empty:
            self._post(CrawlBridge.NewsPending(self.generation))

    def _post(self, message: Message) -> None:
        if self._closed:
            return
        try:
            self.target.post_message(message)
        except RuntimeError:
            # The app's event loop closed under us while quitting: nobody is listening.
            self.close()
