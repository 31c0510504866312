"""Realistic organizations built in moto, with the ground truth to check a crawl against.

`plan_org` turns an OrgSpec into a deterministic plan (no AWS); `build_org` plays it through
any Organizations client; `start_demo` does that against a local SimServer. moto is imported
only when a server starts, so `import orgtree_tui.demo` works without it.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal

from orgtree_tui.model import Counts, NodeType, OrgTree

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_organizations import OrganizationsClient

    from orgtree_tui.quotas import Quota
    from orgtree_tui.sim.server import SimServer
    from orgtree_tui.sim.throttle import ThrottleMiddleware

MAX_DEPTH = 5  # AWS allows five levels of OUs below the root
FULL_ACCESS_POLICY_ID = "p-FullAWSAccess"
SCP: Final = "SERVICE_CONTROL_POLICY"
EMAIL_DOMAIN = "example.com"

NodeKind = Literal["ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"]


@dataclass(frozen=True)
class OrgSpec:
    accounts: int = 120  # every account, the management account included
    ous: int = 24
    depth: int = 5  # OU nesting levels reached (the deepest OU is at this level)
    tags: bool = True
    scps: int = 0  # custom SCPs besides FullAWSAccess
    suspended: int = 0  # accounts closed after creation (moto reports them SUSPENDED)
    seed: int = 7
    wide_parent_accounts: int = 0  # this many accounts directly under Sandbox: a > 20-child page
    wide_parent_ous: int = 0  # this many OUs directly under Sandbox (within `ous`)
    fancy_names: bool = False  # unicode and punctuation in some OU and account names

    def __post_init__(self) -> None:
        if not 0 <= self.depth <= MAX_DEPTH:
            raise ValueError(f"depth must be 0..{MAX_DEPTH}")
        counts = (self.ous, self.scps, self.suspended)
        if min((*counts, self.wide_parent_accounts, self.wide_parent_ous)) < 0:
            raise ValueError("counts must not be negative")
        if self.ous and not 1 <= self.depth <= self.ous:
            raise ValueError("with OUs, depth must be between 1 and the number of OUs")
        if self.accounts < 1 + self.suspended + self.wide_parent_accounts:
            raise ValueError("accounts must cover the management, suspended and wide accounts")


def seed_spec() -> OrgSpec:
    """The benchmark's org: ~120 accounts, ~20 OUs, 5 levels, tags on every node."""
    return OrgSpec(accounts=120, ous=24, depth=5, tags=True, suspended=2, wide_parent_accounts=24)


def demo_spec() -> OrgSpec:
    """The built-in demo: the seed's org plus SCPs attached at every level."""
    return replace(seed_spec(), scps=8)


def large_spec() -> OrgSpec:
    return OrgSpec(
        accounts=1200,
        ous=130,
        depth=5,
        tags=True,
        scps=12,
        suspended=12,
        wide_parent_accounts=60,
        wide_parent_ous=25,
    )


# -- ground truth ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TruthNode:
    id: str
    type: NodeKind
    name: str
    parent_id: str | None
    state: str | None = None  # accounts only: ACTIVE, SUSPENDED...


@dataclass(frozen=True)
class Comparison:
    """How a crawled OrgTree differs from the truth; empty fields mean it matched."""

    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    wrong_parent: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    wrong_name: dict[str, tuple[str, str]] = field(default_factory=dict)
    wrong_state: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    missing_tags: tuple[str, ...] = ()
    wrong_tags: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)
    missing_policies: tuple[str, ...] = ()
    wrong_policies: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(getattr(self, name) for name in self._problem_fields())

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self._problem_fields()}

    def summary(self) -> str:
        problems = {k: v for k, v in self.counts().items() if v}
        return "matches" if not problems else ", ".join(f"{k}={v}" for k, v in problems.items())

    @staticmethod
    def _problem_fields() -> tuple[str, ...]:
        return (
            "missing",
            "extra",
            "wrong_parent",
            "wrong_name",
            "wrong_state",
            "missing_tags",
            "wrong_tags",
            "missing_policies",
            "wrong_policies",
        )


