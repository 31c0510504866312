"""Playing a plan through an Organizations client, and reading an org back as truth."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient


from orgtree_tui.demo.plan import (
    _AccountPlan,
    plan_org,
)
from orgtree_tui.demo.spec import (
    FULL_ACCESS_POLICY_ID,
    RCP,
    RCP_FULL_ACCESS_POLICY_ID,
    SCP,
    OrgSpec,
)
from orgtree_tui.demo.truth import (
    GroundTruth,
    TruthNode,
)


def build_org(client: OrganizationsClient, spec: OrgSpec) -> GroundTruth:
    """Create the spec's organization through `client`; moto's or a throwaway real one."""
    plan = plan_org(spec)
    org = client.create_organization(FeatureSet="ALL")["Organization"]
    org_id, mgmt_id = org["Id"], org["MasterAccountId"]
    root = client.list_roots()["Roots"][0]
    root_id = root["Id"]
    nodes = {root_id: TruthNode(root_id, "ROOT", root["Name"], None)}
    tags: dict[str, dict[str, str]] = {root_id: dict(plan.root_tags)}
    if plan.root_tags:
        client.tag_resource(ResourceId=root_id, Tags=_tag_list(plan.root_tags))
    mgmt = client.describe_account(AccountId=mgmt_id)["Account"]
    nodes[mgmt_id] = TruthNode(mgmt_id, "ACCOUNT", mgmt["Name"], root_id, mgmt.get("State"))
    tags[mgmt_id] = dict(plan.management_tags)
    if plan.management_tags:
        client.tag_resource(ResourceId=mgmt_id, Tags=_tag_list(plan.management_tags))

    ou_ids: list[str] = []
    for ou in plan.ous:
        parent_id = root_id if ou.parent is None else ou_ids[ou.parent]
        kwargs: dict[str, Any] = {"ParentId": parent_id, "Name": ou.name}
        if ou.tags:
            kwargs["Tags"] = _tag_list(ou.tags)
        created = client.create_organizational_unit(**kwargs)["OrganizationalUnit"]
        ou_ids.append(created["Id"])
        nodes[created["Id"]] = TruthNode(created["Id"], "ORGANIZATIONAL_UNIT", ou.name, parent_id)
        tags[created["Id"]] = dict(ou.tags)

    account_ids: list[str] = []
    for account in plan.accounts:
        account_id = _create_account(client, account)
        parent_id = root_id if account.parent is None else ou_ids[account.parent]
        if parent_id != root_id:
            client.move_account(
                AccountId=account_id, SourceParentId=root_id, DestinationParentId=parent_id
            )
        account_ids.append(account_id)
        nodes[account_id] = TruthNode(account_id, "ACCOUNT", account.name, parent_id, "ACTIVE")
        tags[account_id] = dict(account.tags)

    policies = {node_id: {FULL_ACCESS_POLICY_ID} for node_id in nodes}
    policy_names = {FULL_ACCESS_POLICY_ID: "FullAWSAccess"}
    # Real AWS refuses SCP attachments until the type is enabled, and the crawl reads only
    # the types enabled on the root; moto attaches FullAWSAccess either way.
    enabled = {t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] == "ENABLED"}
    if SCP not in enabled:
        client.enable_policy_type(RootId=root_id, PolicyType=SCP)
    refs = {"root": root_id, "mgmt": mgmt_id}
    refs.update({f"ou:{i}": ou_id for i, ou_id in enumerate(ou_ids)})
    refs.update({f"acct:{i}": acct_id for i, acct_id in enumerate(account_ids)})
    typed: dict[str, dict[str, set[str]]] = {}
    for policy_type in plan.policy_types:
        client.enable_policy_type(RootId=root_id, PolicyType=policy_type)  # type: ignore[arg-type]
        typed[policy_type] = {node_id: set() for node_id in nodes}
    if RCP in typed:  # AWS attaches RCPFullAWSAccess to every node once RCPs are enabled
        policy_names[RCP_FULL_ACCESS_POLICY_ID] = "RCPFullAWSAccess"
        for attached in typed[RCP].values():
            attached.add(RCP_FULL_ACCESS_POLICY_ID)
    for policy in plan.policies:
        summary = client.create_policy(
            Name=policy.name,
            Description=policy.description,
            Content=policy.content,
            Type=policy.type,  # type: ignore[arg-type]
        )["Policy"]["PolicySummary"]
        policy_names[summary["Id"]] = policy.name
        table = policies if policy.type == SCP else typed[policy.type]
        for target in policy.targets:
            client.attach_policy(PolicyId=summary["Id"], TargetId=refs[target])
            table[refs[target]].add(summary["Id"])
    delegated: dict[str, frozenset[str]] = {}
    for ref, services in plan.delegations.items():
        for service in services:
            client.register_delegated_administrator(AccountId=refs[ref], ServicePrincipal=service)
        delegated[refs[ref]] = frozenset(services)
    for service in plan.trusted_services:
        client.enable_aws_service_access(ServicePrincipal=service)

    for account, account_id in zip(plan.accounts, account_ids, strict=True):
        if account.suspended:
            client.close_account(AccountId=account_id)
            nodes[account_id] = replace(nodes[account_id], state="SUSPENDED")

    return GroundTruth(
        organization_id=org_id,
        management_account_id=mgmt_id,
        root_id=root_id,
        nodes=nodes,
        tags=tags,
        policies={k: frozenset(v) for k, v in policies.items()},
        policy_names=policy_names,
        policy_types=frozenset({SCP, *plan.policy_types}),
        typed_policies={
            t: {k: frozenset(v) for k, v in table.items()} for t, table in typed.items()
        },
        delegated_administrators=delegated,
        trusted_services=frozenset(plan.trusted_services),
    )


def _create_account(client: OrganizationsClient, account: _AccountPlan) -> str:
    kwargs: dict[str, Any] = {"AccountName": account.name, "Email": account.email}
    if account.tags:
        kwargs["Tags"] = _tag_list(account.tags)
    status = client.create_account(**kwargs)["CreateAccountStatus"]
    # moto finishes at once; AWS answers IN_PROGRESS and needs polling.
    while status["State"] == "IN_PROGRESS":
        time.sleep(1)
        status = client.describe_create_account_status(CreateAccountRequestId=status["Id"])[
            "CreateAccountStatus"
        ]
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"creating {account.name!r} failed: {status.get('FailureReason')}")
    return status["AccountId"]


def _tag_list(tags: dict[str, str]) -> list[Any]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def read_truth(client: OrganizationsClient) -> GroundTruth:
    """Read an organization back in full, e.g. after changing it under a running crawl.

    Use an unthrottled (admin) client: this makes one tag call per node.
    """
    org = client.describe_organization()["Organization"]
    root = client.list_roots()["Roots"][0]
    nodes = {root["Id"]: TruthNode(root["Id"], "ROOT", root["Name"], None)}
    for parent_id in _walk_ous(client, root["Id"], nodes):
        for page in client.get_paginator("list_accounts_for_parent").paginate(ParentId=parent_id):
            for a in page["Accounts"]:
                nodes[a["Id"]] = TruthNode(a["Id"], "ACCOUNT", a["Name"], parent_id, a.get("State"))
    tags: dict[str, dict[str, str]] = {}
    for node_id in nodes:
        pages = client.get_paginator("list_tags_for_resource").paginate(ResourceId=node_id)
        tags[node_id] = {t["Key"]: t["Value"] for page in pages for t in page["Tags"]}
    enabled = {t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] == "ENABLED"}
    names: dict[str, str] = {}
    by_type: dict[str, dict[str, set[str]]] = {}
    for policy_type in sorted(enabled | {SCP}):
        table = by_type[policy_type] = {node_id: set() for node_id in nodes}
        listing = client.get_paginator("list_policies")
        for ppage in listing.paginate(Filter=policy_type):  # type: ignore[arg-type]
            for policy in ppage["Policies"]:
                names[policy["Id"]] = policy["Name"]
                targets = client.get_paginator("list_targets_for_policy")
                for tpage in targets.paginate(PolicyId=policy["Id"]):
                    for target in tpage["Targets"]:
                        table.setdefault(target["TargetId"], set()).add(policy["Id"])
    policies = by_type.pop(SCP)
    delegated: dict[str, frozenset[str]] = {}
    admins = client.get_paginator("list_delegated_administrators").paginate()
    for apage in admins:
        for admin in apage["DelegatedAdministrators"]:
            services = client.get_paginator("list_delegated_services_for_account")
            delegated[admin["Id"]] = frozenset(
                s["ServicePrincipal"]
                for spage in services.paginate(AccountId=admin["Id"])
                for s in spage["DelegatedServices"]
            )
    access = client.get_paginator("list_aws_service_access_for_organization").paginate()
    trusted = frozenset(
        s["ServicePrincipal"] for p in access for s in p["EnabledServicePrincipals"]
    )
    return GroundTruth(
        organization_id=org["Id"],
        management_account_id=org["MasterAccountId"],
        root_id=root["Id"],
        nodes=nodes,
        tags=tags,
        policies={k: frozenset(v) for k, v in policies.items()},
        policy_names=names,
        policy_types=frozenset(enabled),
        typed_policies={
            t: {k: frozenset(v) for k, v in table.items()} for t, table in by_type.items()
        },
        delegated_administrators=delegated,
        trusted_services=trusted,
    )


def _walk_ous(
    client: OrganizationsClient, root_id: str, nodes: dict[str, TruthNode]
) -> Iterator[str]:
    """Yield the root and every OU below it, recording the OUs in `nodes`."""
    stack = [root_id]
    paginator = client.get_paginator("list_organizational_units_for_parent")
    while stack:
        parent_id = stack.pop()
        yield parent_id
        for page in paginator.paginate(ParentId=parent_id):
            for ou in page["OrganizationalUnits"]:
                nodes[ou["Id"]] = TruthNode(ou["Id"], "ORGANIZATIONAL_UNIT", ou["Name"], parent_id)
                stack.append(ou["Id"])
