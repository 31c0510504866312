"""AWS Organizations' documented request quotas: a token bucket per API (rate/s, burst).

Shared by the crawler's client-side rate limiter and the simulated endpoint, so the two can
never drift apart. Operations not listed get DEFAULT_QUOTA.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quota:
    rate: float  # tokens per second
    burst: int  # bucket capacity


# One row of AWS's table: whether the APIs on a row share one bucket is not documented,
# so the simulator can run either way and the crawler must cope with both.
QUOTA_ROWS: tuple[tuple[tuple[str, ...], Quota], ...] = (
    (
        (
            "ListAccountsForParent",
            "ListOrganizationalUnitsForParent",
            "ListParents",
            "ListPoliciesForTarget",
        ),
        Quota(5, 8),
    ),
    (("ListChildren",), Quota(6, 10)),
    (("ListAccounts",), Quota(8, 12)),
    (("ListTagsForResource",), Quota(10, 15)),
    (("DescribeAccount",), Quota(20, 30)),
    (("DescribeOrganizationalUnit",), Quota(2, 2)),
    (("ListRoots",), Quota(1, 2)),
    (("DescribeOrganization",), Quota(1, 2)),
)

DEFAULT_QUOTA = Quota(5, 8)

DOCUMENTED_QUOTAS: dict[str, Quota] = {op: quota for ops, quota in QUOTA_ROWS for op in ops}


def quota_for(operation: str, overrides: dict[str, Quota] | None = None) -> Quota:
    if overrides and operation in overrides:
        return overrides[operation]
    return DOCUMENTED_QUOTAS.get(operation, DEFAULT_QUOTA)


def row_of(operation: str) -> tuple[str, ...]:
    """The operations that share `operation`'s row (itself alone if unlisted)."""
    for ops, _ in QUOTA_ROWS:
        if operation in ops:
            return ops
    return (operation,)
