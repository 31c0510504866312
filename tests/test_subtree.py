"""`export --subtree`: only the path to the node and the subtree below it are crawled, and the
document is exactly the one the old full crawl, then pick, produced (issue 12, item 6).

One strict SimServer (AWS's paging) holds the demo organization for the whole module. The old
behaviour's document comes from a full crawl of it; the ground truth it was built from is the
independent check of nodes, tags and SCPs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from test_cli import one_error_line

from orgtree_tui.aws import OrgClient, make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.crawl.policy_map import Strategy, per_target_is_cheaper
from orgtree_tui.demo import DemoHandle, GroundTruth, demo_spec, start_demo
from orgtree_tui.exporters import as_json
from orgtree_tui.exporters.snapshot import take_snapshot
from orgtree_tui.identity import open_session
from orgtree_tui.main import main
from orgtree_tui.model import OrgTree
from orgtree_tui.sim.throttle import Fault

from conftest import FAST

pytestmark = pytest.mark.slow

Calls = list[tuple[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoHandle]:
    with start_demo(demo_spec(), latency=(0.0, 0.0), throttle=False) as handle:
        yield handle


@pytest.fixture(scope="module")
def full(demo: DemoHandle) -> OrgTree:
    """The old behaviour's tree: the whole organization, crawled."""
    outcome = (crawler := Crawler(client(demo), CrawlOptions(quotas=FAST))).run()
    assert outcome.state is CrawlState.COMPLETE
    assert demo.truth.compare(crawler.tree).ok
    return crawler.tree


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, demo: DemoHandle) -> Calls:
    """Every call the real client makes, with its parameters (a wrapper, not a fake)."""
    calls: Calls = []
    real = OrgClient.call

    def recording(self: OrgClient, operation: str, **params: Any) -> dict[str, Any]:
        calls.append((operation, dict(params)))
        return real(self, operation, **params)

    monkeypatch.setattr(OrgClient, "call", recording)
    pager = demo.server.pager
    assert pager is not None
    monkeypatch.setattr(pager, "empty_rate", 0.0)  # exact page counts for these tests
    return calls


def client(demo: DemoHandle) -> OrgClient:
    conn = Connection(endpoint_url=demo.endpoint_url, access_key="testing", secret_key="x")
    return make_client(conn, session=open_session(conn))


def below(truth: GroundTruth, node_id: str) -> set[str]:
    """The node and every node under it, from the ground truth."""
    found = {node_id}
    for child in truth.children(node_id):
        found |= below(truth, child.id)
    return found


def truth_path(truth: GroundTruth, node_id: str) -> str:
    names = []
    node: Any = truth.nodes[node_id]
    while node is not None:
        names.append(node.name)
        node = truth.nodes.get(node.parent_id) if node.parent_id else None
    return "/" + "/".join(reversed(names))


def smallest_ou(truth: GroundTruth, accounts: int) -> str:
    """An OU with exactly `accounts` accounts below it and no OUs, by id."""
    return min(
        n.id
        for n in truth.nodes.values()
        if n.type == "ORGANIZATIONAL_UNIT"
        and [c.type for c in truth.children(n.id)] == ["ACCOUNT"] * accounts
    )


def deepest(truth: GroundTruth, kind: str) -> str:
    return max(
        (n.id for n in truth.nodes.values() if n.type == kind),
        key=lambda i: (truth.level(i), i),
    )


def old_document(full: OrgTree, ref: str) -> dict[str, Any]:
    """What `export --subtree ref` wrote before: the full crawl, then pick the node."""
    node = full.find(ref)
    assert node is not None
    return as_json.document(take_snapshot(full, node.id, complete=True))


def scoped(demo: DemoHandle, ref: str, strategy: Strategy | None = None) -> Crawler:
    crawler = Crawler(client(demo), CrawlOptions(quotas=FAST, subtree=ref, scp_strategy=strategy))
    crawler.run()
    return crawler


def check_against_truth(truth: GroundTruth, document: dict[str, Any], node_id: str) -> None:
    """Nodes, names, paths, tags and SCPs of the exported subtree, from the ground truth."""
    seen: dict[str, dict[str, Any]] = {}
    stack = [document["tree"]]
    while stack:
        node = stack.pop()
        seen[node["id"]] = node
        stack.extend(node["children"])
    assert set(seen) == below(truth, node_id)
    for found_id, node in seen.items():
        assert node["name"] == truth.nodes[found_id].name
        assert node["path"] == truth_path(truth, found_id)
        assert node["tags"] == truth.tags[found_id]
        scps = node["policies"]["SERVICE_CONTROL_POLICY"]["attached"]  # orgtree-tui/2
        assert {p["id"] for p in scps} == truth.policies[found_id]


