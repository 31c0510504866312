"""A deterministic plan of a realistic organization, from an OrgSpec, without AWS."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field

from orgtree_tui.demo import names as vocab
from orgtree_tui.demo.spec import (
    AI_OPT_OUT,
    EMAIL_DOMAIN,
    RCP,
    SCP,
    TAG_POLICY,
    OrgSpec,
)

# How likely a new OU lands under an OU of each kind; kinds not listed get none.
_OU_WEIGHT = {
    "workloads": 2.0,
    "env": 5.0,
    "bu": 3.0,
    "region": 2.0,
    "infra": 1.0,
    "security": 0.5,
    "sandbox": 1.0,
    "dept": 0.5,
}
_ACCOUNT_WEIGHT = {
    "env": 1.0,
    "bu": 3.0,
    "region": 3.0,
    "team": 3.0,
    "infra": 1.5,
    "security": 0.7,
    "sandbox": 1.0,
    "dept": 1.5,
    "squad": 1.5,
}


@dataclass
class _OuPlan:
    name: str
    parent: int | None  # index into the plan's OUs; None is the root
    level: int
    kind: str
    context: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class _AccountPlan:
    name: str
    email: str
    parent: int | None
    tags: dict[str, str]
    suspended: bool = False


@dataclass
class _PolicyPlan:
    name: str
    description: str
    content: str
    targets: list[str]  # "root", "mgmt", "ou:<i>", "acct:<i>"
    type: str = SCP


@dataclass
class OrgPlan:
    """What build_org will create, in order; parents always precede children."""

    spec: OrgSpec
    root_tags: dict[str, str]
    management_tags: dict[str, str]
    ous: list[_OuPlan]
    accounts: list[_AccountPlan]  # members only; the management account is moto's own
    policies: list[_PolicyPlan]
    # Policy types to enable besides SCPs; delegated administrators (account ref ->
    # services); services with trusted access.
    policy_types: tuple[str, ...] = ()
    delegations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    trusted_services: tuple[str, ...] = ()


def plan_org(spec: OrgSpec) -> OrgPlan:
    rng = random.Random(spec.seed)
    ous = _plan_ous(spec, rng)
    tagger = _Tagger(spec.tags)
    for ou in ous:
        ou.tags = tagger.for_ou(ou)
    accounts = _plan_accounts(spec, ous, rng, tagger)
    policies = _plan_policies(spec, ous, accounts, rng)
    plan = OrgPlan(
        spec=spec,
        root_tags=tagger.shared("cloud-platform", "CC-1000", "shared", "internal"),
        management_tags=tagger.shared("cloud-platform", "CC-1000", "shared", "confidential"),
        ous=ous,
        accounts=accounts,
        policies=policies,
    )
    if spec.governance:
        _plan_governance(plan)
    return plan


# What `governance` adds: one policy of each other type moto serves, where a real org has it.
_GOVERNANCE = (
    (RCP, "RcpDenyExternalS3", "S3 only for principals of the organization", "Workloads"),
    (TAG_POLICY, "CostCenterTags", "Every resource says which cost center pays", "root"),
    (AI_OPT_OUT, "AiServicesOptOut", "No AI service keeps our content", "root"),
)
_CONTENT = {
    RCP: {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyExternal",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-demo"}},
            }
        ],
    },
    TAG_POLICY: {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"}}}},
    AI_OPT_OUT: {"services": {"default": {"opt_out_policy": {"@@assign": "optOut"}}}},
}
_DELEGATED = ("guardduty.amazonaws.com", "access-analyzer.amazonaws.com")
_TRUSTED = ("config.amazonaws.com", "guardduty.amazonaws.com", "access-analyzer.amazonaws.com")


def _plan_governance(plan: OrgPlan) -> None:
    paths = {_ou_path(plan.ous, i): f"ou:{i}" for i in range(len(plan.ous))}
    for policy_type, name, description, where in _GOVERNANCE:
        target = "root" if where == "root" else paths.get(where, "root")
        content = json.dumps(_CONTENT[policy_type])
        plan.policies.append(_PolicyPlan(name, description, content, [target], policy_type))
    plan.policy_types = (RCP, TAG_POLICY, AI_OPT_OUT)
    audit = next((i for i, a in enumerate(plan.accounts) if a.name == "audit"), 0)
    if plan.accounts:
        plan.delegations = {f"acct:{audit}": _DELEGATED}
    plan.trusted_services = _TRUSTED


def _plan_ous(spec: OrgSpec, rng: random.Random) -> list[_OuPlan]:
    ous: list[_OuPlan] = []
    used: dict[int | None, set[str]] = {}

    def add(name: str, parent: int | None, kind: str) -> None:
        base = ous[parent] if parent is not None else None
        context = dict(base.context) if base else {}
        context[kind] = name
        level = base.level + 1 if base else 1
        used.setdefault(parent, set()).add(name)
        ous.append(_OuPlan(name, parent, level, kind, context))

    # The chain first, so the spec's depth is reached even with few OUs.
    for i, (name, kind) in enumerate(vocab.CHAIN[: min(spec.depth, spec.ous)]):
        add(name, i - 1 if i else None, kind)
    for name, kind in vocab.TOP:
        if len(ous) < spec.ous:
            add(name, None, kind)
    sandbox = next((i for i, ou in enumerate(ous) if ou.kind == "sandbox"), None)
    for n in range(spec.wide_parent_ous):
        if len(ous) < spec.ous and (sandbox is None or spec.depth >= 2):
            add(f"Team {n + 1:02d}", sandbox, "dept")
    while len(ous) < spec.ous:
        open_parents = [
            (i, _OU_WEIGHT[ou.kind])
            for i, ou in enumerate(ous)
            if ou.level < spec.depth and ou.kind in _OU_WEIGHT
        ]
        if not open_parents:  # a tiny depth: spread extra OUs over the root
            add(_unique(f"Unit {len(ous) + 1}", used.get(None, set())), None, "dept")
            continue
        parent = rng.choices([i for i, _ in open_parents], [w for _, w in open_parents])[0]
        names, kind = vocab.CHILDREN[ous[parent].kind]
        taken = used.get(parent, set())
        free = [n for n in names if n not in taken]
        name = rng.choice(free) if free else _unique(f"{names[0]} {len(taken) + 1}", taken)
        add(name, parent, kind)
    if spec.fancy_names:
        # Leave the chain and top level alone: they carry the realistic structure.
        fixed = min(spec.depth, spec.ous) + len(vocab.TOP)
        for ou, fancy in zip(ous[fixed:], vocab.FANCY_OU_NAMES, strict=False):
            if fancy not in used.get(ou.parent, set()):
                used.setdefault(ou.parent, set()).add(fancy)
                ou.name = fancy
    return ous


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    return candidate


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class _Tagger:
    """Owner, CostCenter, Environment and DataClassification, derived from where a node sits."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def shared(self, owner: str, cost: str, env: str, data: str) -> dict[str, str]:
        if not self.enabled:
            return {}
        return {
            "Owner": f"{owner}@{EMAIL_DOMAIN}",
            "CostCenter": cost,
            "Environment": env,
            "DataClassification": data,
        }

    def for_ou(self, ou: _OuPlan) -> dict[str, str]:
        ctx = ou.context
        owner = _slug(ctx.get("bu") or ctx.get("infra") or ctx.get("security") or "cloud-platform")
        return self.shared(owner + "-team", _cost_center(ctx), _environment(ctx), _data_class(ctx))

    def for_account(self, ou: _OuPlan | None, owner: str | None, app: str | None) -> dict[str, str]:
        ctx = ou.context if ou else {}
        tags = (
            self.for_ou(ou)
            if ou
            else self.shared("cloud-platform", "CC-1000", "shared", "internal")
        )
        if not self.enabled:
            return {}
        if owner:
            tags["Owner"] = owner
        if app:
            tags["Application"] = app
        if ctx.get("bu") == "Payments" and ctx.get("env") == "Prod":
            tags["Compliance"] = "pci-dss"
        return tags


