"""The frozen records an org tree is made of: nodes, policies, the organization, states.

A leaf every layer reads; `model.OrgTree` indexes them, the crawl parses them from AWS's
answers, the cache and the exporters write them out.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str


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


@dataclass(frozen=True, slots=True)
class Details:
    tags: dict[str, str] | None
    tags_state: DetailState
    policies: tuple[Policy, ...] | None
    policies_state: DetailState


@dataclass(frozen=True, slots=True)
class Counts:
    ous: int
    accounts: int


def sort_key(node: Node) -> tuple[int, str, str]:
    return (_TYPE_ORDER[node.type], node.name.casefold(), node.id)
