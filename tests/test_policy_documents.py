"""Policy documents on demand: DescribePolicy ahead of everything queued, kept in the tree
and its cache; a refused call reads "not permitted" and is asked again next time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from test_crawl_trust import Faulty, Finishes, error

from orgtree_tui.cache import store
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.crawl.task import URGENT
from orgtree_tui.records import DetailState

from conftest import FAST
from orgs import TAG_CONTENT, policy_org


def test_a_document_asked_for_after_the_crawl_arrives_and_is_cached(moto_client: Any) -> None:
    org = policy_org(moto_client)
    tag_policy = org.policies["CostCenter"]
    client = Faulty()
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    assert client.count("DescribePolicy") == 0  # never during a crawl
    assert crawler.tree.policy_document(tag_policy).state is DetailState.PENDING

    finishes = Finishes(crawler)
    crawler.request_policy_document(tag_policy)
    finishes.wait()
    document = crawler.tree.policy_document(tag_policy)
    assert document.state is DetailState.LOADED
    assert document.content is not None and json.loads(document.content) == json.loads(TAG_CONTENT)
    assert document.policy is not None and document.policy.type == "TAG_POLICY"

    crawled = datetime(2026, 1, 1, tzinfo=UTC)
    store.save(crawler.tree, source="profile:docs", complete=True, crawled_at=crawled)
    cached = store.load("profile:docs").cached
    assert cached is not None
    assert cached.tree.policy_document(tag_policy) == document


def test_a_refused_document_is_not_permitted_then_asked_again(moto_client: Any) -> None:
    org = policy_org(moto_client)
    scp = org.policies["DenyIam"]
    client = Faulty()
    refuse = {"on": True}

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "DescribePolicy" and refuse["on"]:
            return error("AccessDeniedException", op)
        return None

    client.fault = fault
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    finishes = Finishes(crawler)
    crawler.request_policy_document(scp)
    finishes.wait()
    assert crawler.tree.policy_document(scp).state is DetailState.DENIED
    refuse["on"] = False
    crawler.request_policy_document(scp)
    finishes.wait()
    assert crawler.tree.policy_document(scp).state is DetailState.LOADED
    assert client.count("DescribePolicy") == 2


def test_a_document_goes_ahead_of_everything_queued(moto_client: Any) -> None:
    org = policy_org(moto_client)
    crawler = Crawler(Faulty(), CrawlOptions(quotas=FAST))
    queued: list[Any] = []
    submit = crawler.loop.submit

    def spy(task: Any) -> bool:
        queued.append(task)
        return submit(task)

    crawler._documents.submit = spy
    crawler.request_policy_document(org.policies["NoAi"])
    (task,) = queued
    assert (task.operation, task.priority) == ("DescribePolicy", URGENT)