def _environment(ctx: dict[str, str]) -> str:
    if "env" in ctx:
        return _slug(ctx["env"])
    if "sandbox" in ctx:
        return "sandbox"
    if "suspended" in ctx:
        return "decommissioned"
    return "shared"


def _cost_center(ctx: dict[str, str]) -> str:
    if "bu" in ctx:
        return vocab.COST_CENTERS.get(ctx["bu"], f"CC-{2000 + 37 * len(ctx['bu']) % 1000}")
    if "security" in ctx:
        return "CC-0900"
    if "sandbox" in ctx:
        return "CC-3000"
    return "CC-1000"


def _data_class(ctx: dict[str, str]) -> str:
    if "security" in ctx:
        return "restricted"
    if ctx.get("env") == "Prod":
        return "restricted" if ctx.get("bu") in vocab.RESTRICTED else "confidential"
    if "sandbox" in ctx or ctx.get("bu") == "Marketing":
        return "public"
    return "internal"


def _plan_accounts(
    spec: OrgSpec, ous: list[_OuPlan], rng: random.Random, tagger: _Tagger
) -> list[_AccountPlan]:
    by_kind = {ou.kind: i for i, ou in reversed(list(enumerate(ous))) if ou.level == 1}
    security, sandbox = by_kind.get("security"), by_kind.get("sandbox")
    retired = by_kind.get("suspended")
    names: set[str] = set()
    accounts: list[_AccountPlan] = []
    per_ou: dict[int | None, int] = {}

    def add(
        name: str, parent: int | None, suspended: bool = False, owner: str | None = None
    ) -> None:
        name = _unique_slug(name, names)
        ou = ous[parent] if parent is not None else None
        app = None if owner else name
        email = f"aws+{_slug(name)}@{EMAIL_DOMAIN}"
        tags = tagger.for_account(ou, owner, app)
        accounts.append(_AccountPlan(name, email, parent, tags, suspended))
        per_ou[parent] = per_ou.get(parent, 0) + 1

    members = spec.accounts - 1
    for name in ("log-archive", "audit")[
        : max(0, members - spec.suspended - spec.wide_parent_accounts)
    ]:
        add(name, security)
    for _ in range(spec.wide_parent_accounts):
        first, last = rng.choice(vocab.FIRST), rng.choice(vocab.LAST)
        add(f"sandbox-{first}-{last}", sandbox, owner=f"{first}.{last}@{EMAIL_DOMAIN}")
    placeable = [
        (i, _ACCOUNT_WEIGHT[ou.kind]) for i, ou in enumerate(ous) if ou.kind in _ACCOUNT_WEIGHT
    ]
    while len(accounts) < members - spec.suspended:
        if not placeable or rng.random() < 0.02:
            add(f"legacy-{rng.choice(vocab.SERVICES)}", None)
            continue
        parent = rng.choices([i for i, _ in placeable], [w for _, w in placeable])[0]
        add(_account_name(ous[parent], rng, per_ou.get(parent, 0)), parent)
    for _ in range(spec.suspended):
        first, last = rng.choice(vocab.FIRST), rng.choice(vocab.LAST)
        add(
            f"retired-{first}-{last}",
            retired,
            suspended=True,
            owner=f"{first}.{last}@{EMAIL_DOMAIN}",
        )
    if spec.fancy_names:
        for account, fancy in zip(accounts[2:], vocab.FANCY_ACCOUNT_NAMES, strict=False):
            account.name = fancy
    return accounts


