"""Demo organizations: the specs, building them in moto, the ground truth and its comparison."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.demo import (
    FULL_ACCESS_POLICY_ID,
    GroundTruth,
    OrgSpec,
    build_org,
    demo_spec,
    large_spec,
    plan_org,
    read_truth,
    seed_spec,
    start_demo,
)
from orgtree_tui.model import OrgTree
from orgtree_tui.records import DetailState, Node, NodeType, Policy

from conftest import FAST
from sim_fixtures import NO_RETRY, tree_from_truth

SMALL = OrgSpec(accounts=12, ous=5, depth=3, scps=3, suspended=1, wide_parent_accounts=0, seed=5)


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client(
            "organizations",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="module")
def demo_truth() -> GroundTruth:
    with mock_aws():
        client = boto3.client(
            "organizations",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return build_org(client, demo_spec())


# -- specs and plans ---------------------------------------------------------------------------


def test_plans_are_deterministic_per_seed() -> None:
    assert plan_org(demo_spec()) == plan_org(demo_spec())
    assert plan_org(demo_spec()) != plan_org(replace(demo_spec(), seed=8))


@pytest.mark.parametrize(
    "bad",
    [
        {"depth": 6},
        {"ous": 2, "depth": 3},
        {"accounts": 3, "suspended": 2, "wide_parent_accounts": 1},
        {"scps": -1},
    ],
)
def test_spec_rejects_impossible_orgs(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        OrgSpec(**bad)


def test_spec_sizes() -> None:
    seed, large = seed_spec(), large_spec()
    assert (seed.accounts, seed.ous, seed.depth, seed.tags) == (120, 24, 5, True)
    assert demo_spec() == replace(seed, scps=demo_spec().scps, governance=True)
    assert demo_spec().scps >= 5
    assert large.accounts >= 1000 and large.ous >= 100 and large.depth == 5 and large.tags
    plan = plan_org(large)
    assert len(plan.ous) == large.ous and len(plan.accounts) == large.accounts - 1
    assert max(ou.level for ou in plan.ous) == 5
    assert max(Counter(ou.parent for ou in plan.ous).values()) > 20  # an OU page > 20


def test_demo_spec_meets_the_brief(demo_truth: GroundTruth) -> None:
    truth = demo_truth
    counts = truth.counts()
    assert counts.accounts >= 120 and counts.ous >= 20
    assert truth.max_ou_depth() == 5
    names = {n.name for n in truth.nodes.values()}
    assert {"log-archive", "audit", "Security", "Infrastructure", "Workloads", "Prod"} <= names
    assert any(name.startswith("sandbox-") for name in names)
    suspended = [n for n in truth.nodes.values() if n.state == "SUSPENDED"]
    assert suspended and all(n.type == "ACCOUNT" for n in suspended)
    for node_id, tags in truth.tags.items():
        assert {"Owner", "CostCenter", "Environment", "DataClassification"} <= tags.keys(), node_id
    # Custom SCPs sit on the root, on OUs at several levels and on accounts.
    custom = {
        node_id: ids - {FULL_ACCESS_POLICY_ID}
        for node_id, ids in truth.policies.items()
        if ids - {FULL_ACCESS_POLICY_ID}
    }
    assert truth.root_id in custom
    levels = {truth.level(i) for i in custom if truth.nodes[i].type == "ORGANIZATIONAL_UNIT"}
    assert len(levels) >= 3
    assert any(truth.nodes[i].type == "ACCOUNT" for i in custom)
    assert all(FULL_ACCESS_POLICY_ID in ids for ids in truth.policies.values())
    assert max(Counter(n.parent_id for n in truth.nodes.values()).values()) > 20


# -- building in moto in-process ---------------------------------------------------------------


def test_build_org_counts_and_read_back(client: Any) -> None:
    truth = build_org(client, SMALL)
    assert truth.counts().accounts == SMALL.accounts
    assert truth.counts().ous == SMALL.ous
    assert truth.max_ou_depth() == SMALL.depth
    assert read_truth(client) == truth  # what we recorded is what moto holds
    states = Counter(n.state for n in truth.nodes.values() if n.type == "ACCOUNT")
    assert states == Counter({"ACTIVE": SMALL.accounts - 1, "SUSPENDED": 1})
    assert truth.policy_names[FULL_ACCESS_POLICY_ID] == "FullAWSAccess"
    assert len(truth.policy_names) == SMALL.scps + 1


def test_build_org_without_tags_or_ous(client: Any) -> None:
    spec = OrgSpec(accounts=4, ous=0, depth=0, tags=False, seed=1)
    truth = build_org(client, spec)
    assert truth.counts().ous == 0 and truth.counts().accounts == 4
    assert all(n.parent_id == truth.root_id for n in truth.nodes.values() if n.type == "ACCOUNT")
    assert all(tags == {} for tags in truth.tags.values())
    assert read_truth(client) == truth


def test_fancy_names_survive_the_round_trip(client: Any) -> None:
    truth = build_org(client, replace(SMALL, ous=12, accounts=20, fancy_names=True))
    names = {n.name for n in truth.nodes.values()}
    assert any(not name.isascii() for name in names)
    assert any("/" in name for name in names)
    assert {n.name for n in read_truth(client).nodes.values()} == names


def test_compare_reports_everything_missing_from_an_empty_tree(client: Any) -> None:
    truth = build_org(client, SMALL)
    result = truth.compare(OrgTree())
    assert not result.ok
    assert set(result.missing) == set(truth.nodes)
    assert result.extra == () and result.wrong_parent == {}
    assert result.counts()["missing"] == len(truth.nodes)


def test_compare_finds_each_kind_of_difference(client: Any) -> None:
    truth = build_org(client, SMALL)
    perfect = tree_from_truth(truth)
    assert truth.compare(perfect).ok, truth.compare(perfect).summary()

    tree = tree_from_truth(truth)
    accounts = [n for n in truth.nodes.values() if n.type == "ACCOUNT"]
    ous = [n for n in truth.nodes.values() if n.type == "ORGANIZATIONAL_UNIT"]
    moved, renamed, retagged, repoliced = accounts[1:5]
    node = tree.get(moved.id)
    assert node is not None
    tree.add(replace(node, parent_id=ous[0].id if moved.parent_id != ous[0].id else ous[1].id))
    node = tree.get(renamed.id)
    assert node is not None
    tree.add(replace(node, name="not its name"))
    tree.set_tags(retagged.id, {"Owner": "someone else"})
    tree.set_policies(repoliced.id, (Policy("p-other", "Other"),))
    tree.add(Node("ou-zzzz-zzzzzzzz", NodeType.ORGANIZATIONAL_UNIT, "Ghost", "arn", truth.root_id))
    fresh = tree_from_truth(truth)
    tree.remove(accounts[-1].id)

    result = truth.compare(tree)
    assert result.extra == ("ou-zzzz-zzzzzzzz",)
    assert result.missing == (accounts[-1].id,)
    assert set(result.wrong_parent) == {moved.id}
    assert result.wrong_name == {renamed.id: (renamed.name, "not its name")}
    assert set(result.wrong_tags) == {retagged.id}
    assert set(result.wrong_policies) == {repoliced.id}
    assert result.missing_tags == ()  # the ghost OU is extra, not compared

    bare = OrgTree()
    for n in fresh.nodes():
        bare.add(n)
    details_missing = truth.compare(bare)
    assert (
        set(details_missing.missing_tags)
        == set(truth.nodes)
        == set(details_missing.missing_policies)
    )
    assert truth.compare(bare, tags=False, policies=False).ok


# -- the running demo over HTTP ----------------------------------------------------------------


def test_start_demo_serves_the_org_over_http() -> None:
    with start_demo(latency=(0.0, 0.0)) as demo:
        assert demo.endpoint_url.startswith("http://127.0.0.1:")
        assert demo.build_seconds >= 0  # how long it takes is bench/ui_bench.py's business
        client = demo.client(NO_RETRY)
        pages = list(client.get_paginator("list_accounts").paginate())
        accounts = [a for page in pages for a in page["Accounts"]]
        assert {a["Id"] for a in accounts} == {
            n.id for n in demo.truth.nodes.values() if n.type == "ACCOUNT"
        }
        suspended = {a["Id"] for a in accounts if a["State"] == "SUSPENDED"}
        assert suspended == {n.id for n in demo.truth.nodes.values() if n.state == "SUSPENDED"}
        # AWS's paging: at most 20 a page, so at least ceil(accounts / 20) pages, and the
        # server saw exactly the pages the client got (the build is not counted).
        assert all(len(page["Accounts"]) <= 20 for page in pages)
        assert len(pages) >= -(-len(accounts) // 20)
        assert demo.middleware.stats().calls == {"ListAccounts": len(pages)}
    with pytest.raises(RuntimeError):
        _ = demo.endpoint_url


def test_start_demo_without_moto_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto.moto_server.werkzeug_app", None)
    with pytest.raises(RuntimeError) as caught:
        start_demo(SMALL)
    assert str(caught.value) == "the demo needs moto: pip install 'orgtree-tui[demo]'"


def test_demo_and_sim_import_neither_ui_libraries_nor_moto() -> None:
    code = (
        "import sys, orgtree_tui.demo, orgtree_tui.sim\n"
        "bad = {m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'moto'}\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- governance: every policy type moto serves, delegated administrators, trusted access ----


def test_the_demo_has_every_kind_of_policy_and_delegation(client: Any) -> None:
    truth = build_org(client, demo_spec())
    assert truth.policy_types == {
        "SERVICE_CONTROL_POLICY",
        "RESOURCE_CONTROL_POLICY",
        "TAG_POLICY",
        "AISERVICES_OPT_OUT_POLICY",
    }
    rcps = truth.policies_of("RESOURCE_CONTROL_POLICY")
    assert all("p-RCPFullAWSAccess" in ids for ids in rcps.values())
    custom_rcp = {n for n, ids in rcps.items() if len(ids) > 1}
    assert [truth.nodes[n].name for n in custom_rcp] == ["Workloads"]
    tagged = truth.policies_of("TAG_POLICY")
    assert {truth.nodes[n].type for n, ids in tagged.items() if ids} == {"ROOT"}
    (admin, services), *_ = truth.delegated_administrators.items()
    assert truth.nodes[admin].name == "audit" and len(services) == 2
    assert "config.amazonaws.com" in truth.trusted_services
    # Read back through the API, the organization is what was built.
    again = read_truth(client)
    assert again.typed_policies == truth.typed_policies
    assert again.policies == truth.policies
    assert again.delegated_administrators == truth.delegated_administrators
    assert again.trusted_services == truth.trusted_services

    # A crawl finds all of it.
    crawler = Crawler(OrgClient(client), CrawlOptions(quotas=FAST))
    assert crawler.run().state is CrawlState.COMPLETE
    comparison = truth.compare(crawler.tree)
    assert comparison.ok, comparison.summary()


def test_compare_sees_a_wrong_typed_policy_and_wrong_facts(client: Any) -> None:
    truth = build_org(client, replace(SMALL, governance=True))
    tree = tree_from_truth(truth)
    assert truth.compare(tree).ok, truth.compare(tree).summary()
    account = next(n.id for n in truth.nodes.values() if n.type == "ACCOUNT")
    tree.set_policies(account, (Policy("p-stray", "Stray", "TAG_POLICY"),), "TAG_POLICY")
    tree.set_trusted_services(None, DetailState.DENIED)
    result = truth.compare(tree)
    assert result.wrong_typed_policies == {
        ("TAG_POLICY", account): (frozenset(), frozenset({"p-stray"}))
    }
    assert result.wrong_facts == ("trusted_services",)
