"""Policy documents on demand: DescribePolicy ahead of everything queued, kept in the tree
and its cache; a refused call reads "not permitted" and is asked again next time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from test_crawl_trust import Faulty, Finishes, error

from orgtree_tui.cache import store
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.crawl.task import URGENT
from orgtree_tui.main import main
from orgtree_tui.records import DetailState
from orgtree_tui.sim.server import SimServer

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


def test_export_policy_documents_writes_every_applying_policys_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        org = policy_org(sim.admin_client())
        argv = ["export", "--endpoint-url", sim.endpoint_url, "-q", "--no-cache"]
        assert main(argv) == 0
        plain = json.loads(capsys.readouterr().out)
        assert "policy_documents" not in plain
        assert main([*argv, "--policy-documents"]) == 0
        doc = json.loads(capsys.readouterr().out)
        # Security's subtree: what applies there, attached in it or above it, nothing else.
        security = org.built.ous["Security"]
        assert main([*argv, "--policy-documents", "--subtree", security]) == 0
        sub = json.loads(capsys.readouterr().out)
    documents = doc["policy_documents"]
    assert set(documents) == {*org.policies.values(), "p-FullAWSAccess", "p-RCPFullAWSAccess"}
    cost = documents[org.policies["CostCenter"]]
    assert cost["name"] == "CostCenter" and cost["type"] == "TAG_POLICY"
    assert cost["aws_managed"] is False and cost["description"] == "CostCenter (test)"
    assert json.loads(cost["content"]) == json.loads(TAG_CONTENT)
    assert documents["p-FullAWSAccess"]["aws_managed"] is True
    # Only the root's DenyLeave reaches Security from above; Workloads' policies do not.
    names = {d["name"] for d in sub["policy_documents"].values()}
    assert names == {"FullAWSAccess", "RCPFullAWSAccess", "DenyLeave"}
