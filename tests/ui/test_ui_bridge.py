"""The bridge's messages: a flood of one crawl's notes collapses, another crawl's does not."""

from __future__ import annotations

from orgtree_tui.crawl.stats import CrawlStats
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
