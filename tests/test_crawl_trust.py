"""Whole crawls on moto that must never claim more than they found: handler failures and
resume, a cancel racing a background resume, failing listeners, refused alternatives,
ConcurrentModificationException, one policy whose targets fail, details asked for again,
`aws login` errors, and SCP attachments that arrive page by page."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
import botocore.exceptions as bexc
import pytest
from botocore.exceptions import ClientError

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlOutcome, CrawlState
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.quotas import Quota
from orgtree_tui.records import DetailState, Node, Policy

from conftest import FAST
from orgs import Built, OrgBuilder

WAIT = 10.0  # seconds to wait for a background run to report before the test fails
FULL_ACCESS = "p-FullAWSAccess"


def error(code: str, operation: str, message: str = "") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message or code},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


Fault = Callable[[str, dict[str, Any]], Exception | dict[str, Any] | None]


class Faulty:
    """moto's answers, except where `fault(operation, params)` returns an exception (raised)
    or a response (returned instead)."""

    def __init__(self) -> None:
        self.inner = OrgClient(boto3.client("organizations", region_name="us-east-1"))
        self.fault: Fault = lambda op, params: None
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        with self.lock:
            self.calls.append((operation, dict(params)))
        answer = self.fault(operation, params)
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        return self.inner.call(operation, **params)

    def count(self, operation: str) -> int:
        with self.lock:
            return sum(1 for op, _ in self.calls if op == operation)


def small_org(moto_client: Any) -> Built:
    org = OrgBuilder(moto_client)
    for i in range(3):
        ou = org.ou(f"OU {i}", tags={"Level": str(i)})
        for j in range(2):
            org.account(f"acct {i}-{j}", ou, tags={"Owner": f"team-{j}"})
    return org.built


def assert_whole_tree(crawler: Crawler, built: Built) -> None:
    for node_id, parent_id in built.parents.items():
        node = crawler.tree.get(node_id)
        assert node is not None, f"{node_id} missing"
        assert node.parent_id == parent_id
    assert crawler.tree.get(built.root_id) is not None


class BranchErrors:
    """Every crawl.branch_error (pypubsub holds listeners weakly: this object keeps it)."""

    def __init__(self, crawler: Crawler) -> None:
        self.errors: list[BranchError] = []
        crawler.publisher.subscribe(self.on_error, topics.BRANCH_ERROR)

    def on_error(self, error: BranchError) -> None:
        self.errors.append(error)


class Finishes:
    """Counts crawl.finished messages, so a test can wait for a background run."""

    def __init__(self, crawler: Crawler) -> None:
        self.outcomes: list[CrawlOutcome] = []
        self.event = threading.Event()
        crawler.publisher.subscribe(self.on_finished, topics.FINISHED)

    def on_finished(self, outcome: CrawlOutcome) -> None:
        self.outcomes.append(outcome)
        self.event.set()

    def wait(self) -> CrawlOutcome:
        assert self.event.wait(WAIT), "no crawl.finished from the background run"
        self.event.clear()
        return self.outcomes[-1]


# -- item 1: a fatal handler failure, then resume ------------------------------------------


def test_a_malformed_roots_page_stops_the_crawl_and_resume_gives_the_whole_tree(
    moto_client: Any,
) -> None:
    built = small_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        {"Roots": [{"Name": "Root"}]} if op == "ListRoots" else None  # an item with no Id
    )
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    outcome = crawler.run()
    assert outcome.state is CrawlState.FAILED
    assert crawler.resumable

    client.fault = lambda op, params: None  # the endpoint recovered
    outcome = crawler.resume()

    assert outcome.state is CrawlState.COMPLETE
    assert_whole_tree(crawler, built)


# -- item 2: a cancel that lands before the background resume runs ---------------------------


def test_a_cancel_before_the_background_resume_runs_wins(moto_client: Any) -> None:
    built = small_org(moto_client)
    client = Faulty()
    crawler = Crawler(client, CrawlOptions(quotas=FAST, details=False))
    assert crawler.run().state is CrawlState.COMPLETE
    finishes = Finishes(crawler)
    resume = crawler.loop.resume

    def cancel_first() -> Any:
        crawler.cancel()  # lands after RESUMING was claimed, before the resumed run
        return resume()

    crawler.loop.resume = cancel_first  # type: ignore[method-assign]
    crawler.request_details(built.accounts["acct 0-0"])

    assert finishes.wait().state is CrawlState.CANCELLED
    assert client.count("ListTagsForResource") == 0
    assert client.count("ListPoliciesForTarget") == 0


# -- item 3: listeners that raise -------------------------------------------------------------


def test_failing_listeners_are_logged_and_neither_stop_the_others_nor_the_crawl(
    moto_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    built = small_org(moto_client)
    crawler = Crawler(Faulty(), CrawlOptions(quotas=FAST))

    def broken_progress(stats: object) -> None:
        raise RuntimeError("progress bar broke")

    def broken_account(node: Node) -> None:
        raise RuntimeError("account listener broke")

    seen: list[str] = []

    def record(node: Node) -> None:
        seen.append(node.id)

    # Subscribed before the recorder: pypubsub calls listeners in subscription order.
    crawler.publisher.subscribe(broken_progress, topics.PROGRESS)
    crawler.publisher.subscribe(broken_account, topics.ACCOUNT)
    crawler.publisher.subscribe(record, topics.ACCOUNT)
    with caplog.at_level(logging.ERROR, logger="orgtree_tui.crawl.topics"):
        outcome = crawler.run()

    assert outcome.state is CrawlState.COMPLETE
    management = moto_client.describe_organization()["Organization"]["MasterAccountId"]
    assert sorted(seen) == sorted([*built.accounts.values(), management])
    assert_whole_tree(crawler, built)
    messages = [r.getMessage() for r in caplog.records]
    assert any("crawl.progress" in m for m in messages)
    assert any("crawl.account" in m for m in messages)


# -- item 4: one of two calls refused -------------------------------------------------------


def test_list_accounts_for_parent_refused_lists_with_list_children(moto_client: Any) -> None:
    built = small_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        error("AccessDeniedException", op) if op == "ListAccountsForParent" else None
    )
    crawler = Crawler(client, CrawlOptions(quotas=FAST, details=False))
    assert crawler.run().state is CrawlState.COMPLETE
    assert client.count("ListChildren") >= 4  # the root and every OU
    assert_whole_tree(crawler, built)


def test_list_children_refused_lists_with_list_accounts_for_parent(moto_client: Any) -> None:
    built = small_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        error("AccessDeniedException", op) if op == "ListChildren" else None
    )
    # ListAccountsForParent one token at a time: ListChildren, with its own bucket, gets
    # its turn, and is refused.
    quotas = {**FAST, "ListAccountsForParent": Quota(50, 1)}
    crawler = Crawler(client, CrawlOptions(quotas=quotas, details=False))
    outcome = crawler.run()
    assert client.count("ListChildren") >= 1
    assert outcome.state is CrawlState.COMPLETE
    assert_whole_tree(crawler, built)


# -- item 5: ConcurrentModificationException --------------------------------------------------


def test_concurrent_modification_on_describe_organization_is_retried(moto_client: Any) -> None:
    built = small_org(moto_client)
    client = Faulty()
    refused = {"n": 0}

    def once(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "DescribeOrganization" and refused["n"] == 0:
            refused["n"] += 1
            return error("ConcurrentModificationException", op, "try again later")
        return None

    client.fault = once
    crawler = Crawler(client, CrawlOptions(quotas=FAST, details=False))
    assert crawler.run().state is CrawlState.COMPLETE
    assert client.count("DescribeOrganization") == 2
    assert crawler.tree.organization is not None
    assert_whole_tree(crawler, built)


# -- item 6: one policy whose targets cannot be listed ----------------------------------------


def scp_org(moto_client: Any) -> tuple[Built, str, str]:
    """small_org plus a custom SCP attached to one OU: (built, policy id, that OU)."""
    built = small_org(moto_client)
    policy_id = moto_client.create_policy(
        Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*",'
        '"Resource":"*"}]}',
        Description="no s3",
        Name="DenyS3",
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    target = built.ous["OU 1"]
    moto_client.attach_policy(PolicyId=policy_id, TargetId=target)
    return built, policy_id, target


@pytest.mark.parametrize("code", ["PolicyNotFoundException", "AccessDeniedException"])
def test_one_policy_whose_targets_fail_keeps_every_other_attachment(
    moto_client: Any, code: str
) -> None:
    built, policy_id, target = scp_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        error(code, op)
        if op == "ListTargetsForPolicy" and params["PolicyId"] == FULL_ACCESS
        else None
    )
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    recorded = BranchErrors(crawler)
    crawler.run()
    errors = recorded.errors

    details = crawler.tree.details(target)
    assert details.policies_state is DetailState.LOADED
    assert details.policies == (Policy(policy_id, "DenyS3"),)
    for node_id in built.parents:  # nobody's list was thrown away
        assert crawler.tree.details(node_id).policies_state is DetailState.LOADED
    [flag] = [e for e in errors if e.part == "policy_targets"]
    assert (flag.node_id, flag.operation, flag.code) == (FULL_ACCESS, "ListTargetsForPolicy", code)
    assert flag.denied is (code == "AccessDeniedException")
    assert not [e for e in errors if e.part == "policies"]


def test_list_policies_failing_stays_one_policies_error_with_no_node(moto_client: Any) -> None:
    small_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        error("AccessDeniedException", op) if op == "ListPolicies" else None
    )
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    recorded = BranchErrors(crawler)
    crawler.run()
    errors = recorded.errors
    assert [(e.node_id, e.part) for e in errors] == [("", "policies")]


# -- issue 12 item 5: attachments published page by page --------------------------------------


class PagedTargets(Faulty):
    """ListTargetsForPolicy two targets a page, as a NextToken chain (AWS pages at 20).
    ListPolicies waits until `ready()`, so every node is known when the pages land."""

    PAGE = 2

    def __init__(self, ready: Callable[[], bool]) -> None:
        super().__init__()
        self.ready = ready
        self.fault = self.page

    def page(self, op: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if op == "ListPolicies":
            waited = threading.Event()
            for _ in range(int(WAIT / 0.01)):
                if self.ready():
                    break
                waited.wait(0.01)
            assert self.ready(), "the structure never arrived"
        if op != "ListTargetsForPolicy":
            return None
        start = int(params.get("NextToken", "0"))
        targets = self.inner.call(op, PolicyId=params["PolicyId"])["Targets"]
        answer: dict[str, Any] = {"Targets": targets[start : start + self.PAGE]}
        if start + self.PAGE < len(targets):
            answer["NextToken"] = str(start + self.PAGE)
        return answer


def test_each_page_of_a_policys_targets_is_in_the_model_as_it_lands(moto_client: Any) -> None:
    built = small_org(moto_client)
    management = moto_client.describe_organization()["Organization"]["MasterAccountId"]
    nodes = [built.root_id, *built.parents, management]
    crawler: Crawler | None = None
    client = PagedTargets(lambda: crawler is not None and len(crawler.tree) == len(nodes))
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    events: list[tuple[str, tuple[str, ...]]] = []
    seen_in_model: list[tuple[DetailState, tuple[Policy, ...] | None]] = []

    def on_page(policy: Policy, target_ids: tuple[str, ...]) -> None:
        events.append(("page", target_ids))
        # The model writer was subscribed first: the model already has this page.
        assert crawler is not None
        details = crawler.tree.details(target_ids[0])
        seen_in_model.append((details.policies_state, details.policies))

    def on_final(node_id: str, policies: tuple[Policy, ...], policy_type: str) -> None:
        events.append(("final", (node_id,)))

    crawler.publisher.subscribe(on_page, topics.POLICY_TARGETS)
    crawler.publisher.subscribe(on_final, topics.POLICIES)
    assert crawler.run().state is CrawlState.COMPLETE

    # One message a page as each lands (11 nodes, 2 a page: 6), all before any final list.
    assert len(nodes) == 11
    kinds = [kind for kind, _ in events]
    assert kinds == ["page"] * 6 + ["final"] * len(nodes)
    pages = [ids for kind, ids in events if kind == "page"]
    assert sorted(i for ids in pages for i in ids) == sorted(nodes)
    full = Policy(FULL_ACCESS, "FullAWSAccess")
    assert set(seen_in_model) == {(DetailState.PENDING, (full,))}
    for node_id in nodes:
        details = crawler.tree.details(node_id)
        assert details.policies_state is DetailState.LOADED
        assert details.policies == (full,)


# -- item 7: a failed detail is asked for again ----------------------------------------------


def test_tags_that_failed_are_fetched_again_when_the_node_is_selected(moto_client: Any) -> None:
    built = small_org(moto_client)
    account = built.accounts["acct 1-1"]
    client = Faulty()
    client.fault = lambda op, params: (
        error("InvalidInputException", op) if params.get("ResourceId") == account else None
    )
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    assert crawler.tree.details(account).tags_state is DetailState.FAILED
    finishes = Finishes(crawler)

    client.fault = lambda op, params: None
    crawler.request_details(account)
    finishes.wait()

    details = crawler.tree.details(account)
    assert details.tags_state is DetailState.LOADED
    assert details.tags == {"Owner": "team-1"}


def test_tags_whose_last_page_failed_start_over_when_selected(moto_client: Any) -> None:
    org = OrgBuilder(moto_client)
    account = org.account("paged", tags={"A": "1", "B": "2", "C": "3"})
    client = Faulty()
    broken = {"on": True}

    def three_pages(op: str, params: dict[str, Any]) -> Exception | dict[str, Any] | None:
        if op != "ListTagsForResource" or params["ResourceId"] != account:
            return None
        tags = client.inner.call(op, ResourceId=account)["Tags"]
        page = int(params.get("NextToken", "0"))
        if page == 2 and broken["on"]:
            return error("ServiceQuotaExceededException", op)  # not retried: fails the chain
        answer: dict[str, Any] = {"Tags": tags[page : page + 1]}
        if page < 2:
            answer["NextToken"] = str(page + 1)
        return answer

    client.fault = three_pages
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    assert crawler.tree.details(account).tags_state is DetailState.FAILED
    finishes = Finishes(crawler)

    broken["on"] = False
    crawler.request_details(account)
    finishes.wait()

    details = crawler.tree.details(account)
    assert details.tags_state is DetailState.LOADED
    assert details.tags == {"A": "1", "B": "2", "C": "3"}


def test_policies_that_failed_are_fetched_again_on_each_selection(moto_client: Any) -> None:
    built = small_org(moto_client)
    account = built.accounts["acct 2-0"]
    client = Faulty()
    failures = {"left": 1}

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "ListPolicies":
            return error("AccessDeniedException", op)  # no policy map: per-node calls
        if op == "ListPoliciesForTarget" and failures["left"]:
            failures["left"] -= 1
            return error("InvalidInputException", op)
        return None

    client.fault = fault
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    finishes = Finishes(crawler)

    crawler.request_details(account)  # fails
    finishes.wait()
    assert crawler.tree.details(account).policies_state is DetailState.FAILED
    crawler.request_details(account)  # the user selects it again
    finishes.wait()

    details = crawler.tree.details(account)
    assert details.policies_state is DetailState.LOADED
    assert details.policies == (Policy(FULL_ACCESS, "FullAWSAccess"),)
    assert client.count("ListPoliciesForTarget") == 2


# -- item 8: `aws login` errors stop the crawl, resumably ------------------------------------


@pytest.mark.parametrize(
    "make",
    [lambda: bexc.LoginRefreshRequired(), lambda: bexc.LoginTokenLoadError(error_msg="gone")],
    ids=["LoginRefreshRequired", "LoginTokenLoadError"],
)
def test_an_aws_login_that_expired_stops_resumably_and_says_aws_login(
    moto_client: Any, make: Callable[[], Exception]
) -> None:
    built = small_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: make() if op == "ListTagsForResource" else None
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    outcome = crawler.run()

    assert outcome.state is CrawlState.FAILED
    assert "`aws login`" in outcome.message
    assert "sso" not in outcome.message
    assert crawler.resumable

    client.fault = lambda op, params: None  # the user ran `aws login`
    outcome = crawler.resume()
    assert outcome.state is CrawlState.COMPLETE
    for node_id, tags in built.tags.items():
        assert crawler.tree.details(node_id).tags == tags


# -- a selected node's inherited policies in a structure-only crawl ------------------------


def test_selecting_a_node_after_a_structure_only_crawl_fetches_what_it_inherits(
    moto_client: Any,
) -> None:
    # The details show the chain from the root down: the ancestors' policies are needed too,
    # and a `--no-details` crawl fetched none (the pane said "loading..." for them forever).
    from orgs import policy_org

    org = policy_org(moto_client)
    crawler = Crawler(OrgClient(moto_client), CrawlOptions(quotas=FAST, details=False))
    assert crawler.run().state is CrawlState.COMPLETE
    finishes = Finishes(crawler)
    app = org.built.accounts["app-prod"]
    crawler.request_details(app)
    finishes.wait()

    built = org.built
    scps = {
        built.root_id: {"DenyLeave", "FullAWSAccess"},
        built.ous["Workloads"]: {"DenyRegions", "FullAWSAccess"},
        built.ous["Prod"]: {"FullAWSAccess"},
        app: {"DenyIam", "FullAWSAccess"},
    }
    for node_id, names in scps.items():
        found = crawler.tree.details(node_id).by_type["SERVICE_CONTROL_POLICY"]
        assert found.state is DetailState.LOADED, node_id
        assert {p.name for p in found.policies or ()} == names, node_id