@dataclass(frozen=True)
class GroundTruth:
    organization_id: str
    management_account_id: str
    root_id: str
    nodes: dict[str, TruthNode]
    tags: dict[str, dict[str, str]]  # every node; {} when untagged
    policies: dict[str, frozenset[str]]  # attached SCP ids per node, FullAWSAccess included
    policy_names: dict[str, str] = field(default_factory=dict)

    def counts(self) -> Counts:
        ous = sum(1 for n in self.nodes.values() if n.type == "ORGANIZATIONAL_UNIT")
        accounts = sum(1 for n in self.nodes.values() if n.type == "ACCOUNT")
        return Counts(ous, accounts)

    def children(self, node_id: str) -> list[TruthNode]:
        return [n for n in self.nodes.values() if n.parent_id == node_id]

    def level(self, node_id: str) -> int:
        """0 for the root, 1 for its children, and so on."""
        level, node = 0, self.nodes[node_id]
        while node.parent_id is not None:
            level, node = level + 1, self.nodes[node.parent_id]
        return level

    def max_ou_depth(self) -> int:
        ous = [n.id for n in self.nodes.values() if n.type == "ORGANIZATIONAL_UNIT"]
        return max((self.level(i) for i in ous), default=0)

    def compare(self, tree: OrgTree, *, tags: bool = True, policies: bool = True) -> Comparison:
        """Compare by node id; `tags`/`policies` False skip details a crawl did not fetch."""
        crawled = {n.id: n for n in tree.nodes()}
        wrong_parent: dict[str, tuple[str | None, str | None]] = {}
        wrong_name: dict[str, tuple[str, str]] = {}
        wrong_state: dict[str, tuple[str | None, str | None]] = {}
        missing_tags: list[str] = []
        wrong_tags: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        missing_policies: list[str] = []
        wrong_policies: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        for node_id, want in self.nodes.items():
            got = crawled.get(node_id)
            if got is None:
                continue
            if got.parent_id != want.parent_id:
                wrong_parent[node_id] = (want.parent_id, got.parent_id)
            if got.name != want.name:
                wrong_name[node_id] = (want.name, got.name)
            if got.type is NodeType.ACCOUNT and got.state is not None and got.state != want.state:
                wrong_state[node_id] = (want.state, got.state)
            details = tree.details(node_id)
            if tags:
                if details.tags is None:
                    missing_tags.append(node_id)
                elif details.tags != self.tags.get(node_id, {}):
                    wrong_tags[node_id] = (self.tags.get(node_id, {}), details.tags)
            if policies:
                if details.policies is None:
                    missing_policies.append(node_id)
                else:
                    have = frozenset(p.id for p in details.policies)
                    expected = self.policies.get(node_id, frozenset())
                    if have != expected:
                        wrong_policies[node_id] = (expected, have)
        return Comparison(
            missing=tuple(sorted(set(self.nodes) - set(crawled))),
            extra=tuple(sorted(set(crawled) - set(self.nodes))),
            wrong_parent=wrong_parent,
            wrong_name=wrong_name,
            wrong_state=wrong_state,
            missing_tags=tuple(sorted(missing_tags)),
            wrong_tags=wrong_tags,
            missing_policies=tuple(sorted(missing_policies)),
            wrong_policies=wrong_policies,
        )


