"""AWS's paging on the simulated endpoint: page sizes per operation, empty pages, bound
NextTokens, retried tokens, MaxResults=20 from the client. Expectations are counted by hand
from the org this module builds (one SimServer for the whole module: see test_crawl_strict
for the tests that need their own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from orgtree_tui.aws import OrgClient
from orgtree_tui.sim import SimServer, StrictPager
from orgtree_tui.sim.paging import MAX_EMPTIES, Cursor, PageTokens, cut, paged_operations

from sim_fixtures import NO_RETRY, pages, raw_call, sizes

TAGS = 25
POLICIES = 21
SCP = "SERVICE_CONTROL_POLICY"


# -- the pure rules -----------------------------------------------------------------------------


def test_paged_operations_come_from_botocore_with_their_limits() -> None:
    ops = paged_operations()
    ours = {
        "ListAccounts",
        "ListAccountsForParent",
        "ListChildren",
        "ListOrganizationalUnitsForParent",
        "ListParents",
        "ListPolicies",
        "ListPoliciesForTarget",
        "ListRoots",
        "ListTargetsForPolicy",
        "ListTagsForResource",
        "ListDelegatedAdministrators",
        "ListAWSServiceAccessForOrganization",
    }
    assert ours <= ops.keys()
    assert all(ops[op].max_results == 20 for op in ours)
    assert ops["ListTagsForResource"].limit_key is None
    assert (ops["ListChildren"].result_key, ops["ListChildren"].limit_key) == (
        "Children",
        "MaxResults",
    )
    assert "DescribeAccount" not in ops


def test_cut_pages_empties_and_ends() -> None:
    assert cut(45, Cursor(0), 20, False, False) == cut(45, Cursor(0), 20, False, True)
    assert cut(45, Cursor(20), 20, False, False).next == Cursor(40)
    last = cut(45, Cursor(40), 20, False, False)
    assert (last.start, last.stop, last.next) == (40, 45, None)
    # An empty page keeps its place and counts itself; after MAX_EMPTIES it cannot recur.
    assert cut(45, Cursor(20), 20, True, False).next == Cursor(20, 1)
    assert cut(45, Cursor(20, MAX_EMPTIES), 20, True, True).next == Cursor(40)
    # A token after the last item, whose page is empty and ends the listing.
    after = cut(45, Cursor(40), 20, False, True)
    assert (after.start, after.stop, after.next) == (40, 45, Cursor(45, 1))
    assert cut(45, Cursor(45, 1), 20, False, True).next is None
    # A listing that shrank since its token: no items, no token.
    assert cut(3, Cursor(40), 20, False, False).next is None


def test_tokens_are_bound_to_operation_and_parameters() -> None:
    tokens = PageTokens(b"secret")
    token = tokens.issue("ListChildren", "params-a", Cursor(20, 1))
    assert tokens.read(token, "ListChildren", "params-a") == Cursor(20, 1)
    assert tokens.read(token, "ListAccountsForParent", "params-a") is None
    assert tokens.read(token, "ListChildren", "params-b") is None
    assert PageTokens(b"other").read(token, "ListChildren", "params-a") is None
    body, _, mac = token.partition(".")
    forged = PageTokens(b"x").issue("ListChildren", "params-a", Cursor(40)).partition(".")[0]
    assert tokens.read(f"{forged}.{mac}", "ListChildren", "params-a") is None
    assert tokens.read("garbage", "ListChildren", "params-a") is None
    assert tokens.read(body + "." + mac[:-2] + "AA", "ListChildren", "params-a") is None


# -- over HTTP, on an org built for it -----------------------------------------------------------


@dataclass(frozen=True)
class Org:
    server: SimServer
    root: str
    wide: str  # 45 accounts and 23 OUs
    tagged: str  # an account with TAGS tags and POLICIES custom SCPs
    policy_ids: tuple[str, ...]


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    with SimServer(latency=(0.0, 0.0), seed=4, throttle=False) as server:
        admin = server.admin_client()
        admin.create_organization(FeatureSet="ALL")
        root = admin.list_roots()["Roots"][0]["Id"]
        wide = admin.create_organizational_unit(ParentId=root, Name="Wide")
        wide_id = wide["OrganizationalUnit"]["Id"]
        for i in range(23):
            admin.create_organizational_unit(ParentId=wide_id, Name=f"ou-{i:02}")
        accounts = []
        for i in range(45):
            status = admin.create_account(AccountName=f"a{i:02}", Email=f"a{i}@example.com")
            account = status["CreateAccountStatus"]["AccountId"]
            admin.move_account(AccountId=account, SourceParentId=root, DestinationParentId=wide_id)
            accounts.append(account)
        tagged = accounts[0]
        admin.tag_resource(
            ResourceId=tagged, Tags=[{"Key": f"k{i:02}", "Value": "v"} for i in range(TAGS)]
        )
        policy_ids = []
        for i in range(POLICIES):
            content = json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": f"s{i}:*"}]}
            )
            policy = admin.create_policy(
                Content=content, Description="", Name=f"scp-{i:02}", Type=SCP
            )["Policy"]["PolicySummary"]["Id"]
            admin.attach_policy(PolicyId=policy, TargetId=tagged)
            policy_ids.append(policy)
        yield Org(server, root, wide_id, tagged, tuple(policy_ids))


@pytest.fixture
def strict(org: Org) -> Iterator[Org]:
    """The module's org with no empty pages unless a test asks for them."""
    pager = org.server.pager
    assert pager is not None
    pager.empty_rate = 0.0
    yield org
    pager.empty_rate = 0.0


