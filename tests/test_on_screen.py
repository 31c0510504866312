"""Details of the nodes on screen go out before those off screen (issue 12 item 7)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.records import Node, NodeType

from conftest import FAST
from orgs import OrgBuilder


class Recording:
    """moto's answers, with the order in which tags were asked for."""

    def __init__(self) -> None:
        self.inner = OrgClient(boto3.client("organizations", region_name="us-east-1"))
        self.tags_asked: list[str] = []
        self.lock = threading.Lock()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation == "ListTagsForResource":
            with self.lock:
                self.tags_asked.append(params["ResourceId"])
        return self.inner.call(operation, **params)


def accounts_found(crawler: Crawler, ids: list[str], parent_id: str) -> None:
    # What the structure listing publishes; the planner queues each one's tags behind it.
    for account_id in ids:
        node = Node(account_id, NodeType.ACCOUNT, account_id, f"arn:{account_id}", parent_id)
        crawler.publisher.sendMessage(topics.ACCOUNT, node=node)


def test_tags_of_nodes_on_screen_go_out_first(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"acct {i}", org.built.root_id, tags={"N": str(i)}) for i in range(6)]
    client = Recording()
    crawler = Crawler(client, CrawlOptions(workers=1, quotas=FAST))
    accounts_found(crawler, ids, org.built.root_id)

    crawler.prioritise_on_screen([ids[4], ids[2]])
    crawler.loop.run()  # one worker: the calls go out strictly in queue order

    assert client.tags_asked == [ids[2], ids[4], ids[0], ids[1], ids[3], ids[5]]
    assert crawler.tree.details(ids[4]).tags == {"N": "4"}


def test_the_cursor_still_comes_before_the_screen(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"acct {i}", org.built.root_id) for i in range(4)]
    client = Recording()
    crawler = Crawler(client, CrawlOptions(workers=1, quotas=FAST))
    accounts_found(crawler, ids, org.built.root_id)

    crawler.prioritise_on_screen([ids[1], ids[2]])
    crawler.request_details(ids[3])
    crawler.loop.run()

    assert client.tags_asked[:3] == [ids[3], ids[1], ids[2]]


def test_a_structure_only_crawl_asks_for_no_tags(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"acct {i}", org.built.root_id) for i in range(2)]
    client = Recording()
    crawler = Crawler(client, CrawlOptions(workers=1, quotas=FAST, details=False))
    accounts_found(crawler, ids, org.built.root_id)

    crawler.prioritise_on_screen(ids)
    crawler.loop.run()

    assert client.tags_asked == []


class EmptyFirstPage(Recording):
    """AWS may answer a page with nothing but a NextToken: the first tags page of `node_id`
    is one, and `on_call(resource_id)` runs as each tags call goes out."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.on_call: Callable[[str], None] = lambda resource_id: None

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation != "ListTagsForResource":
            return self.inner.call(operation, **params)
        resource_id = params["ResourceId"]
        with self.lock:
            self.tags_asked.append(resource_id)
        self.on_call(resource_id)
        if resource_id == self.node_id and "NextToken" not in params:
            return {"Tags": [], "NextToken": "more"}
        params.pop("NextToken", None)
        return self.inner.call(operation, **params)


def test_a_selected_node_whose_tags_chain_is_under_way_jumps_the_queue(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"acct {i}", org.built.root_id, tags={"N": str(i)}) for i in range(4)]
    client = EmptyFirstPage(ids[0])
    crawler = Crawler(client, CrawlOptions(workers=1, quotas=FAST))
    # While ids[1]'s tags are on the wire, ids[0]'s second page waits in the queue: the user
    # selects ids[0] then.
    client.on_call = lambda rid: crawler.request_details(ids[0]) if rid == ids[1] else None
    accounts_found(crawler, ids, org.built.root_id)
    crawler.loop.run()

    assert client.tags_asked == [ids[0], ids[1], ids[0], ids[2], ids[3]]
    assert crawler.tree.details(ids[0]).tags == {"N": "0"}


def test_a_selected_node_keeps_its_priority_past_an_empty_page(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"acct {i}", org.built.root_id, tags={"N": str(i)}) for i in range(4)]
    client = EmptyFirstPage(ids[3])
    crawler = Crawler(client, CrawlOptions(workers=1, quotas=FAST))
    accounts_found(crawler, ids, org.built.root_id)
    crawler.request_details(ids[3])  # selected while its first page is still queued
    crawler.loop.run()

    assert client.tags_asked == [ids[3], ids[3], ids[0], ids[1], ids[2]]