# -- the plan --------------------------------------------------------------------------------


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# What an OU of each kind holds: (child names, the kind of those children).
_CHILDREN: dict[str, tuple[tuple[str, ...], str]] = {
    "security": (_names("Log Archive|Security Tooling|Forensics|Break Glass"), "security"),
    "infra": (_names("Network|Shared Services|Observability|CI-CD|Identity|Backup"), "infra"),
    "workloads": (_names("Prod|Staging|Dev|Test|QA|Perf"), "env"),
    "env": (
        _names(
            "Payments|Identity|Search|Data Platform|Mobile|Marketing|Logistics|Risk|"
            "Customer Care|Checkout|Catalog|Billing|Messaging|Analytics|Machine Learning|"
            "Partner APIs|Reporting|Fraud"
        ),
        "bu",
    ),
    "bu": (_names("Europe|North America|APAC|LATAM|Middle East|Africa"), "region"),
    "region": (
        _names(
            "Card Issuing|Acquiring|Ledger|Onboarding|Recommendations|Ingestion|Streaming|"
            "Gateway|Notifications|Pricing|Inventory|Settlement|Compliance|Disputes|Payouts|"
            "Relevance"
        ),
        "team",
    ),
    "sandbox": (_names("Engineering|Data Science|Product|Research|Interns"), "dept"),
    "dept": (_names("Platform|Frontend|Backend|Mobile|ML"), "squad"),
}
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
_CHAIN = (
    ("Workloads", "workloads"),
    ("Prod", "env"),
    ("Payments", "bu"),
    ("Europe", "region"),
    ("Card Issuing", "team"),
)
_TOP = (
    ("Security", "security"),
    ("Infrastructure", "infra"),
    ("Sandbox", "sandbox"),
    ("Suspended", "suspended"),
    ("Policy Staging", "staging"),
)
_REGION_CODES = {
    "Europe": "eu",
    "North America": "na",
    "APAC": "apac",
    "LATAM": "latam",
    "Middle East": "me",
    "Africa": "af",
}
_SERVICES = _names("api|web|data|batch|ml|events|core|edge|etl|portal")
_INFRA_ACCOUNTS = _names(
    "network-hub|network-egress|shared-services|ci-cd|dns|artifact-registry|observability|"
    "backup-vault|identity-center"
)
_SECURITY_ACCOUNTS = _names("security-tooling|guardduty-admin|forensics|break-glass|security-lake")
_FIRST = _names(
    "alice|bob|carol|dmitri|erin|farah|george|hana|ivan|jun|kemal|lena|mateo|nadia|oscar|"
    "priya|quinn|rosa|sven|tomoko|uma|victor|wen|xavier|yara|zoe"
)
_LAST = _names(
    "smith|garcia|chen|novak|okafor|muller|tanaka|silva|kowalski|nguyen|haddad|johansson|"
    "rossi|patel|obrien"
)
_COST_CENTERS = {
    "Payments": "CC-1100",
    "Identity": "CC-1200",
    "Search": "CC-1300",
    "Risk": "CC-1400",
    "Fraud": "CC-1450",
    "Marketing": "CC-1500",
}
_RESTRICTED = {"Payments", "Identity", "Risk", "Fraud", "Billing", "Checkout"}
# Real AWS accepts any characters in OU and account names; these break naive exporters.
_FANCY_OU_NAMES = (
    "\u00dcn\u00efc\u00f8d\u00e9 & Co. (EU)",
    "Data/Analytics",
    'R&D "Labs"',
    "\u6771\u4eac Tokyo",
    "Back\\slash",
    "Z\u00fcrich \u2013 Fintech",
    "Spaced  Out",
    "\u00e9mojis \U0001f680",
)
_FANCY_ACCOUNT_NAMES = (
    "O'Brien's sandbox",
    "payments/eu (legacy)",
    "\u00dcn\u00efc\u00f8d\u00e9-prod",
    'ACME, Inc. "Prod"',
    "<b>not html</b>",
    "tab-free\\path",
    "na\u00efve caf\u00e9",
)


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


@dataclass
class OrgPlan:
    """What build_org will create, in order; parents always precede children."""

    spec: OrgSpec
    root_tags: dict[str, str]
    management_tags: dict[str, str]
    ous: list[_OuPlan]
    accounts: list[_AccountPlan]  # members only; the management account is moto's own
    policies: list[_PolicyPlan]


def plan_org(spec: OrgSpec) -> OrgPlan:
    rng = random.Random(spec.seed)
    ous = _plan_ous(spec, rng)
    tagger = _Tagger(spec.tags)
    for ou in ous:
        ou.tags = tagger.for_ou(ou)
    accounts = _plan_accounts(spec, ous, rng, tagger)
    policies = _plan_policies(spec, ous, accounts, rng)
    return OrgPlan(
        spec=spec,
        root_tags=tagger.shared("cloud-platform", "CC-1000", "shared", "internal"),
        management_tags=tagger.shared("cloud-platform", "CC-1000", "shared", "confidential"),
        ous=ous,
        accounts=accounts,
        policies=policies,
    )


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
    for i, (name, kind) in enumerate(_CHAIN[: min(spec.depth, spec.ous)]):
        add(name, i - 1 if i else None, kind)
    for name, kind in _TOP:
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
        names, kind = _CHILDREN[ous[parent].kind]
        taken = used.get(parent, set())
        free = [n for n in names if n not in taken]
        name = rng.choice(free) if free else _unique(f"{names[0]} {len(taken) + 1}", taken)
        add(name, parent, kind)
    if spec.fancy_names:
        # Leave the chain and top level alone: they carry the realistic structure.
        fixed = min(spec.depth, spec.ous) + len(_TOP)
        for ou, fancy in zip(ous[fixed:], _FANCY_OU_NAMES, strict=False):
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
        return _COST_CENTERS.get(ctx["bu"], f"CC-{2000 + 37 * len(ctx['bu']) % 1000}")
    if "security" in ctx:
        return "CC-0900"
    if "sandbox" in ctx:
        return "CC-3000"
    return "CC-1000"


