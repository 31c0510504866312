"""An organization before and after a week of changes, made with boto3 calls on moto, and
what a drift report must say about it, written out by hand."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import boto3

from orgtree_tui import api

from orgs import OrgBuilder, _deny

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"


@dataclass
class Ids:
    root: str
    workloads: str
    prod: str
    sandbox: str
    legacy: str
    payments: str
    search: str
    ana: str
    old_app: str
    deny_leave: str
    deny_iam: str
    rcp: str
    fresh: str = ""


def build(client: Any) -> Ids:
    """Root / Workloads (Owner=platform) / Prod / payments (Env=prod, Team=pay), search;
    Sandbox / sandbox-ana; Legacy / old-app. SCP DenyLeave at Workloads, DenyIam at
    payments; RCP RcpNoPublic at Prod."""
    org = OrgBuilder(client)
    root = org.built.root_id
    client.enable_policy_type(RootId=root, PolicyType=RCP)
    workloads = org.ou("Workloads", tags={"Owner": "platform"})
    prod = org.ou("Prod", workloads)
    sandbox = org.ou("Sandbox")
    legacy = org.ou("Legacy")

    def policy(name: str, policy_type: str, target: str) -> str:
        made = client.create_policy(
            Name=name, Description=name, Content=_deny("s3:*"), Type=policy_type
        )["Policy"]["PolicySummary"]["Id"]
        client.attach_policy(PolicyId=made, TargetId=target)
        return str(made)

    payments = org.account("payments", prod, tags={"Env": "prod", "Team": "pay"})
    return Ids(
        root=root,
        workloads=workloads,
        prod=prod,
        sandbox=sandbox,
        legacy=legacy,
        payments=payments,
        search=org.account("search", prod),
        ana=org.account("sandbox-ana", sandbox),
        old_app=org.account("old-app", legacy),
        deny_leave=policy("DenyLeave", SCP, workloads),
        deny_iam=policy("DenyIam", SCP, payments),
        rcp=policy("RcpNoPublic", RCP, prod),
    )


def change(client: Any, ids: Ids) -> None:
    """A move, a rename, tags changed, added and removed, a closed account, SCPs attached
    and detached, an RCP detached, an account and an OU gone, an account created."""
    client.move_account(
        AccountId=ids.payments, SourceParentId=ids.prod, DestinationParentId=ids.sandbox
    )
    client.update_organizational_unit(OrganizationalUnitId=ids.sandbox, Name="Playground")
    client.tag_resource(
        ResourceId=ids.payments,
        Tags=[{"Key": "Env", "Value": "staging"}, {"Key": "Cost", "Value": "42"}],
    )
    client.untag_resource(ResourceId=ids.payments, TagKeys=["Team"])
    client.tag_resource(ResourceId=ids.workloads, Tags=[{"Key": "Owner", "Value": "core"}])
    client.close_account(AccountId=ids.ana)
    client.detach_policy(PolicyId=ids.deny_iam, TargetId=ids.payments)
    client.attach_policy(PolicyId=ids.deny_leave, TargetId=ids.search)
    client.detach_policy(PolicyId=ids.rcp, TargetId=ids.prod)
    client.remove_account_from_organization(AccountId=ids.old_app)
    client.delete_organizational_unit(OrganizationalUnitId=ids.legacy)
    created = client.create_account(Email="fresh@example.com", AccountName="fresh")
    ids.fresh = created["CreateAccountStatus"]["AccountId"]
    client.move_account(
        AccountId=ids.fresh, SourceParentId=ids.root, DestinationParentId=ids.workloads
    )


def expected(ids: Ids, *, rcp: bool = True) -> list[dict[str, Any]]:
    """The report's changes, in its order: by kind, then where the node is in the export."""
    account, ou = "ACCOUNT", "ORGANIZATIONAL_UNIT"
    payments = "/Root/Playground/payments"
    out: list[dict[str, Any]] = [
        {"kind": "added", "id": ids.fresh, "type": account, "name": "fresh",
         "path": "/Root/Workloads/fresh", "parent_id": ids.workloads},
        {"kind": "removed", "id": ids.legacy, "type": ou, "name": "Legacy",
         "path": "/Root/Legacy", "parent_id": ids.root},
        {"kind": "removed", "id": ids.old_app, "type": account, "name": "old-app",
         "path": "/Root/Legacy/old-app", "parent_id": ids.legacy},
        {"kind": "moved", "id": ids.payments, "type": account, "name": "payments",
         "path": payments,
         "before": {"parent_id": ids.prod, "path": "/Root/Workloads/Prod/payments"},
         "after": {"parent_id": ids.sandbox, "path": payments}},
        {"kind": "renamed", "id": ids.sandbox, "type": ou, "name": "Playground",
         "path": "/Root/Playground", "before": "Sandbox", "after": "Playground"},
        {"kind": "state", "id": ids.ana, "type": account, "name": "sandbox-ana",
         "path": "/Root/Playground/sandbox-ana", "before": "ACTIVE", "after": "SUSPENDED"},
        {"kind": "tags", "id": ids.payments, "type": account, "name": "payments",
         "path": payments, "tags": [
             {"key": "Cost", "before": None, "after": "42"},
             {"key": "Env", "before": "prod", "after": "staging"},
             {"key": "Team", "before": "pay", "after": None}]},
        {"kind": "tags", "id": ids.workloads, "type": ou, "name": "Workloads",
         "path": "/Root/Workloads", "tags": [
             {"key": "Owner", "before": "platform", "after": "core"}]},
        {"kind": "policies", "id": ids.payments, "type": account, "name": "payments",
         "path": payments, "policy_type": SCP, "attached": [],
         "detached": [{"id": ids.deny_iam, "name": "DenyIam"}]},
        {"kind": "policies", "id": ids.prod, "type": ou, "name": "Prod",
         "path": "/Root/Workloads/Prod", "policy_type": RCP, "attached": [],
         "detached": [{"id": ids.rcp, "name": "RcpNoPublic"}]},
        {"kind": "policies", "id": ids.search, "type": account, "name": "search",
         "path": "/Root/Workloads/Prod/search", "policy_type": SCP,
         "attached": [{"id": ids.deny_leave, "name": "DenyLeave"}], "detached": []},
    ]  # fmt: skip
    return [c for c in out if rcp or c.get("policy_type") != RCP]


