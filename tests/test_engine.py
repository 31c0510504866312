"""The task loop itself: priorities, deduplication, ending by itself, stats."""

from __future__ import annotations

import threading
from typing import Any

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl.engine import LoopState, TaskLoop
from orgtree_tui.crawl.ratelimit import RateLimiter
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.crawl.task import DETAILS, STRUCTURE, URGENT, Task

from conftest import FAST
from orgs import OrgBuilder


class Recording:
    """A real client that remembers the order of the calls it was asked to make."""

    def __init__(self, inner: OrgClient) -> None:
        self.inner = inner
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        with self.lock:
            self.calls.append((operation, params))
        return self.inner.call(operation, **params)


def test_urgent_before_structure_before_details_and_fifo_within(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"a{i}") for i in range(4)]
    client = Recording(OrgClient(moto_client))
    loop = TaskLoop(client, workers=1, limiter=RateLimiter(FAST))
    results: list[str] = []

    def tags(node: str, priority: int) -> Task:
        def done(response: dict[str, Any]) -> None:
            results.append(node)

        return Task("ListTagsForResource", {"ResourceId": node}, priority, done, key=node)

    loop.submit(tags(ids[0], DETAILS))
    loop.submit(tags(ids[1], DETAILS))
    loop.submit(tags(ids[2], STRUCTURE))
    loop.submit(tags(ids[3], URGENT))
    assert loop.run() is LoopState.FINISHED
    assert results == [ids[3], ids[2], ids[0], ids[1]]


def test_a_known_key_is_not_queued_twice_but_can_jump_the_queue(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    first, second = org.account("first"), org.account("second")
    client = Recording(OrgClient(moto_client))
    loop = TaskLoop(client, workers=1, limiter=RateLimiter(FAST))
    order: list[str] = []

    def tags(node: str, priority: int) -> Task:
        return Task(
            "ListTagsForResource",
            {"ResourceId": node},
            priority,
            lambda response: order.append(node),
            key=("tags", node),
        )

    assert loop.submit(tags(first, DETAILS))
    assert loop.submit(tags(second, DETAILS))
    assert not loop.submit(tags(second, URGENT))  # same key: raises priority, no new task
    loop.run()
    assert order == [second, first]
    assert len(client.calls) == 2


def test_follow_up_tasks_keep_the_loop_going_and_it_ends_by_itself(moto_client: Any) -> None:
    OrgBuilder(moto_client)
    client = Recording(OrgClient(moto_client))
    progress: list[CrawlStats] = []
    loop = TaskLoop(client, workers=4, limiter=RateLimiter(FAST), on_progress=progress.append)
    depth = {"n": 0}

    def again(response: dict[str, Any]) -> None:
        depth["n"] += 1
        if depth["n"] < 5:
            loop.submit(Task("ListRoots", {}, STRUCTURE, again))

    loop.submit(Task("ListRoots", {}, STRUCTURE, again))
    assert loop.run() is LoopState.FINISHED
    stats = loop.stats()
    assert depth["n"] == 5
    assert stats.calls == {"ListRoots": 5}
    assert stats.done == 5 and stats.queued == 0 and stats.in_flight == 0
    assert progress and progress[-1].done == 5


def test_a_failed_call_reaches_its_error_handler_and_the_loop_goes_on(moto_client: Any) -> None:
    OrgBuilder(moto_client)
    loop = TaskLoop(OrgClient(moto_client), workers=2, limiter=RateLimiter(FAST))
    errors: list[str] = []
    answered: list[str] = []
    loop.submit(
        Task(
            "ListTagsForResource",
            {"ResourceId": "123456789099"},
            DETAILS,
            lambda response: answered.append("tags"),
            lambda error: errors.append(error.code),
        )
    )
    loop.submit(Task("ListRoots", {}, STRUCTURE, lambda response: answered.append("roots")))
    assert loop.run() is LoopState.FINISHED
    assert answered == ["roots"]
    assert len(errors) == 1 and errors[0] != ""
    assert loop.stats().failed == 1


def test_a_fatal_failure_aborts(moto_client: Any) -> None:
    loop = TaskLoop(OrgClient(moto_client), workers=2, limiter=RateLimiter(FAST))
    loop.submit(Task("DescribeOrganization", {}, STRUCTURE, lambda response: None, fatal=True))
    assert loop.run() is LoopState.ABORTED
    assert loop.abort_error is not None
    assert loop.abort_error.code == "AWSOrganizationsNotInUseException"
