"""The client-side rate limiter, on a fake clock."""

from __future__ import annotations

import pytest

from orgtree_tui.crawl.ratelimit import DECREASE, HEADROOM, RateLimiter
from orgtree_tui.quotas import DOCUMENTED_QUOTAS, Quota, organization_quota_for, quota_for, row_of


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drain(limiter: RateLimiter, op: str) -> int:
    taken = 0
    while limiter.try_acquire(op):
        taken += 1
    return taken


def test_starts_under_the_documented_rate_with_burst_held_back() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    quota = DOCUMENTED_QUOTAS["ListTagsForResource"]
    assert drain(limiter, "ListTagsForResource") == quota.burst - 1
    assert limiter.rates()["ListTagsForResource"] == pytest.approx(quota.rate * HEADROOM)
    clock.now += 1.0
    assert drain(limiter, "ListTagsForResource") == int(quota.rate * HEADROOM)


def test_delay_says_when_the_next_token_comes() -> None:
    clock = Clock()
    limiter = RateLimiter({"ListRoots": Quota(2, 2)}, headroom=1.0, burst_reserve=1, clock=clock)
    assert limiter.try_acquire("ListRoots")
    assert not limiter.try_acquire("ListRoots")
    assert limiter.delay("ListRoots") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.delay("ListRoots") == 0.0


def test_a_throttle_lowers_the_rate_once_per_round_trip_and_successes_restore_it() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    op = "ListAccountsForParent"
    limiter.try_acquire(op)
    start = limiter.rates()[op]
    sent = clock.now
    clock.now += 0.2
    limiter.on_throttle(op, sent)
    assert limiter.rates()[op] == pytest.approx(start * DECREASE)
    # Two more throttles of requests sent before that decrease change nothing.
    limiter.on_throttle(op, sent)
    limiter.on_throttle(op, sent + 0.1)
    assert limiter.rates()[op] == pytest.approx(start * DECREASE)
    clock.now += 0.1
    limiter.on_throttle(op, clock.now)
    assert limiter.rates()[op] == pytest.approx(start * DECREASE * DECREASE)
    limiter.on_success(op)
    assert limiter.rates()[op] == pytest.approx(start * DECREASE * DECREASE)  # too soon
    for _ in range(20):
        clock.now += 1.0
        limiter.on_success(op)
    assert limiter.rates()[op] == pytest.approx(start)


def test_the_rate_never_falls_to_zero() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    for _ in range(100):
        clock.now += 1
        limiter.on_throttle("ListRoots", clock.now)
    assert limiter.rates()["ListRoots"] > 0.05


def test_throttles_across_a_busy_row_merge_it_into_one_bucket() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    ous, accounts = "ListOrganizationalUnitsForParent", "ListAccountsForParent"
    limiter.try_acquire(ous)
    limiter.try_acquire(accounts)
    for op in (accounts, ous, accounts):  # each starved by the other
        clock.now += 0.3
        limiter.on_throttle(op, clock.now)
    assert limiter.merged_rows and ous in limiter.merged_rows[0]
    # One bucket now: tokens taken by one operation are gone for the other.
    clock.now += 10
    taken = 0
    while limiter.try_acquire(ous if taken % 2 else accounts):
        taken += 1
    assert taken == DOCUMENTED_QUOTAS[ous].burst - 1


def test_one_operation_throttled_while_its_row_is_busy_does_not_merge_it() -> None:
    # A server whose bucket for one operation is smaller than documented throttles that
    # operation alone: its own rate comes down, the rest of the row keeps its own pace.
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    ous, accounts = "ListOrganizationalUnitsForParent", "ListAccountsForParent"
    for _ in range(6):
        clock.now += 0.3
        limiter.try_acquire(ous)
        limiter.try_acquire(accounts)
        limiter.on_throttle(accounts, clock.now)
    assert limiter.merged_rows == []
    assert limiter.rates()[ous] == pytest.approx(DOCUMENTED_QUOTAS[ous].rate * HEADROOM)


def test_throttles_of_a_lone_operation_do_not_merge_its_row() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.try_acquire("ListAccountsForParent")
    for _ in range(5):
        clock.now += 0.3
        limiter.on_throttle("ListAccountsForParent", clock.now)
    assert limiter.merged_rows == []


def test_the_table_has_aws_rows_and_both_columns() -> None:
    # AWS's User Guide, "Quotas and service limits", throttling (per account; per org).
    parents = ("ListParents", "ListAccountsForParent", "ListOrganizationalUnitsForParent")
    policies = ("ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy")
    for row in (parents, policies):
        for op in row:
            assert row_of(op) == row
            assert quota_for(op) == Quota(5, 8)
            assert organization_quota_for(op) == Quota(6, 10)
    expected = {
        "DescribePolicy": (Quota(2, 2), Quota(2, 3)),
        "DescribeOrganizationalUnit": (Quota(2, 2), Quota(2, 3)),
        "ListAWSServiceAccessForOrganization": (Quota(1, 3), Quota(1, 4)),
        "ListDelegatedServicesForAccount": (Quota(1, 3), Quota(1, 4)),
        "ListDelegatedAdministrators": (Quota(5, 8), Quota(6, 10)),
        "ListAccounts": (Quota(8, 12), Quota(9, 15)),
        "ListChildren": (Quota(6, 10), Quota(7, 12)),
        "ListRoots": (Quota(1, 2), Quota(1, 3)),
        "ListTagsForResource": (Quota(10, 15), Quota(12, 18)),
        "DescribeAccount": (Quota(20, 30), Quota(24, 36)),
        "DescribeOrganization": (Quota(1, 2), None),
    }
    for op, (account, organization) in expected.items():
        assert (quota_for(op), organization_quota_for(op)) == (account, organization), op
        assert row_of(op) == (op,)


def test_throttles_across_the_policy_row_merge_it() -> None:
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.try_acquire("ListTargetsForPolicy")
    limiter.try_acquire("ListPoliciesForTarget")
    for op in ("ListTargetsForPolicy", "ListPoliciesForTarget", "ListTargetsForPolicy"):
        clock.now += 0.3
        limiter.on_throttle(op, clock.now)
    assert limiter.merged_rows == [
        ("ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy")
    ]
