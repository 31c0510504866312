"""The JSON export's format /2 on crawled organizations: policies keyed by type (only the
types enabled on the root), attached and inherited with the ancestor each comes from, the
organization's facts; a consolidated-billing organization; refused calls as null, listed
under "incomplete". Expectations are written out from `policy_org` by hand."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from typing import Any

import pytest
from test_crawl_trust import Faulty, error
from test_tools import readme_block

from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.export import render

from conftest import FAST
from orgs import policy_org

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
TAG, AI = "TAG_POLICY", "AISERVICES_OPT_OUT_POLICY"


def _export(client: Any, subtree: str | None = None) -> dict[str, Any]:
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    outcome = crawler.run()
    root = subtree or crawler.tree.roots()[0].id
    doc: dict[str, Any] = json.loads(render(crawler.tree, root, "json", complete=outcome.complete))
    return doc


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node["children"] for n in _nodes(child))]


def _names(entries: list[dict[str, Any]] | None) -> list[tuple[str, str]] | None:
    if entries is None:
        return None
    return sorted((e["name"], e.get("from", "")) for e in entries)


def test_an_account_shows_what_it_inherits_and_from_where(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b = org.built
    root, workloads, prod = b.root_id, b.ous["Workloads"], b.ous["Prod"]
    doc = _export(Faulty())

    assert doc["format"] == "orgtree-tui/2"
    assert doc["complete"] is True
    assert doc["organization"]["feature_set"] == "ALL"
    assert doc["organization"]["policy_types"] == {
        AI: "ENABLED",
        RCP: "ENABLED",
        SCP: "ENABLED",
        TAG: "ENABLED",
    }
    assert doc["organization"]["delegated_administrators"] == [
        {
            "account_id": org.admin,
            "services": ["access-analyzer.amazonaws.com", "guardduty.amazonaws.com"],
        }
    ]
    assert doc["organization"]["trusted_services"] == ["config.amazonaws.com"]

    app = next(n for n in _nodes(doc["tree"]) if n["name"] == "app-prod")
    assert sorted(app["policies"]) == [AI, RCP, SCP, TAG]  # BACKUP_POLICY is not enabled
    scp = app["policies"][SCP]
    assert _names(scp["attached"]) == [("DenyIam", ""), ("FullAWSAccess", "")]
    # One entry per ancestor that attaches it: FullAWSAccess is on each of the three.
    assert _names(scp["inherited"]) == sorted(
        [
            ("DenyLeave", root),
            ("FullAWSAccess", root),
            ("FullAWSAccess", workloads),
            ("DenyRegions", workloads),
            ("FullAWSAccess", prod),
        ]
    )
    assert _names(app["policies"][TAG]["inherited"]) == [("CostCenter", prod)]
    assert _names(app["policies"][AI]["attached"]) == [("NoAi", "")]
    assert ("RcpNoPublic", workloads) in (_names(app["policies"][RCP]["inherited"]) or [])
    full = next(p for p in scp["attached"] if p["name"] == "FullAWSAccess")
    assert full["aws_managed"] is True

    # A subtree export still knows what its root inherits from above it.
    sub = _export(Faulty(), subtree=prod)
    assert _names(sub["tree"]["policies"][TAG]["attached"]) == [("CostCenter", "")]
    assert ("DenyRegions", workloads) in (_names(sub["tree"]["policies"][SCP]["inherited"]) or [])


def test_a_consolidated_billing_organization_has_no_policies(moto_client: Any) -> None:
    moto_client.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    moto_client.create_account(Email="a@example.com", AccountName="a")
    doc = _export(Faulty())
    assert doc["complete"] is True
    assert doc["organization"]["feature_set"] == "CONSOLIDATED_BILLING"
    assert doc["organization"]["policy_types"] == {}
    assert {n["id"]: n["policies"] for n in _nodes(doc["tree"])} == {
        n["id"]: {} for n in _nodes(doc["tree"])
    }
    assert len(_nodes(doc["tree"])) == 3  # root, management account, a


def test_refused_is_null_and_listed_under_incomplete(moto_client: Any) -> None:
    org = policy_org(moto_client)
    client = Faulty()

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "ListPolicies" and params.get("Filter") == TAG:
            return error("AccessDeniedException", op)
        if op == "ListAWSServiceAccessForOrganization":
            return error("AccessDeniedException", op)
        return None

    client.fault = fault
    doc = _export(client)
    assert doc["complete"] is False
    assert doc["organization"]["trusted_services"] is None
    assert doc["incomplete"]["organization"] == {"trusted_services": "denied"}
    every = [n["id"] for n in _nodes(doc["tree"])]
    assert all(n["policies"][TAG] is None for n in _nodes(doc["tree"]))
    assert all(n["policies"][SCP] is not None for n in _nodes(doc["tree"]))
    assert doc["incomplete"]["policies"] == dict.fromkeys(every, "denied")
    assert org.admin in every


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (.ci/run installs it)")
def test_readme_jq_recipe_lists_each_accounts_scps_with_their_origin(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b = org.built
    crawler = Crawler(Faulty(), CrawlOptions(quotas=FAST))
    crawler.run()
    text = render(crawler.tree, b.root_id, "json", complete=True)
    recipe = readme_block("jq-inherited")
    command, program = recipe.split(" | jq -r ", 1)
    assert command == "orgtree-tui export"
    result = subprocess.run(
        ["bash", "-c", f"jq -r {program}"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.split("\t")) for line in result.stdout.splitlines()}
    app, workloads, prod = b.accounts["app-prod"], b.ous["Workloads"], b.ous["Prod"]
    assert {r for r in rows if r[0] == app} == {
        (app, "FullAWSAccess", b.root_id),
        (app, "DenyLeave", b.root_id),
        (app, "FullAWSAccess", workloads),
        (app, "DenyRegions", workloads),
        (app, "FullAWSAccess", prod),
        (app, "FullAWSAccess", app),
        (app, "DenyIam", app),
    }


def test_csv_has_attached_and_inherited_columns_per_enabled_type(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b = org.built
    crawler = Crawler(Faulty(), CrawlOptions(quotas=FAST))
    crawler.run()
    text = render(crawler.tree, b.root_id, "csv", complete=True)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [c for c in rows[0] if c.endswith(("_attached", "_inherited"))] == [
        f"{t}_{part}"
        for t in (
            "aiservices_opt_out_policy",
            "resource_control_policy",
            "service_control_policy",
            "tag_policy",
        )
        for part in ("attached", "inherited")
    ]
    app = next(r for r in rows if r["name"] == "app-prod")
    assert sorted(json.loads(app["service_control_policy_attached"])) == [
        "DenyIam",
        "FullAWSAccess",
    ]
    inherited = {tuple(pair) for pair in json.loads(app["service_control_policy_inherited"])}
    assert ("DenyRegions", b.ous["Workloads"]) in inherited
    assert ("DenyLeave", b.root_id) in inherited
    assert json.loads(app["tag_policy_inherited"]) == [["CostCenter", b.ous["Prod"]]]
    assert json.loads(app["aiservices_opt_out_policy_attached"]) == ["NoAi"]