def test_page_sizes_per_operation(strict: Org) -> None:
    client = strict.server.client(NO_RETRY)
    nodes = 1 + 24 + 46  # root, Wide and its 23 OUs, 45 accounts and the management account
    expected: list[tuple[str, dict[str, Any], list[int]]] = [
        ("ListAccounts", {}, [20, 20, 6]),
        ("ListAccountsForParent", {"ParentId": strict.wide}, [20, 20, 5]),
        ("ListAccountsForParent", {"ParentId": strict.wide, "MaxResults": 7}, [7] * 6 + [3]),
        ("ListOrganizationalUnitsForParent", {"ParentId": strict.wide}, [20, 3]),
        ("ListChildren", {"ParentId": strict.wide, "ChildType": "ACCOUNT"}, [20, 20, 5]),
        ("ListChildren", {"ParentId": strict.wide, "ChildType": "ORGANIZATIONAL_UNIT"}, [20, 3]),
        ("ListTagsForResource", {"ResourceId": strict.tagged}, [20, 5]),
        ("ListPolicies", {"Filter": SCP}, [20, 2]),
        ("ListPoliciesForTarget", {"TargetId": strict.tagged, "Filter": SCP}, [20, 2]),
        ("ListTargetsForPolicy", {"PolicyId": "p-FullAWSAccess"}, [20, 20, 20, nodes - 60]),
        ("ListTargetsForPolicy", {"PolicyId": strict.policy_ids[0]}, [1]),
        ("ListParents", {"ChildId": strict.tagged}, [1]),
        ("ListRoots", {}, [1]),
    ]
    for operation, params, want in expected:
        assert sizes(client, operation, **params) == want, (operation, params)
    # Every item once: the pages together are the whole listing.
    children = pages(client, "ListChildren", ParentId=strict.wide, ChildType="ACCOUNT")
    ids = [c["Id"] for page in children for c in page]
    assert len(ids) == len(set(ids)) == 45


def test_empty_pages_carry_a_token_and_the_listing_still_ends_whole(strict: Org) -> None:
    pager = strict.server.pager
    assert pager is not None
    pager.empty_rate = 0.5
    client = strict.server.client(NO_RETRY)
    listings = [
        ("ListAccountsForParent", {"ParentId": strict.wide}, 45),
        ("ListChildren", {"ParentId": strict.wide, "ChildType": "ORGANIZATIONAL_UNIT"}, 23),
        ("ListTagsForResource", {"ResourceId": strict.tagged}, TAGS),
        ("ListAccounts", {}, 46),
        ("ListPolicies", {"Filter": SCP}, POLICIES + 1),
        ("ListParents", {"ChildId": strict.tagged}, 1),
        ("ListRoots", {}, 1),
    ]
    empty_before_end = empty_after_end = 0
    for operation, params, total in listings:
        found = pages(client, operation, **params)
        assert sum(len(p) for p in found) == total, operation
        assert all(len(p) <= 20 for p in found)
        last_item = max(i for i, p in enumerate(found) if p) if total else -1
        empty_before_end += sum(1 for p in found[:last_item] if not p)
        empty_after_end += len(found) - 1 - last_item
        assert found[-1] == [] or last_item == len(found) - 1
    # At rate 0.5 over these listings both kinds occur (fixed by the server's seed).
    assert empty_before_end > 0 and empty_after_end > 0