def test_per_target_is_cheaper_while_the_scope_is_no_bigger_than_the_bound() -> None:
    # By policy costs at least one call a policy and one per 20 nodes; per target one a node.
    assert per_target_is_cheaper(3, 13)
    assert per_target_is_cheaper(13, 13)
    assert not per_target_is_cheaper(14, 13)
    assert per_target_is_cheaper(1, 0)  # one node: one call either way
    assert not per_target_is_cheaper(2, 1)


@pytest.mark.parametrize("strategy", [Strategy.BY_POLICY, Strategy.PER_TARGET, None])
@pytest.mark.parametrize("pick", ["two-account OU", "wide OU", "deep OU", "deep account", "root"])
def test_a_scoped_crawl_writes_the_old_document_and_the_truth(
    demo: DemoHandle, full: OrgTree, pick: str, strategy: Strategy | None
) -> None:
    truth = demo.truth
    pager = demo.server.pager
    assert pager is not None
    pager.empty_rate = 0.2  # AWS's empty pages, often
    node_id = {
        "two-account OU": smallest_ou(truth, 2),
        "wide OU": max(
            (n.id for n in truth.nodes.values() if n.type == "ORGANIZATIONAL_UNIT"),
            key=lambda i: (len(truth.children(i)), i),
        ),
        "deep OU": deepest(truth, "ORGANIZATIONAL_UNIT"),
        "deep account": deepest(truth, "ACCOUNT"),
        "root": truth.root_id,
    }[pick]
    # The wide OU by name path, everything else by id: both ways resolve.
    ref = truth_path(truth, node_id) if pick == "wide OU" else node_id
    crawler = scoped(demo, ref, strategy)
    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.COMPLETE
    assert crawler.scope_id == node_id
    document = as_json.document(take_snapshot(crawler.tree, node_id, complete=True))
    assert document == old_document(full, ref)
    check_against_truth(truth, document, node_id)