def _unique_slug(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _account_name(ou: _OuPlan, rng: random.Random, index: int) -> str:
    ctx = ou.context
    if ou.kind == "infra":
        return vocab.INFRA_ACCOUNTS[index % len(vocab.INFRA_ACCOUNTS)]
    if ou.kind == "security":
        return vocab.SECURITY_ACCOUNTS[index % len(vocab.SECURITY_ACCOUNTS)]
    if "sandbox" in ctx:
        return f"sandbox-{rng.choice(vocab.FIRST)}-{rng.choice(vocab.LAST)}"
    parts = [_slug(ctx.get("team") or ctx.get("bu") or "shared")]
    if "region" in ctx:
        parts.append(vocab.REGION_CODES.get(ctx["region"], _slug(ctx["region"])))
    parts.append(vocab.SERVICES[index % len(vocab.SERVICES)])
    parts.append(_slug(ctx.get("env", "shared")))
    return "-".join(parts)


# name, description, denied actions, preferred targets ("root", an OU path, an account name)
_SCP_CATALOG: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("DenyLeaveOrganization", "Members cannot leave the organization",
     ("organizations:LeaveOrganization",), ("root",)),
    ("RegionRestriction", "Only eu-west-1, eu-central-1 and us-east-1",
     ("ec2:RunInstances",), ("Workloads", "Sandbox")),
    ("ProtectSecurityBaseline", "CloudTrail, Config and GuardDuty stay on",
     ("cloudtrail:StopLogging", "config:DeleteConfigurationRecorder"),
     ("Security", "Infrastructure")),
    ("DenyAllSuspended", "Nothing runs in retired accounts", ("*",), ("Suspended",)),
    ("SandboxGuardrails", "No large instances or reserved capacity in sandboxes",
     ("ec2:PurchaseReservedInstancesOffering",), ("Sandbox",)),
    ("PciDssGuardrails", "Encryption and logging for cardholder data",
     ("s3:PutBucketPublicAccessBlock",), ("Workloads/Prod/Payments",)),
    ("DenyS3PublicAccess", "No public buckets in production",
     ("s3:PutBucketPolicy",), ("Workloads/Prod",)),
    ("DenyRootUser", "The root user of member accounts is locked",
     ("*",), ("log-archive", "audit")),
    ("CardIssuingIsolation", "Card issuing may only talk to its own VPCs",
     ("ec2:CreateVpcPeeringConnection",), ("Workloads/Prod/Payments/Europe/Card Issuing",)),
)  # fmt: skip


def _plan_policies(
    spec: OrgSpec, ous: list[_OuPlan], accounts: list[_AccountPlan], rng: random.Random
) -> list[_PolicyPlan]:
    paths = {_ou_path(ous, i): f"ou:{i}" for i in range(len(ous))}
    account_refs = {a.name: f"acct:{i}" for i, a in enumerate(accounts)}
    every = ["root", *paths.values(), *account_refs.values()]
    policies: list[_PolicyPlan] = []
    for n in range(spec.scps):
        if n < len(_SCP_CATALOG):
            name, description, actions, wanted = _SCP_CATALOG[n]
            targets = [paths.get(w) or account_refs.get(w) or w for w in wanted]
            targets = [t for t in targets if t == "root" or ":" in t]
        else:
            name, description = f"Guardrail-{n + 1:02d}", "A team-specific guardrail"
            actions, targets = (f"service{n}:Delete*",), []
        if not targets:
            targets = [rng.choice(every)]
        content = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": name, "Effect": "Deny", "Action": list(actions), "Resource": "*"}
                ],
            }
        )
        policies.append(_PolicyPlan(name, description, content, targets))
    return policies


def _ou_path(ous: list[_OuPlan], index: int) -> str:
    names: list[str] = []
    current: int | None = index
    while current is not None:
        names.append(ous[current].name)
        current = ous[current].parent
    return "/".join(reversed(names))
