"""AWS Organizations' documented request quotas: token buckets per API (rate/s, burst).

Shared by the crawler's client-side rate limiter and the simulated endpoint, so the two can
never drift apart. Operations not listed get DEFAULT_QUOTA.

AWS's table (User Guide, "Quotas and service limits", throttling) gives two columns: what one
calling account may send, and what the whole organization may receive from all its callers.
One caller always meets its per-account limit first; two profiles (two accounts) on one
organization can together meet the per-organization one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Quota:
    rate: float  # tokens per second
    burst: int  # bucket capacity


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """One row of AWS's table. `organization` is None where AWS gives no such column."""

    operations: tuple[str, ...]
    account: Quota
    organization: Quota | None


# Whether the APIs on a row share one bucket is not documented, so the simulator can run
# either way and the crawler must cope with both.
TABLE: tuple[QuotaRow, ...] = (
    QuotaRow(
        ("ListParents", "ListAccountsForParent", "ListOrganizationalUnitsForParent"),
        Quota(5, 8),
        Quota(6, 10),
    ),
    QuotaRow(
        ("ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy"),
        Quota(5, 8),
        Quota(6, 10),
    ),
    QuotaRow(("ListChildren",), Quota(6, 10), Quota(7, 12)),
    QuotaRow(("ListAccounts",), Quota(8, 12), Quota(9, 15)),
    QuotaRow(("ListTagsForResource",), Quota(10, 15), Quota(12, 18)),
    QuotaRow(("DescribeAccount",), Quota(20, 30), Quota(24, 36)),
    QuotaRow(("DescribeOrganizationalUnit",), Quota(2, 2), Quota(2, 3)),
    QuotaRow(("DescribePolicy",), Quota(2, 2), Quota(2, 3)),
    QuotaRow(("ListRoots",), Quota(1, 2), Quota(1, 3)),
    QuotaRow(("DescribeOrganization",), Quota(1, 2), None),
    QuotaRow(("ListAWSServiceAccessForOrganization",), Quota(1, 3), Quota(1, 4)),
    QuotaRow(("ListDelegatedServicesForAccount",), Quota(1, 3), Quota(1, 4)),
    QuotaRow(("ListDelegatedAdministrators",), Quota(5, 8), Quota(6, 10)),
)

# The per-account column, one entry per row: what one client may send.
QUOTA_ROWS: tuple[tuple[tuple[str, ...], Quota], ...] = tuple(
    (row.operations, row.account) for row in TABLE
)

DEFAULT_QUOTA = Quota(5, 8)

DOCUMENTED_QUOTAS: dict[str, Quota] = {op: quota for ops, quota in QUOTA_ROWS for op in ops}

ORGANIZATION_QUOTAS: dict[str, Quota] = {
    op: row.organization for row in TABLE if row.organization is not None for op in row.operations
}


def quota_for(operation: str, overrides: dict[str, Quota] | None = None) -> Quota:
    """The per-account quota of `operation`."""
    if overrides and operation in overrides:
        return overrides[operation]
    return DOCUMENTED_QUOTAS.get(operation, DEFAULT_QUOTA)


def organization_quota_for(operation: str) -> Quota | None:
    """The per-organization quota of `operation`; None where AWS documents none."""
    return ORGANIZATION_QUOTAS.get(operation)


def row_of(operation: str) -> tuple[str, ...]:
    """The operations that share `operation`'s row (itself alone if unlisted)."""
    for ops, _ in QUOTA_ROWS:
        if operation in ops:
            return ops
    return (operation,)
