"""Faults on the simulated endpoint: the crawl survives, loses nothing, and says what it missed."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.identity import open_session
from orgtree_tui.records import DetailState
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault

from orgs import Built, OrgBuilder

pytestmark = pytest.mark.slow

STORM_REQUESTS = 400  # then calm; counted, not timed, so a busy machine sees the same storm


def build(client: Any, levels: int = 3, per_level: int = 5) -> Built:
    org = OrgBuilder(client)
    parent = None
    for level in range(levels):
        parent = org.ou(f"Level {level}", parent, tags={"Level": str(level)})
        org.ou(f"Side {level}", parent)
        for i in range(per_level):
            org.account(f"acct {level}-{i}", parent, tags={"Owner": f"team-{i}"})
    return org.built


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer(latency=(0.0, 0.02), seed=11) as sim:
        yield sim


def crawler_for(server: SimServer, **options: Any) -> Crawler:
    conn = Connection(endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing")
    return Crawler(
        make_client(conn, session=open_session(conn)), CrawlOptions(**options), connection=conn
    )


def assert_everything_arrived(crawler: Crawler, built: Built) -> None:
    for node_id, parent_id in built.parents.items():
        node = crawler.tree.get(node_id)
        assert node is not None, f"{node_id} lost"
        assert node.parent_id == parent_id
    for node_id, tags in built.tags.items():
        assert crawler.tree.details(node_id).tags == tags, f"tags of {node_id} lost"


def seeded(probability: float, fault: Fault, seed: int = 5) -> Callable[[], Fault | None]:
    rng = random.Random(seed)
    lock = threading.Lock()

    def draw() -> Fault | None:
        with lock:
            return fault if rng.random() < probability else None

    return draw


def test_a_throttle_storm_then_calm_loses_nothing(server: SimServer) -> None:
    built = build(server.admin_client(), levels=4, per_level=6)
    storm = seeded(0.5, Fault.error("TooManyRequestsException", 400, "Rate exceeded"))
    requests = itertools.count(1)
    server.middleware.fault = lambda op: storm() if next(requests) <= STORM_REQUESTS else None

    crawler = crawler_for(server)
    outcome = crawler.run()

    assert outcome.state is CrawlState.COMPLETE
    assert outcome.stats.failed == 0
    assert outcome.stats.total_throttled >= 10
    assert outcome.stats.retries >= outcome.stats.total_throttled
    assert_everything_arrived(crawler, built)


def test_errors_drops_and_latency_spikes_are_retried(server: SimServer) -> None:
    built = build(server.admin_client())
    faults = [
        seeded(0.08, Fault.error("InternalFailure", 500), seed=1),
        seeded(0.08, Fault.error("ServiceUnavailable", 503), seed=2),
        seeded(0.08, Fault.dropped(), seed=3),
        seeded(0.05, Fault.delay(2.0), seed=4),
    ]

    def hook(operation: str) -> Fault | None:
        for draw in faults:
            fault = draw()
            if fault is not None:
                return fault
        return None

    server.middleware.fault = hook
    crawler = crawler_for(server)
    outcome = crawler.run()

    assert outcome.state is CrawlState.COMPLETE
    assert outcome.stats.failed == 0
    assert sum(server.middleware.stats().faulted.values()) >= 5
    assert_everything_arrived(crawler, built)


def test_expired_credentials_stop_cleanly_and_resume_after_login(server: SimServer) -> None:
    built = build(server.admin_client())
    expired = {"on": False}
    sent = {"n": 0}

    def hook(operation: str) -> Fault | None:
        sent["n"] += 1
        if sent["n"] > 12:
            expired["on"] = True
        if expired["on"]:
            return Fault.error("ExpiredTokenException", 400, "The security token has expired")
        return None

    server.middleware.fault = hook
    crawler = crawler_for(server)
    outcome = crawler.run()

    assert outcome.state is CrawlState.FAILED
    assert outcome.error_code == "ExpiredTokenException"
    assert "aws sso login" in outcome.message
    found_before = len(crawler.tree)
    assert 0 < found_before < len(built.parents)
    assert crawler.resumable
    # What was still to be listed is flagged, as a failed listing would be.
    assert outcome.incomplete
    containers = {i for i in [*built.parents, *built.parents.values()] if i[:2] in ("r-", "ou")}
    assert set(outcome.incomplete) <= containers
    assert all("ExpiredTokenException" in why for why in outcome.incomplete.values())

    server.middleware.fault = None  # the user logged in again
    outcome = crawler.resume()

    assert outcome.state is CrawlState.COMPLETE
    assert crawler.tree.incomplete() == {}
    assert_everything_arrived(crawler, built)


def test_cancel_then_resume_picks_up_every_unfinished_call(server: SimServer) -> None:
    built = build(server.admin_client())
    server.middleware.latency = (0.05, 0.1)
    crawler = crawler_for(server)
    runner = threading.Thread(target=crawler.run)
    runner.start()
    while len(crawler.tree) < 8:
        time.sleep(0.01)
    crawler.cancel()
    runner.join(timeout=2)
    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.CANCELLED

    outcome = crawler.resume()

    assert outcome.state is CrawlState.COMPLETE
    assert_everything_arrived(crawler, built)


def test_denied_policies_are_marked_not_permitted_and_structure_completes(
    server: SimServer,
) -> None:
    built = build(server.admin_client(), levels=2, per_level=2)
    denied = {"ListPolicies", "ListTargetsForPolicy", "ListPoliciesForTarget"}
    server.middleware.fault = lambda op: (
        Fault.error("AccessDeniedException") if op in denied else None
    )

    crawler = crawler_for(server)
    outcome = crawler.run()

    # The structure is whole, but refused SCPs make the crawl incomplete (issue 11, item 10).
    assert outcome.state is CrawlState.INCOMPLETE
    assert outcome.incomplete == {}
    for node_id in built.parents:
        details = crawler.tree.details(node_id)
        assert details.policies_state is DetailState.DENIED
        assert details.tags_state is DetailState.LOADED


def test_a_member_account_is_told_what_it_needs(server: SimServer) -> None:
    build(server.admin_client(), levels=1, per_level=1)
    server.middleware.fault = lambda op: (
        Fault.error(
            "AccessDeniedException", 400, "You don't have permissions to access this resource."
        )
        if op == "ListRoots"
        else None
    )
    outcome = crawler_for(server).run()
    assert outcome.state is CrawlState.FAILED
    assert "management account or a delegated administrator" in outcome.message
