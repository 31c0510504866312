"""The frozen records an org tree is made of: nodes, policies, the organization, states.

A leaf every layer reads; `model.OrgTree` indexes them, the crawl parses them from AWS's
answers, the cache and the exporters write them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum


class NodeType(StrEnum):
    ROOT = "ROOT"
    ORGANIZATIONAL_UNIT = "ORGANIZATIONAL_UNIT"
    ACCOUNT = "ACCOUNT"


# Children sort OUs first, then accounts; roots never appear as children.
_TYPE_ORDER = {NodeType.ROOT: 0, NodeType.ORGANIZATIONAL_UNIT: 1, NodeType.ACCOUNT: 2}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: NodeType
    name: str
    arn: str
    parent_id: str | None
    email: str | None = None
    state: str | None = None
    joined_method: str | None = None
    joined_timestamp: datetime | None = None

    @property
    def is_account(self) -> bool:
        return self.type is NodeType.ACCOUNT


SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
# Authorization policies: an action must be allowed at every level from the root down, so
# their inheritance is a chain; every other type is a management policy (inherited, merged).
AUTHORIZATION_TYPES = frozenset({SCP, RCP})


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str
    type: str = SCP
    # What AWS says about it, not what it is: a listing without them (an old cache, a
    # per-target answer) is still the same policy.
    aws_managed: bool = field(default=False, compare=False)
    description: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """A policy's document as DescribePolicy gave it; `content` None with a state saying
    why (not asked for yet: PENDING)."""

    policy_id: str
    policy: Policy | None
    content: str | None
    state: DetailState


@dataclass(frozen=True, slots=True)
class DelegatedAdministrator:
    """An account the organization delegated administration of some services to.
    `services` None: ListDelegatedServicesForAccount was refused or failed for it."""

    account_id: str
    name: str
    services: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    arn: str
    management_account_id: str
    management_account_email: str = ""
    feature_set: str = ""


class DetailState(Enum):
    """Where a node's tags or policies stand."""

    PENDING = "pending"
    LOADED = "loaded"
    DENIED = "not permitted"
    FAILED = "failed"
    NOT_ENABLED = "type not enabled"  # a policy type the root does not have enabled


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies of one type attached directly to one node, and where fetching stands."""

    policies: tuple[Policy, ...] | None
    state: DetailState


@dataclass(frozen=True, slots=True)
class Details:
    """A node's tags and attached policies. `policies`/`policies_state` are the SCPs (what
    the older views show); `by_type` has every type the node has word of, SCPs included."""

    tags: dict[str, str] | None
    tags_state: DetailState
    policies: tuple[Policy, ...] | None
    policies_state: DetailState
    by_type: dict[str, PolicySet] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrgFacts:
    """What the organization as a whole has: the policy types on its root (type -> status;
    None: not known yet, or a tree from before they were read), its delegated
    administrators and the services with trusted access (None: not fetched, refused or
    failed, which the state says). A state None: never asked for (a `--no-details` crawl,
    a tree from before these were read), which is no gap."""

    policy_types: dict[str, str] | None = None
    delegated_administrators: tuple[DelegatedAdministrator, ...] | None = None
    delegated_administrators_state: DetailState | None = None
    trusted_services: tuple[str, ...] | None = None
    trusted_services_state: DetailState | None = None

    def enabled_types(self) -> tuple[str, ...]:
        """The policy types every node must have: those ENABLED on the root, or SCPs alone
        when the types are not known (what the crawl fetched before it read them)."""
        if self.policy_types is None:
            return (SCP,)
        return tuple(sorted(t for t, s in self.policy_types.items() if s == "ENABLED"))


@dataclass(frozen=True, slots=True)
class Counts:
    ous: int
    accounts: int


def sort_key(node: Node) -> tuple[int, str, str]:
    return (_TYPE_ORDER[node.type], node.name.casefold(), node.id)
