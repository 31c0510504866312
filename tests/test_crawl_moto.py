"""The crawler against moto in-process: shapes of organizations, pagination, errors."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from orgtree_tui.aws import OrgClient
from orgtree_tui.connection import WriteRefusedError
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.quotas import Quota
from orgtree_tui.records import DetailState, Node, NodeType
from orgtree_tui.sim import ThrottleMiddleware  # noqa: F401 - the package must import cleanly

from conftest import FAST
from orgs import OrgBuilder


def crawl(client: Any, **options: Any) -> Crawler:
    options.setdefault("quotas", FAST)
    crawler = Crawler(OrgClient(client), CrawlOptions(**options))
    crawler.run()
    return crawler


def test_more_than_twenty_children_on_one_parent(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    wide = org.ou("Wide")
    ou_ids = {org.ou(f"child-{i:02}", wide) for i in range(23)}
    account_ids = {org.account(f"acct-{i:02}", wide) for i in range(45)}

    crawler = crawl(moto_client)

    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.COMPLETE
    children = crawler.tree.children(wide)
    assert {c.id for c in children if c.type is NodeType.ORGANIZATIONAL_UNIT} == ou_ids
    assert {c.id for c in children if c.type is NodeType.ACCOUNT} == account_ids
    # 45 accounts at 20 per page is three pages; more calls than parents proves paging.
    assert crawler.outcome.stats.calls["ListAccountsForParent"] >= 3 + len(ou_ids)
    names = [c.name for c in children]
    assert names == sorted(names[:23]) + sorted(names[23:])


def test_five_levels_and_an_empty_ou(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    parent = None
    chain = []
    for level in range(5):
        parent = org.ou(f"L{level}", parent)
        chain.append(parent)
    deep = org.account("deep", parent)
    empty = org.ou("Empty")

    crawler = crawl(moto_client)

    tree = crawler.tree
    assert tree.path(deep) == "/Root/L0/L1/L2/L3/L4/deep"
    assert [a.id for a in tree.ancestors(deep)][1:] == chain
    assert tree.children(empty) == []
    assert tree.get(empty) is not None
    assert tree.counts(chain[0]).accounts == 1 and tree.counts(chain[0]).ous == 4


def test_unicode_and_punctuation_in_names(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    names = ["Ünïcødé & Co. (EU)", "R&D: 'labs' #1", "日本語チーム", "a.b-c_d+e=f@g"]
    ids = {name: org.account(name, org.ou(f"OU {name}")) for name in names}

    tree = crawl(moto_client).tree

    for name, account_id in ids.items():
        node = tree.get(account_id)
        assert node is not None and node.name == name
        assert tree.find(tree.path(account_id)) == node


def test_accounts_carry_their_fields_and_tags_and_policies(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    ou = org.ou("Security", tags={"Owner": "secops"})
    account = org.account("audit", ou, tags={"Env": "prod", "CostCenter": "42"})

    tree = crawl(moto_client).tree

    node = tree.get(account)
    assert node is not None
    assert node.email and node.email.endswith("@example.com")
    assert node.state == "ACTIVE"
    assert node.joined_method == "CREATED"
    assert node.joined_timestamp is not None and node.joined_timestamp.tzinfo is not None
    assert node.arn.endswith(account)
    details = tree.details(account)
    assert details.tags == {"Env": "prod", "CostCenter": "42"}
    assert details.policies is not None
    assert [p.name for p in details.policies] == ["FullAWSAccess"]
    assert tree.details(ou).tags == {"Owner": "secops"}


def test_no_details_crawls_structure_only(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    account = org.account("a", org.ou("X"), tags={"k": "v"})

    crawler = crawl(moto_client, details=False)

    assert crawler.tree.get(account) is not None
    assert "ListTagsForResource" not in crawler.outcome.stats.calls  # type: ignore[union-attr]
    assert crawler.tree.details(account).tags_state is DetailState.PENDING


def test_not_in_an_organization_fails_with_a_clear_message(moto_client: Any) -> None:
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST))
    outcome = crawler.run()
    assert outcome.state is CrawlState.FAILED
    assert outcome.error_code == "AWSOrganizationsNotInUseException"
    assert "not a member of an AWS Organization" in outcome.message
    assert "Traceback" not in outcome.message


def test_the_model_is_updated_before_other_listeners_hear(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    org.account("a", org.ou("X"))
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST))
    seen_in_tree: list[bool] = []

    class Listener:
        def on_node(self, node: Node) -> None:
            seen_in_tree.append(crawler.tree.get(node.id) == node)

    listener = Listener()
    crawler.publisher.subscribe(listener.on_node, topics.ACCOUNT)
    crawler.run()
    assert seen_in_tree and all(seen_in_tree)


def test_topics_are_strict_and_publishers_private(moto_client: Any) -> None:
    first, second = topics.new_publisher(), topics.new_publisher()
    heard: list[str] = []

    class Listener:
        def on_tags(self, node_id: str, tags: dict[str, str]) -> None:
            heard.append(node_id)

    listener = Listener()
    first.subscribe(listener.on_tags, topics.TAGS)
    second.sendMessage(topics.TAGS, node_id="other", tags={})
    first.sendMessage(topics.TAGS, node_id="mine", tags={})
    assert heard == ["mine"]
    with pytest.raises(Exception, match=r"crawl\.typo"):
        first.sendMessage("crawl.typo", node_id="x")
    with pytest.raises(Exception):  # noqa: B017 - pypubsub's own error type for missing data
        first.sendMessage(topics.TAGS, node_id="x")


def test_the_client_refuses_anything_but_list_and_describe(org_client: OrgClient) -> None:
    with pytest.raises(WriteRefusedError):
        org_client.call("CreateAccount", Email="x@example.com", AccountName="x")
    # Even the raw boto3 client under it refuses before sending.
    with pytest.raises(WriteRefusedError):
        org_client.raw.create_organization(FeatureSet="ALL")
    with pytest.raises(WriteRefusedError):
        org_client.raw.delete_organization()


class EmptyFirstPages:
    """Wraps a real client: every child listing first answers an empty page with a token,
    as AWS may; following the token gives the real first page."""

    MARK = "orgtree-empty-page"

    def __init__(self, inner: OrgClient) -> None:
        self.inner = inner
        self.empty_pages = 0

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation in ("ListAccountsForParent", "ListOrganizationalUnitsForParent"):
            token = params.get("NextToken")
            if token is None:
                self.empty_pages += 1
                key = "Accounts" if operation == "ListAccountsForParent" else "OrganizationalUnits"
                return {key: [], "NextToken": self.MARK}
            if token == self.MARK:
                params.pop("NextToken")
        return self.inner.call(operation, **params)


def test_an_empty_page_with_a_next_token_is_followed(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    account = org.account("hidden-behind-an-empty-page", org.ou("X"))
    client = EmptyFirstPages(OrgClient(moto_client))

    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()

    assert client.empty_pages >= 4
    assert crawler.tree.get(account) is not None


def test_request_details_fetches_at_once_without_bulk_details(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    account = org.account("a", org.ou("X"), tags={"Team": "core"})
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST, details=False))

    class Asker:
        def on_account(self, node: Node) -> None:
            crawler.request_details(node.id)

    asker = Asker()
    crawler.publisher.subscribe(asker.on_account, topics.ACCOUNT)
    crawler.run()

    details = crawler.tree.details(account)
    assert details.tags == {"Team": "core"}
    assert details.policies is not None and details.policies[0].name == "FullAWSAccess"


def test_a_branch_that_stays_throttled_is_marked_incomplete(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    blocked = org.ou("Blocked")
    org.account("inside", blocked)
    fine = org.account("fine")

    class ThrottleOneParent:
        def __init__(self, inner: OrgClient) -> None:
            self.inner = inner

        def call(self, operation: str, **params: Any) -> dict[str, Any]:
            if params.get("ParentId") == blocked and operation == "ListAccountsForParent":
                # A real throttle, raised by botocore from a real error response.
                from botocore.exceptions import ClientError

                raise ClientError(
                    {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}},
                    operation,
                )
            return self.inner.call(operation, **params)

    quotas = dict(FAST)
    quotas["ListAccountsForParent"] = Quota(200, 5)
    crawler = Crawler(
        ThrottleOneParent(OrgClient(moto_client)), CrawlOptions(quotas=quotas, deadline=0.5)
    )
    outcome = crawler.run()

    assert outcome.state is CrawlState.INCOMPLETE
    assert set(outcome.incomplete) == {blocked}
    assert crawler.tree.get(fine) is not None
    assert outcome.stats.retries > 0 and outcome.stats.failed == 1


def test_details_asked_for_after_the_crawl_ended_arrive_in_the_background(
    moto_client: Any,
) -> None:
    org = OrgBuilder(moto_client)
    account = org.account("late", org.ou("X"), tags={"Asked": "later"})
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST, details=False))
    assert crawler.run().state is CrawlState.COMPLETE
    finished: list[CrawlState] = []

    class Listener:
        def on_finished(self, outcome: Any) -> None:
            finished.append(outcome.state)

    listener = Listener()
    crawler.publisher.subscribe(listener.on_finished, topics.FINISHED)
    crawler.request_details(account)
    deadline = time.monotonic() + 5
    while crawler.tree.details(account).tags is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert crawler.tree.details(account).tags == {"Asked": "later"}
    while not finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert finished == [CrawlState.COMPLETE]

    def crawl_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("orgtree-crawl")]

    while crawl_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert crawl_threads() == []
