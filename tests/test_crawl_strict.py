"""The crawler on the strict simulated endpoint (AWS's paging), and moto's paging kept for
comparison. Each test runs its own SimServer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.demo import seed_spec, start_demo
from orgtree_tui.identity import open_session
from orgtree_tui.quotas import DOCUMENTED_QUOTAS, Quota
from orgtree_tui.sim import SimServer

from sim_fixtures import NO_RETRY, sizes

pytestmark = pytest.mark.slow


def test_moto_paging_on_request_for_comparison() -> None:
    with SimServer(latency=(0.0, 0.0), throttle=False, paging="moto") as server:
        admin = server.admin_client()
        admin.create_organization(FeatureSet="ALL")
        root = admin.list_roots()["Roots"][0]["Id"]
        for i in range(25):
            admin.create_organizational_unit(ParentId=root, Name=f"ou-{i}")
        client = server.client(NO_RETRY)
        assert server.pager is None
        assert sizes(client, "ListChildren", ParentId=root, ChildType="ORGANIZATIONAL_UNIT") == [25]
    with pytest.raises(ValueError, match="paging"):
        SimServer(paging="aws")  # type: ignore[arg-type]


@pytest.mark.parametrize("shared", [False, True])
def test_the_crawler_finds_the_whole_seed_org_on_the_strict_endpoint(shared: bool) -> None:
    # Ten times AWS's rates, so the test is quick, but still throttled and with empty pages
    # one page in five; both the server and the client believe the same table.
    fast = {op: Quota(q.rate * 10, q.burst) for op, q in DOCUMENTED_QUOTAS.items()}
    with start_demo(seed_spec(), latency=(0.0, 0.005), quotas=fast, shared_rows=shared) as demo:
        pager = demo.server.pager
        assert pager is not None
        pager.empty_rate = 0.2
        sent: list[tuple[str, Any]] = []
        conn = Connection(endpoint_url=demo.endpoint_url, access_key="testing", secret_key="x")
        client = make_client(conn, session=open_session(conn), max_pool=8)
        client.raw.meta.events.register(
            "before-send.organizations",
            lambda request, **_: sent.append(
                (request.headers["X-Amz-Target"].decode(), json.loads(request.body))
            ),
        )
        crawler = Crawler(client, CrawlOptions(quotas=fast))
        outcome = crawler.run()
        assert outcome.state is CrawlState.COMPLETE
        comparison = demo.truth.compare(crawler.tree)
        assert comparison.ok, comparison
        # AWS's paging: FullAWSAccess is on every node, so its targets alone are N/20 pages
        # (moto's paging: one page).
        calls = demo.middleware.stats().calls
        assert calls["ListTargetsForPolicy"] >= -(-len(demo.truth.nodes) // 20)
        # Every call whose input takes MaxResults asked for 20 (ListTagsForResource and the
        # Describe calls take none).
        wrong = [
            (target, body)
            for target, body in sent
            if body.get("MaxResults")
            != (20 if ".List" in target and "Tags" not in target else None)
        ]
        assert sent and not wrong, wrong[:5]
