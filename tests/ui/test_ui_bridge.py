"""The bridge: a flood of one crawl's notes collapses, another crawl's does not; what each
topic marks for the next drain."""

from __future__ import annotations

from ui_support import SampleOrg

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.records import Policy
from orgtree_tui.ui.bridge import CrawlBridge


def test_a_pending_note_replaces_only_one_of_the_same_generation() -> None:
    newer = CrawlBridge.NewsPending(2)
    assert newer.can_replace(CrawlBridge.NewsPending(2))
    # A note from the crawl a re-crawl replaced is not this crawl's: each is handled (the
    # stale one is dropped by its handler), neither stands for the other.
    assert not newer.can_replace(CrawlBridge.NewsPending(1))
    assert not newer.can_replace(CrawlBridge.Progress(2, CrawlStats()))


def test_progress_replaces_only_progress_of_the_same_generation() -> None:
    newer = CrawlBridge.Progress(3, CrawlStats())
    assert newer.can_replace(CrawlBridge.Progress(3, CrawlStats()))
    assert not newer.can_replace(CrawlBridge.Progress(4, CrawlStats()))
    assert not newer.can_replace(CrawlBridge.NewsPending(3))


class Inbox:
    """Where the bridge posts its messages (the screen, in the app)."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def post_message(self, message: object) -> bool:
        self.messages.append(message)
        return True


def test_a_page_of_a_policys_targets_refreshes_those_nodes_details(org: SampleOrg) -> None:
    crawler = Crawler(OrgClient(org.client))
    inbox = Inbox()
    bridge = CrawlBridge(crawler, inbox, 7)  # type: ignore[arg-type]
    targets = ("ou-aaaa-11111111", "111111111111")
    crawler.publisher.sendMessage(
        topics.POLICY_TARGETS, policy=Policy("p-12345678", "Guardrails"), target_ids=targets
    )
    assert bridge.drain().details == set(targets)
    assert [type(m) for m in inbox.messages] == [CrawlBridge.NewsPending]