def _data_class(ctx: dict[str, str]) -> str:
    if "security" in ctx:
        return "restricted"
    if ctx.get("env") == "Prod":
        return "restricted" if ctx.get("bu") in _RESTRICTED else "confidential"
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
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        add(f"sandbox-{first}-{last}", sandbox, owner=f"{first}.{last}@{EMAIL_DOMAIN}")
    placeable = [
        (i, _ACCOUNT_WEIGHT[ou.kind]) for i, ou in enumerate(ous) if ou.kind in _ACCOUNT_WEIGHT
    ]
    while len(accounts) < members - spec.suspended:
        if not placeable or rng.random() < 0.02:
            add(f"legacy-{rng.choice(_SERVICES)}", None)
            continue
        parent = rng.choices([i for i, _ in placeable], [w for _, w in placeable])[0]
        add(_account_name(ous[parent], rng, per_ou.get(parent, 0)), parent)
    for _ in range(spec.suspended):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        add(
            f"retired-{first}-{last}",
            retired,
            suspended=True,
            owner=f"{first}.{last}@{EMAIL_DOMAIN}",
        )
    if spec.fancy_names:
        for account, fancy in zip(accounts[2:], _FANCY_ACCOUNT_NAMES, strict=False):
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
        return _INFRA_ACCOUNTS[index % len(_INFRA_ACCOUNTS)]
    if ou.kind == "security":
        return _SECURITY_ACCOUNTS[index % len(_SECURITY_ACCOUNTS)]
    if "sandbox" in ctx:
        return f"sandbox-{rng.choice(_FIRST)}-{rng.choice(_LAST)}"
    parts = [_slug(ctx.get("team") or ctx.get("bu") or "shared")]
    if "region" in ctx:
        parts.append(_REGION_CODES.get(ctx["region"], _slug(ctx["region"])))
    parts.append(_SERVICES[index % len(_SERVICES)])
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


# -- building --------------------------------------------------------------------------------


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
    if plan.policies:
        # Real AWS refuses SCP attachments until the type is enabled; moto does not care.
        enabled = {t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] == "ENABLED"}
        if SCP not in enabled:
            client.enable_policy_type(RootId=root_id, PolicyType=SCP)
    refs = {"root": root_id, "mgmt": mgmt_id}
    refs.update({f"ou:{i}": ou_id for i, ou_id in enumerate(ou_ids)})
    refs.update({f"acct:{i}": acct_id for i, acct_id in enumerate(account_ids)})
    for policy in plan.policies:
        summary = client.create_policy(
            Name=policy.name, Description=policy.description, Content=policy.content, Type=SCP
        )["Policy"]["PolicySummary"]
        policy_names[summary["Id"]] = policy.name
        for target in policy.targets:
            client.attach_policy(PolicyId=summary["Id"], TargetId=refs[target])
            policies[refs[target]].add(summary["Id"])

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
    policies: dict[str, set[str]] = {node_id: set() for node_id in nodes}
    names: dict[str, str] = {}
    for ppage in client.get_paginator("list_policies").paginate(Filter=SCP):
        for policy in ppage["Policies"]:
            names[policy["Id"]] = policy["Name"]
            targets = client.get_paginator("list_targets_for_policy")
            for tpage in targets.paginate(PolicyId=policy["Id"]):
                for target in tpage["Targets"]:
                    policies.setdefault(target["TargetId"], set()).add(policy["Id"])
    return GroundTruth(
        organization_id=org["Id"],
        management_account_id=org["MasterAccountId"],
        root_id=root["Id"],
        nodes=nodes,
        tags=tags,
        policies={k: frozenset(v) for k, v in policies.items()},
        policy_names=names,
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


# -- the running demo ------------------------------------------------------------------------


class DemoHandle:
    """A running simulated endpoint holding a built organization."""

    def __init__(self, server: SimServer, truth: GroundTruth, build_seconds: float) -> None:
        self.server = server
        self.truth = truth
        self.build_seconds = build_seconds

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def middleware(self) -> ThrottleMiddleware:
        return self.server.middleware

    def client(self, config: Config | None = None) -> OrganizationsClient:
        return self.server.client(config)

    def admin_client(self, config: Config | None = None) -> OrganizationsClient:
        """Unthrottled and uncounted: for changing the org under a running crawl."""
        return self.server.admin_client(config)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo(
    spec: OrgSpec | None = None,
    latency: tuple[float, float] = (0.1, 0.2),
    throttle: bool = True,
    *,
    quotas: dict[str, Quota] | None = None,
    shared_rows: bool = False,
) -> DemoHandle:
    """Start a SimServer on 127.0.0.1 and build `spec` (the demo org by default) in it."""
    from orgtree_tui.sim.server import SimServer

    spec = spec or demo_spec()
    server = SimServer(
        quotas=quotas, latency=latency, shared_rows=shared_rows, seed=spec.seed, throttle=throttle
    )
    server.start()
    try:
        started = time.perf_counter()
        truth = build_org(server.admin_client(), spec)
        elapsed = time.perf_counter() - started
    except BaseException:
        server.stop()
        raise
    server.middleware.reset_stats()
    return DemoHandle(server, truth, elapsed)
