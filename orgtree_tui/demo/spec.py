"""What an organization to build looks like: size, depth, tags, SCPs, edge cases."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

MAX_DEPTH = 5  # AWS allows five levels of OUs below the root
FULL_ACCESS_POLICY_ID = "p-FullAWSAccess"
SCP: Final = "SERVICE_CONTROL_POLICY"
RCP: Final = "RESOURCE_CONTROL_POLICY"
TAG_POLICY: Final = "TAG_POLICY"
AI_OPT_OUT: Final = "AISERVICES_OPT_OUT_POLICY"
RCP_FULL_ACCESS_POLICY_ID = "p-RCPFullAWSAccess"
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
    # RCPs, a tag policy and an AI-services opt-out policy (their types enabled on the root),
    # a delegated administrator for two services and services with trusted access.
    governance: bool = False

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
    """The built-in demo: the seed's org plus SCPs attached at every level, an RCP, a tag
    policy, an AI-services opt-out policy, a delegated administrator, trusted services."""
    return replace(seed_spec(), scps=8, governance=True)


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