def test_a_retried_token_gets_the_same_page(strict: Org) -> None:
    pager = strict.server.pager
    assert pager is not None
    pager.empty_rate = 0.5
    client = strict.server.client(NO_RETRY)
    token = None
    for _ in range(10):
        params: dict[str, Any] = {"ParentId": strict.wide, "ChildType": "ACCOUNT"}
        if token:
            params["NextToken"] = token
        first, again = client.list_children(**params), client.list_children(**params)
        assert first["Children"] == again["Children"]
        assert first.get("NextToken") == again.get("NextToken")
        token = first.get("NextToken")
        if not token:
            return
    raise AssertionError("the listing never ended")


def test_a_token_from_another_call_is_refused_like_aws(strict: Org) -> None:
    client = strict.server.client(NO_RETRY)
    token = client.list_accounts_for_parent(ParentId=strict.wide)["NextToken"]
    other_calls: list[tuple[str, dict[str, Any]]] = [
        ("ListChildren", {"ParentId": strict.wide, "ChildType": "ACCOUNT"}),  # other operation
        ("ListAccountsForParent", {"ParentId": strict.root}),  # other parameters
        ("ListAccountsForParent", {"ParentId": strict.wide, "_": 1}),
    ]
    for operation, params in other_calls:
        answer = raw_call(strict.server.endpoint_url, operation, {**params, "NextToken": token})
        assert answer.status == 400, operation
        assert answer.headers["Content-Type"] == "application/x-amz-json-1.1"
        body = answer.json()
        assert isinstance(body, dict)
        assert (body["__type"], body["Reason"]) == ("InvalidInputException", "INVALID_NEXT_TOKEN")
        assert set(body) == {"__type", "Message", "Reason"}
    with pytest.raises(client.exceptions.InvalidInputException) as caught:
        client.list_accounts_for_parent(ParentId=strict.wide, NextToken=token[:-3] + "abc")
    assert caught.value.response["Reason"] == "INVALID_NEXT_TOKEN"
    # The same page size limit as AWS: MaxResults above 20 is refused.
    with pytest.raises(client.exceptions.InvalidInputException) as too_big:
        client.list_accounts(MaxResults=21)
    assert too_big.value.response["Reason"] == "MAX_VALUE_EXCEEDED"
    # The rightful call still works with its token.
    assert client.list_accounts_for_parent(ParentId=strict.wide, NextToken=token)["Accounts"]


def test_writes_are_seen_by_the_next_listing(strict: Org) -> None:
    client = strict.server.client(NO_RETRY)
    admin = strict.server.admin_client()
    before = sizes(client, "ListOrganizationalUnitsForParent", ParentId=strict.root)
    made = admin.create_organizational_unit(ParentId=strict.root, Name="Late")
    try:
        after = sizes(client, "ListOrganizationalUnitsForParent", ParentId=strict.root)
        assert (before, after) == ([1], [2])
    finally:
        admin.delete_organizational_unit(OrganizationalUnitId=made["OrganizationalUnit"]["Id"])


def test_the_client_sends_max_results_20_where_the_model_takes_it(strict: Org) -> None:
    raw = strict.server.client(NO_RETRY)
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(request: Any, **_: Any) -> None:
        target = request.headers["X-Amz-Target"].decode().rpartition(".")[2]
        sent.append((target, json.loads(request.body)))

    raw.meta.events.register("before-send.organizations", record)
    client = OrgClient(raw)
    client.call("ListAccountsForParent", ParentId=strict.wide)
    client.call("ListChildren", ParentId=strict.wide, ChildType="ACCOUNT")
    client.call("ListRoots")
    client.call("ListTagsForResource", ResourceId=strict.tagged)
    client.call("DescribeAccount", AccountId=strict.tagged)
    client.call("ListAccounts", MaxResults=5)  # an explicit size is kept
    assert [(op, body.get("MaxResults")) for op, body in sent] == [
        ("ListAccountsForParent", 20),
        ("ListChildren", 20),
        ("ListRoots", 20),
        ("ListTagsForResource", None),  # takes only NextToken
        ("DescribeAccount", None),
        ("ListAccounts", 5),
    ]


def test_empty_pages_are_fixed_by_the_seed() -> None:
    def draws(pager: StrictPager) -> list[float]:
        return [
            pager.tokens.chance("ListChildren", "b", Cursor(offset), "here") for offset in range(9)
        ]

    assert draws(StrictPager(_no_app, seed=3)) == draws(StrictPager(_no_app, seed=3))
    assert draws(StrictPager(_no_app, seed=3)) != draws(StrictPager(_no_app, seed=4))
    assert all(0 <= d < 1 for d in draws(StrictPager(_no_app)))


def _no_app(environ: Any, start_response: Any) -> list[bytes]:
    raise AssertionError("not called")