def test_the_cli_lists_only_the_path_and_the_subtree(
    demo: DemoHandle, full: OrgTree, sent: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = demo.truth
    node_id = smallest_ou(truth, 2)
    path = truth_path(truth, node_id)
    assert main(["export", "--endpoint-url", demo.endpoint_url, "--subtree", path, "-q"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == old_document(full, path)
    chain = [node_id]
    while (parent := truth.nodes[chain[-1]].parent_id) is not None:
        chain.append(parent)
    subtree = below(truth, node_id)
    by_operation: dict[str, list[dict[str, Any]]] = {}
    for operation, params in sent:
        by_operation.setdefault(operation, []).append(params)
    # The whole organization's listings are never sent: no ListAccounts stream, no
    # ListChildren, one ListRoots (the path's first level).
    assert "ListAccounts" not in by_operation and "ListChildren" not in by_operation
    assert len(by_operation["ListRoots"]) == 1
    listed = {p["ParentId"] for p in by_operation["ListOrganizationalUnitsForParent"]}
    assert listed == set(chain)  # each level of the path once, then the OU itself
    assert {p["ParentId"] for p in by_operation["ListAccountsForParent"]} == {node_id}
    assert sorted(p["ResourceId"] for p in by_operation["ListTagsForResource"]) == sorted(subtree)
    # Three nodes and 9 SCPs: one ListPoliciesForTarget a node beats every SCP's targets; the
    # ancestors get theirs too, for what the subtree inherits. (Types with one or two
    # policies, such as the tag policy, are cheaper by policy and go that way.)
    scp = "SERVICE_CONTROL_POLICY"
    per_target = by_operation["ListPoliciesForTarget"]
    scp_targets = sorted(p["TargetId"] for p in per_target if p["Filter"] == scp)
    assert scp_targets == sorted([*subtree, *chain[1:]])
    scp_ids = set().union(*truth.policies.values())
    by_policy = {p["PolicyId"] for p in by_operation.get("ListTargetsForPolicy", [])}
    assert not by_policy & scp_ids


def test_an_id_is_placed_with_list_parents_up_to_the_root(
    demo: DemoHandle, full: OrgTree, sent: Calls, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = demo.truth
    account = deepest(truth, "ACCOUNT")
    assert main(["export", "--endpoint-url", demo.endpoint_url, "--subtree", account, "-q"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["tree"]["path"] == truth_path(truth, account)
    assert document == old_document(full, account)
    ancestors = []
    child = account
    while (parent := truth.nodes[child].parent_id) is not None:
        ancestors.append(parent)
        child = parent
    asked = [p["ChildId"] for op, p in sent if op == "ListParents"]
    assert asked == [account, *ancestors[:-1]]  # up to the root, which has no parent
    described = {p["OrganizationalUnitId"] for op, p in sent if op == "DescribeOrganizationalUnit"}
    assert described == set(ancestors[:-1])  # their names make the path
    operations = {op for op, _ in sent}
    # An account has nothing below it: nothing is listed at all.
    assert not operations & {"ListOrganizationalUnitsForParent", "ListAccountsForParent"}
    assert not operations & {"ListAccounts", "ListChildren", "ListTargetsForPolicy"}


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (lambda p: p[: p.rindex("/") + 1] + p[p.rindex("/") + 1 :].swapcase(), "did you mean"),
        (lambda p: p[:-1], "did you mean {right}?"),
        (lambda p: p + "/Nope", "no OU or account 'Nope' under {right}"),
        (lambda p: "/root" + p[len("/Root") :], "no root 'root' in this organization; did you"),
    ],
    ids=["case", "typo", "missing", "root"],
)
def test_a_wrong_path_fails_after_a_handful_of_calls_with_a_hint(
    demo: DemoHandle, sent: Calls, capsys: pytest.CaptureFixture[str], wrong: Any, says: str
) -> None:
    truth = demo.truth
    right = truth_path(truth, deepest(truth, "ORGANIZATIONAL_UNIT"))
    ref = wrong(right)
    assert main(["export", "--endpoint-url", demo.endpoint_url, "--subtree", ref, "-q"]) == 2
    line = one_error_line(capsys)
    assert line.startswith(f"orgtree-tui: error: --subtree {ref}: ")
    assert says.format(right=right) in line
    if "did you mean" in says:
        assert line.endswith(f"did you mean {right if 'root' not in says else '/Root'}?")
    # One listing a level (the last one's accounts too), and DescribeOrganization.
    assert len(sent) <= right.count("/") + 3, sent
    assert not {op for op, _ in sent} & {"ListAccounts", "ListTagsForResource", "ListPolicies"}


def test_the_case_hint_names_the_right_path(
    demo: DemoHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = demo.truth
    ou = next(c for c in truth.children(truth.root_id) if c.type == "ORGANIZATIONAL_UNIT")
    ref = f"/Root/{ou.name.lower()}"
    assert main(["export", "--endpoint-url", demo.endpoint_url, "--subtree", ref, "-q"]) == 2
    assert one_error_line(capsys).endswith(
        f"no OU or account {ou.name.lower()!r} under /Root; did you mean /Root/{ou.name}?"
    )


@pytest.mark.parametrize("ref", ["ou-zzzz-zzzzzzzz", "999999999999"])
def test_an_unknown_id_fails_after_two_calls(
    demo: DemoHandle, sent: Calls, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    assert main(["export", "--endpoint-url", demo.endpoint_url, "--subtree", ref, "-q"]) == 2
    assert f"--subtree {ref}: no " in one_error_line(capsys)
    assert len(sent) <= 3, sent  # Describe the node, ListParents, DescribeOrganization


@pytest.mark.parametrize(
    ("denied", "kind"), [("ListTagsForResource", "tags"), ("ListPolicies", "policies")]
)
def test_a_denied_detail_in_the_subtree_is_said_as_the_old_export_said_it(
    demo: DemoHandle, denied: str, kind: str
) -> None:
    # The ancestors' details are never fetched: that is not a gap. The subtree's are.
    truth = demo.truth
    node_id = smallest_ou(truth, 2)
    demo.middleware.fault = lambda op: (
        Fault.error("AccessDeniedException") if op == denied else None
    )
    try:
        crawler = scoped(demo, node_id)
        whole = Crawler(client(demo), CrawlOptions(quotas=FAST))
        whole.run()
    finally:
        demo.middleware.fault = None
    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.INCOMPLETE
    assert set(getattr(crawler.outcome.gaps, kind)) == below(truth, node_id)
    document = as_json.document(take_snapshot(crawler.tree, node_id, complete=True))
    assert document == as_json.document(take_snapshot(whole.tree, node_id, complete=True))
    assert document["complete"] is False
