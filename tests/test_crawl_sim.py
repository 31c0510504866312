"""The crawler over real HTTP against the simulated, throttling Organizations endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.identity import open_session
from orgtree_tui.quotas import Quota
from orgtree_tui.records import DetailState, NodeType
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault

from orgs import Built, OrgBuilder

pytestmark = pytest.mark.slow


def small_org(client: Any) -> Built:
    return small_org_into(OrgBuilder(client))


def small_org_into(org: OrgBuilder) -> Built:
    parent = None
    for level in range(3):
        parent = org.ou(f"Level {level}", parent, tags={"Level": str(level)})
        for i in range(4):
            org.account(f"acct {level}-{i}", parent, tags={"Owner": f"team-{i}"})
    org.ou("Empty")
    return org.built


def connect(server: SimServer, workers: int = 8) -> Any:
    conn = Connection(endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing")
    return make_client(conn, session=open_session(conn), max_pool=workers)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer(latency=(0.0, 0.01), seed=7) as sim:
        yield sim


def assert_matches(crawler: Crawler, built: Built, tags: bool = True) -> None:
    tree = crawler.tree
    for node_id, parent_id in built.parents.items():
        node = tree.get(node_id)
        assert node is not None, f"{node_id} missing"
        assert node.parent_id == parent_id
    for node_id, node_tags in built.tags.items() if tags else ():
        assert tree.details(node_id).tags == node_tags, node_id


def test_tiny_buckets_throttle_hard_and_all_data_still_arrives(server: SimServer) -> None:
    built = small_org(server.admin_client())
    tiny = Quota(3, 1)
    server.middleware.quotas = {
        op: tiny
        for op in (
            "ListOrganizationalUnitsForParent",
            "ListAccountsForParent",
            "ListTagsForResource",
        )
    }
    server.middleware.reset_buckets()
    # The crawler believes the documented (much larger) quotas, so it will be throttled a lot.
    crawler = Crawler(connect(server), CrawlOptions(workers=8))
    outcome = crawler.run()

    assert outcome.state is CrawlState.COMPLETE
    assert server.middleware.stats().total_throttled >= 3
    assert outcome.stats.total_throttled == server.middleware.stats().total_throttled
    assert outcome.stats.failed == 0
    assert_matches(crawler, built)


@pytest.mark.parametrize("shared", [True, False])
def test_shared_row_buckets_are_detected_and_all_data_arrives(shared: bool) -> None:
    with SimServer(latency=(0.0, 0.01), shared_rows=shared, seed=3) as sim:
        built = small_org(sim.admin_client())
        sim.middleware.quotas = {"ListAccountsForParent": Quota(6, 3)}
        sim.middleware.reset_buckets()
        crawler = Crawler(connect(sim), CrawlOptions(details=False))
        outcome = crawler.run()
        assert outcome.state is CrawlState.COMPLETE
        for node_id in built.parents:
            assert crawler.tree.get(node_id) is not None
        # One shared bucket for the row is inferred only when the server behaves that way.
        assert bool(crawler.loop.limiter.merged_rows) is shared


def test_cancel_mid_crawl_returns_with_calls_still_on_the_wire_and_leaves_no_thread() -> None:
    """The sim holds every ListAccountsForParent call: a cancel must not wait for them.
    (A duration asserted here, "within a second", failed on busy machines.)"""
    held, release = threading.Semaphore(0), threading.Event()

    def hold_accounts(operation: str) -> Fault | None:
        if operation == "ListAccountsForParent":
            held.release()
            release.wait(30)
        return None

    with SimServer(latency=(0.1, 0.2), seed=1) as sim:
        small_org(sim.admin_client())
        sim.middleware.fault = hold_accounts
        crawler = Crawler(connect(sim), CrawlOptions(workers=8))
        result: dict[str, Any] = {}
        runner = threading.Thread(target=lambda: result.setdefault("o", crawler.run()))
        runner.start()
        try:
            assert held.acquire(timeout=30), "no ListAccountsForParent call reached the sim"
            assert runner.is_alive(), "the crawl should still be running"
            crawler.cancel()
            runner.join(timeout=10)
            assert not runner.is_alive(), "run() had not returned 10 s after cancel()"
            assert not release.is_set()  # it returned with its calls still held
            assert result["o"].state is CrawlState.CANCELLED
        finally:
            release.set()  # the held calls answer; their threads end
            runner.join(timeout=10)
        deadline = time.monotonic() + 10  # a bound for a busy machine, not a speed
        while time.monotonic() < deadline and _crawl_threads():
            time.sleep(0.05)
        assert _crawl_threads() == []


def _crawl_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("orgtree-crawl")]


def test_access_denied_on_tags_keeps_the_structure(server: SimServer) -> None:
    built = small_org(server.admin_client())

    def deny_tags(operation: str) -> Fault | None:
        if operation == "ListTagsForResource":
            return Fault.error("AccessDeniedException", 400, "not allowed to list tags")
        return None

    server.middleware.fault = deny_tags
    crawler = Crawler(connect(server), CrawlOptions())
    outcome = crawler.run()

    # The structure is whole, but refused tags make the crawl incomplete (issue 11, item 10).
    assert outcome.state is CrawlState.INCOMPLETE
    assert outcome.incomplete == {}
    assert outcome.detail_errors >= len(built.parents)
    for node_id in built.parents:
        assert crawler.tree.get(node_id) is not None
        assert crawler.tree.details(node_id).tags_state is DetailState.DENIED
        assert crawler.tree.details(node_id).policies_state is DetailState.LOADED


def test_access_denied_listing_one_ou_flags_that_branch(server: SimServer) -> None:
    built = small_org(server.admin_client())
    blocked = built.ous["Level 1"]
    calls = {"n": 0}

    def deny_children(operation: str) -> Fault | None:
        # The hook sees only the operation name: deny the 2nd OU listing onwards for a while.
        if operation == "ListOrganizationalUnitsForParent":
            calls["n"] += 1
            if calls["n"] == 3:
                return Fault.error("AccessDeniedException")
        return None

    server.middleware.fault = deny_children
    crawler = Crawler(connect(server), CrawlOptions(workers=1, details=False))
    outcome = crawler.run()

    assert outcome.state is CrawlState.INCOMPLETE
    assert len(outcome.incomplete) == 1
    assert blocked in built.parents  # the org has the shape this test expects
    assert crawler.tree.totals().accounts >= 8


def test_every_operation_sent_is_list_or_describe(server: SimServer) -> None:
    small_org(server.admin_client())
    server.middleware.reset_stats()
    crawler = Crawler(connect(server), CrawlOptions())
    crawler.request_details  # noqa: B018 - on-demand fetches use the same client
    crawler.run()
    sent = server.middleware.stats().log
    assert len(sent) > 20
    offending = sorted({op for op in sent if not op.startswith(("List", "Describe"))})
    assert offending == [], f"non read-only operations sent: {offending}"


def test_structure_only_crawl_finds_every_type(server: SimServer) -> None:
    built = small_org(server.admin_client())
    crawler = Crawler(connect(server), CrawlOptions(details=False))
    crawler.run()
    types = {n.type for n in crawler.tree.nodes()}
    assert types == {NodeType.ROOT, NodeType.ORGANIZATIONAL_UNIT, NodeType.ACCOUNT}
    assert len(crawler.tree) == len(built.parents) + 2  # + root + management account


class ParentageLog:
    def __init__(self) -> None:
        self.accounts: dict[str, set[str]] = {}

    def on_parentage(
        self, parent_id: str, child_type: NodeType, child_ids: tuple[str, ...]
    ) -> None:
        if child_type is NodeType.ACCOUNT:
            assert parent_id not in self.accounts, "announced twice"
            self.accounts[parent_id] = set(child_ids)


def expected_accounts(built: Built) -> dict[str, set[str]]:
    by_parent: dict[str, set[str]] = {}
    for account_id in built.accounts.values():
        by_parent.setdefault(built.parents[account_id], set()).add(account_id)
    return by_parent


def crawl_with_slow_parent_row(server: SimServer, workers: int = 8) -> tuple[Crawler, ParentageLog]:
    # The client believes ListAccountsForParent is nearly unusable, so accounts are placed
    # through ListChildren + the ListAccounts stream (+ DescribeAccount when needed).
    quotas = {"ListAccountsForParent": Quota(0.2, 1)}
    crawler = Crawler(connect(server, workers), CrawlOptions(quotas=quotas, details=False))
    log = ParentageLog()
    crawler.publisher.subscribe(log.on_parentage, topics.PARENTAGE)
    crawler.run()
    return crawler, log


def test_accounts_are_placed_through_list_children_and_the_account_stream(
    server: SimServer,
) -> None:
    org = OrgBuilder(server.admin_client())
    wide = org.ou("Wide")
    for i in range(27):
        org.account(f"wide-{i}", wide)
    built = small_org_into(org)

    crawler, log = crawl_with_slow_parent_row(server)

    stats = crawler.outcome.stats  # type: ignore[union-attr]
    assert stats.calls.get("ListChildren", 0) >= 5
    assert stats.calls.get("ListAccounts", 0) >= 1
    assert_matches(crawler, built, tags=False)
    management = {a.id for a in crawler.tree.children(built.root_id) if a.is_account}
    want = expected_accounts(built)
    want.setdefault(built.root_id, set()).update(management)
    assert {p: ids for p, ids in log.accounts.items() if ids} == want


def test_a_denied_account_stream_falls_back_to_describe_account(server: SimServer) -> None:
    built = small_org(server.admin_client())
    # Late, so that accounts placed through ListChildren are already waiting for it.
    late_denial = Fault(code="AccessDeniedException", message="denied", extra_delay=1.5)
    server.middleware.fault = lambda op: late_denial if op == "ListAccounts" else None

    crawler, _ = crawl_with_slow_parent_row(server)

    stats = crawler.outcome.stats  # type: ignore[union-attr]
    assert crawler.outcome.state is CrawlState.COMPLETE  # type: ignore[union-attr]
    assert stats.calls.get("DescribeAccount", 0) >= 1
    assert_matches(crawler, built, tags=False)
