"""What the policy screen's workers do (ui/policy_fetch.py, no screen needed): a document the
tree already holds is shown without a call; a tree with no crawl behind it says so; closing
the screen while DescribePolicy is held ends the wait; the reach of a policy attached two
levels up. Expectations are written out by hand from `policy_org` (tests/orgs.py)."""

from __future__ import annotations

import threading
from typing import Any

from ui_support import FAST, GatedClient

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.model import OrgTree
from orgtree_tui.records import DetailState, Policy, PolicyDocument
from orgtree_tui.ui.policy_fetch import document_of, reach_of

from orgs import policy_org


def test_a_tree_without_a_crawl_shows_what_it_holds_or_says_why() -> None:
    tree = OrgTree()
    content = '{"Version": "2012-10-17"}'
    policy = Policy("p-held", "Held")
    tree.set_policy_document(PolicyDocument("p-held", policy, content, DetailState.LOADED))
    held = document_of(tree, None, "p-held", lambda: False)
    assert held is not None and held.document is not None
    assert held.document.content == content
    missing = document_of(tree, None, "p-other", lambda: False)
    assert missing is not None and missing.document is None
    assert missing.reason == "not fetched: no crawl is running to fetch it (r crawls)"


def test_closing_the_screen_ends_the_wait_for_a_held_document(moto_client: Any) -> None:
    org = policy_org(moto_client)
    client = GatedClient(OrgClient(moto_client), hold=lambda op, params: op == "DescribePolicy")
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    closed = threading.Event()
    asked = threading.Event()

    def cancelled() -> bool:
        asked.set()  # looked at only while the answer is awaited
        return closed.is_set()

    found: list[object] = []
    waiter = threading.Thread(
        target=lambda: found.append(
            document_of(crawler.tree, crawler, org.policies["DenyIam"], cancelled)
        )
    )
    try:
        waiter.start()
        assert asked.wait(30), "document_of never waited for the answer"
        closed.set()
        waiter.join(30)
        assert not waiter.is_alive(), "the wait did not end when the screen closed"
        assert found == [None]
        assert "DescribePolicy" in client.calls
    finally:
        client.release()
        waiter.join(30)
    # The held call still lands (in the tree, for the next opening), before moto goes away.
    deadline = threading.Event()
    for _ in range(300):
        if crawler.tree.policy_document(org.policies["DenyIam"]).state is DetailState.LOADED:
            break
        deadline.wait(0.1)
    else:
        raise AssertionError("waited 30 s for the released DescribePolicy to land")


def test_the_reach_of_an_scp_attached_two_levels_up(moto_client: Any) -> None:
    org = policy_org(moto_client)
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST))
    crawler.run()
    b = org.built
    deny_regions = Policy(org.policies["DenyRegions"], "DenyRegions")
    found = reach_of(crawler.tree, deny_regions, b.accounts["app-prod"])
    assert found.attached_to == ((b.ous["Workloads"], "/Root/Workloads"),)
    assert set(found.applies_to) == {b.ous["Workloads"], b.ous["Prod"], b.accounts["app-prod"]}
    assert found.accounts == 1
