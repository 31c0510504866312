"""The controller is UI-free: made without an app, driven by a runner of the test's own."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from orgtree_tui.aws import OrgClient
from orgtree_tui.cache import store as cache
from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType
from orgtree_tui.source import Source
from orgtree_tui.ui.controller import OrgController
from orgtree_tui.ui.session import CrawlSession
from orgtree_tui.ui.sources import OrgSource


def test_the_controller_imports_neither_textual_nor_rich() -> None:
    code = (
        "import sys, orgtree_tui.ui.controller\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Recorder:
    """A Runner that only notes what it was asked to start."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def crawl(self, session: CrawlSession, generation: int) -> None:
        self.asked.append(("crawl", generation))

    def resume(self, session: CrawlSession, crawler: Crawler, generation: int) -> None:
        self.asked.append(("resume", generation))

    def load_cache(
        self, generation: int, future: Future[cache.LoadResult] | None, source: str
    ) -> None:
        self.asked.append(("load_cache", generation))

    def find_caller(self, session: CrawlSession, generation: int) -> None:
        self.asked.append(("find_caller", generation))

    def save_cache(self, tree: OrgTree, source: str, *, complete: bool) -> None:
        self.asked.append(("save_cache", 0))


def never_opened() -> Source:
    raise AssertionError("the recorder starts no crawl")


def test_a_recrawl_gets_a_new_generation_and_the_old_one_finds_no_slot() -> None:
    runner = Recorder()
    sources = [OrgSource(never_opened, "a"), OrgSource(never_opened, "b")]
    controller = OrgController(sources, runner, clock=lambda: 0.0)
    # Generations are unique across slots from the start: 1 and 2.
    assert [s.generation for s in controller.slots] == [1, 2]
    controller.open_all()  # no cache for either: both crawl at once
    assert runner.asked == [("crawl", 1), ("crawl", 2)]
    controller.crawl_slot(controller.slots[0])  # `r` for the first one
    assert runner.asked[-1] == ("crawl", 3)
    assert controller.slot_for(1) is None, "news from the replaced crawl is dropped"
    assert controller.slot_for(3) is controller.slots[0]
    assert controller.state == "crawling"
    stale: Any = object()
    assert controller.caller_known(1, stale) is False


def test_a_cache_load_for_a_replaced_slot_is_dropped() -> None:
    runner = Recorder()
    controller = OrgController([OrgSource(never_opened, "a")], runner)
    old = controller.slots[0].generation
    controller.switch([OrgSource(never_opened, "b")])
    assert controller.cache_loaded(old, cache.LoadResult(None)) is None
    assert runner.asked == []  # neither shown nor crawled for the slot that is gone


class NoNews:
    def drain(self) -> Any:
        raise AssertionError("not drained here")

    def close(self) -> None:
        pass


def test_the_elapsed_time_never_goes_back_on_a_warm_start() -> None:
    """The cache load, the refresh's start and the crawler's start each restarted the clock
    the status line counts from (2.0 s shown, then 0.0 s): on a stepped clock it only grows."""
    now = [100.0]
    controller = OrgController(
        [OrgSource(never_opened, "a", cache_source="a")], Recorder(), clock=lambda: now[0]
    )
    slot = controller.slots[0]
    shown: list[float] = []

    def look() -> None:
        now[0] += 1.0
        shown.append(controller.status_lines()[0].elapsed)

    controller.open_all()
    look()
    tree = OrgTree()
    tree.add(Node("r-1", NodeType.ROOT, "Root", "arn:aws:organizations::1:root/o-1/r-1", None))
    cached = cache.CachedTree(
        tree, complete=False, crawled_at=datetime.now(UTC), source="a", path=Path()
    )
    assert controller.cache_loaded(slot.generation, cache.LoadResult(cached)) is slot
    look()
    assert controller.refresh_if_needed(slot)  # a partial cache is refreshed at once
    look()
    with mock_aws():
        crawler = Crawler(OrgClient(boto3.client("organizations", region_name="us-east-1")))
    assert controller.crawl_started(slot.generation, crawler, NoNews(), "a") is slot
    look()
    look()
    assert shown == [1.0, 2.0, 3.0, 4.0, 5.0]
