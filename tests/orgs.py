"""Small hand-shaped organizations for tests, built through a real (moto) client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Built:
    root_id: str
    ous: dict[str, str] = field(default_factory=dict)  # name path -> id
    accounts: dict[str, str] = field(default_factory=dict)  # name -> id
    parents: dict[str, str] = field(default_factory=dict)  # id -> parent id
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


class OrgBuilder:
    def __init__(self, client: Any) -> None:
        self.client = client
        client.create_organization(FeatureSet="ALL")
        root_id = client.list_roots()["Roots"][0]["Id"]
        # SCPs enabled, as in an organization that uses them (moto leaves the root's
        # PolicyTypes empty yet attaches FullAWSAccess; the crawl reads only enabled types).
        client.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
        self.built = Built(root_id)
        self._n = 0

    def ou(self, name: str, parent: str | None = None, tags: dict[str, str] | None = None) -> str:
        parent_id = parent or self.built.root_id
        ou_id = self.client.create_organizational_unit(ParentId=parent_id, Name=name)[
            "OrganizationalUnit"
        ]["Id"]
        self.built.ous[name] = ou_id
        self.built.parents[ou_id] = parent_id
        self._tag(ou_id, tags)
        return ou_id

    def account(
        self, name: str, parent: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        self._n += 1
        status = self.client.create_account(Email=f"acct{self._n}@example.com", AccountName=name)
        account_id = status["CreateAccountStatus"]["AccountId"]
        if parent:
            self.client.move_account(
                AccountId=account_id, SourceParentId=self.built.root_id, DestinationParentId=parent
            )
        self.built.accounts[name] = account_id
        self.built.parents[account_id] = parent or self.built.root_id
        self._tag(account_id, tags)
        return account_id

    def _tag(self, resource: str, tags: dict[str, str] | None) -> None:
        if tags:
            self.client.tag_resource(
                ResourceId=resource, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
            self.built.tags[resource] = dict(tags)


AI_OPT_OUT = '{"services": {"default": {"opt_out_policy": {"@@assign": "optOut"}}}}'
TAG_CONTENT = '{"tags": {"CostCenter": {"tag_key": {"@@assign": "CostCenter"}}}}'


def _deny(action: str) -> str:
    return (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "'
        + action
        + '", "Resource": "*"}]}'
    )


@dataclass
class PolicyOrg:
    """`policy_org`'s organization and what it holds, written out by hand."""

    built: Built
    policies: dict[str, str]  # name -> id, the ones created here
    admin: str  # the delegated administrator's account id


def policy_org(client: Any) -> PolicyOrg:
    """Root / Workloads / Prod / app-prod, and Security / audit, with every kind of policy:
    an SCP at the root, at Workloads (two levels above app-prod) and at app-prod; an RCP at
    Workloads; a tag policy at Prod; an AI-services opt-out policy at app-prod. audit is the
    delegated administrator for GuardDuty and Access Analyzer; AWS Config has trusted
    access. BACKUP_POLICY is left disabled."""
    org = OrgBuilder(client)
    built = org.built
    root = built.root_id
    for policy_type in ("RESOURCE_CONTROL_POLICY", "TAG_POLICY", "AISERVICES_OPT_OUT_POLICY"):
        client.enable_policy_type(RootId=root, PolicyType=policy_type)
    workloads = org.ou("Workloads")
    prod = org.ou("Prod", workloads)
    app = org.account("app-prod", prod)
    security = org.ou("Security")
    audit = org.account("audit", security)
    made: dict[str, str] = {}

    def policy(name: str, policy_type: str, content: str, *targets: str) -> None:
        summary = client.create_policy(
            Name=name, Description=f"{name} (test)", Content=content, Type=policy_type
        )["Policy"]["PolicySummary"]
        made[name] = summary["Id"]
        for target in targets:
            client.attach_policy(PolicyId=summary["Id"], TargetId=target)

    scp, rcp = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
    policy("DenyLeave", scp, _deny("organizations:LeaveOrganization"), root)
    policy("DenyRegions", scp, _deny("ec2:*"), workloads)
    policy("DenyIam", scp, _deny("iam:CreateUser"), app)
    policy("RcpNoPublic", rcp, _deny("s3:*"), workloads)
    policy("CostCenter", "TAG_POLICY", TAG_CONTENT, prod)
    policy("NoAi", "AISERVICES_OPT_OUT_POLICY", AI_OPT_OUT, app)
    for service in ("guardduty.amazonaws.com", "access-analyzer.amazonaws.com"):
        client.register_delegated_administrator(AccountId=audit, ServicePrincipal=service)
    client.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
    return PolicyOrg(built, made, audit)