def export_now() -> dict[str, Any]:
    """The organization (moto in-process) as `orgtree-tui export` writes it (format /2),
    parsed. A client of its own: the crawl makes its client refuse writes."""
    client = boto3.client("organizations", region_name="us-east-1")
    result = api.run_crawl(api.new_crawler(client), "test")
    assert result.complete, result.outcome
    document: dict[str, Any] = json.loads(api.export(result))
    return document


def as_v1(document: dict[str, Any]) -> dict[str, Any]:
    """A /2 export as format /1 wrote it (README "Format /1 -> /2"): a node's "policies" is
    the list of SCPs attached to it, `[]` with "policies_state" when not known; the
    organization has its id and management account only; no "organization" gaps."""
    old = copy.deepcopy(document)
    old["format"] = "orgtree-tui/1"
    org = old["organization"]
    old["organization"] = {k: org[k] for k in ("id", "management_account_id")}
    old["incomplete"].pop("organization", None)
    stack = [old["tree"]]
    while stack:
        node = stack.pop()
        scps = node["policies"].get(SCP)
        if scps is None:
            node["policies"], node["policies_state"] = [], "failed"
        else:
            node["policies"] = [{"id": p["id"], "name": p["name"]} for p in scps["attached"]]
        stack.extend(node["children"])
    return old


def find(document: dict[str, Any], node_id: str) -> dict[str, Any]:
    stack = [document["tree"]]
    while stack:
        node = stack.pop()
        if node["id"] == node_id:
            return node
        stack.extend(node["children"])
    raise KeyError(node_id)
