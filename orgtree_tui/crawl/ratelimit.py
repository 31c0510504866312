"""Client-side token buckets per operation, AIMD-tuned against AWS's throttling.

The task loop asks `delay(op)` before it dispatches and only hands a task to a worker once a
token is taken, so no worker ever sleeps waiting for its operation's turn.

Why the numbers: requests bunch up in the network, so a client that sends at exactly the
documented rate gets throttled once the server's burst is spent. We run a little under the
documented rate and keep a couple of the server's burst tokens in reserve to absorb jitter.
On a throttle the operation's rate drops multiplicatively and creeps back after successes.

AWS does not say whether the APIs on one row of its quota table share a bucket. We start with
one bucket per operation (the fast case) and, if operations of one row are throttled again and
again while others of the row are busy, and more than one of them is throttled, merge that row
into one shared bucket for the rest of the crawl. One operation throttled alone says only that
its own bucket is smaller than we thought (its rate comes down by itself): merging then would
slow the whole row for nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from orgtree_tui.quotas import QUOTA_ROWS, Quota, quota_for, row_of

HEADROOM = 0.98  # fraction of the documented rate we aim for
BURST_RESERVE = 1  # server burst tokens we leave unused for jitter
DECREASE = 0.7  # multiplicative decrease on a throttle
RECOVER_EVERY = 1.0  # seconds without a throttle between two rate increases
INCREASE = 1.25  # multiplicative increase: back from the floor to the target in ~10 s
MIN_FRACTION = 0.1  # never go below this fraction of the documented rate
MERGE_THROTTLES = 3  # throttles within MERGE_WINDOW on a row that suggest a shared bucket
MERGE_WINDOW = 3.0


@dataclass(frozen=True, slots=True)
class BucketState:
    name: str
    rate: float
    target: float
    tokens: float


class TokenBucket:
    def __init__(self, name: str, rate: float, capacity: float, now: float) -> None:
        self.name = name
        self.target = rate
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.updated = now
        self.decreased_at = -1e18
        self.increased_at = -1e18

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now

    def delay(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0

    def throttled(self, now: float, sent_at: float) -> None:
        self._refill(now)
        if sent_at < self.decreased_at:
            # Sent before the last decrease took effect: that decrease already covers it.
            return
        self.decreased_at = now
        self.rate = max(self.target * MIN_FRACTION, self.rate * DECREASE)
        # The server's bucket is empty: give it time before the next attempt.
        self.tokens = min(self.tokens, 0.0)

    def succeeded(self, now: float) -> None:
        if self.rate >= self.target:
            return
        # Recover by time, not by count of successes: at a low rate successes are rare, and
        # counting them would keep a crawl crawling long after a throttle storm is over.
        if now - max(self.decreased_at, self.increased_at) >= RECOVER_EVERY:
            self.increased_at = now
            self.rate = min(self.target, self.rate * INCREASE)


class RateLimiter:
    """Thread-safe token buckets keyed by operation, with row merging."""

    def __init__(
        self,
        overrides: dict[str, Quota] | None = None,
        *,
        headroom: float = HEADROOM,
        burst_reserve: int = BURST_RESERVE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overrides = overrides
        self._headroom = headroom
        self._reserve = burst_reserve
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._last_call: dict[str, float] = {}
        self._row_throttles: dict[tuple[str, ...], deque[tuple[float, str]]] = {}
        self.merged_rows: list[tuple[str, ...]] = []

    def _bucket(self, op: str) -> TokenBucket:
        bucket = self._buckets.get(op)
        if bucket is None:
            quota = quota_for(op, self._overrides)
            bucket = self._make(op, quota)
            self._buckets[op] = bucket
        return bucket

    def _make(self, name: str, quota: Quota) -> TokenBucket:
        capacity = max(1.0, quota.burst - self._reserve)
        return TokenBucket(name, quota.rate * self._headroom, capacity, self._clock())

    def delay(self, op: str) -> float:
        """Seconds until `op` may be sent; 0 means now."""
        with self._lock:
            return self._bucket(op).delay(self._clock())

    def try_acquire(self, op: str) -> bool:
        with self._lock:
            now = self._clock()
            bucket = self._bucket(op)
            if bucket.delay(now) > 0:
                return False
            bucket.take(now)
            self._last_call[op] = now
            return True

    def on_success(self, op: str) -> None:
        with self._lock:
            self._bucket(op).succeeded(self._clock())

    def on_throttle(self, op: str, sent_at: float | None = None) -> None:
        """`sent_at` (this limiter's clock) is when the throttled request left."""
        with self._lock:
            now = self._clock()
            self._bucket(op).throttled(now, now if sent_at is None else sent_at)
            self._maybe_merge_row(op, now)

    def _maybe_merge_row(self, op: str, now: float) -> None:
        row = row_of(op)
        if len(row) < 2 or row in self.merged_rows or self._overrides_cover(row):
            return
        recent = self._row_throttles.setdefault(row, deque())
        recent.append((now, op))
        while recent and now - recent[0][0] > MERGE_WINDOW:
            recent.popleft()
        busy = [o for o in row if now - self._last_call.get(o, -1e9) < MERGE_WINDOW]
        throttled = {o for _, o in recent}
        if len(recent) >= MERGE_THROTTLES and len(busy) >= 2 and len(throttled) >= 2:
            quota = next(q for ops, q in QUOTA_ROWS if ops == row)
            shared = self._make("+".join(row), quota)
            # The server's shared bucket is drained by now; refill from empty at its rate.
            shared.tokens = 0.0
            shared.decreased_at = now
            for member in row:
                self._buckets[member] = shared
            self.merged_rows.append(row)

    def _overrides_cover(self, row: tuple[str, ...]) -> bool:
        # Explicit per-operation quotas mean the caller knows the buckets; don't guess.
        return bool(self._overrides) and any(o in (self._overrides or {}) for o in row)

    def rates(self) -> dict[str, float]:
        """The current sending rate of every operation seen so far."""
        with self._lock:
            return {op: bucket.rate for op, bucket in self._buckets.items()}

    def states(self) -> list[BucketState]:
        with self._lock:
            seen: dict[int, BucketState] = {}
            for bucket in self._buckets.values():
                seen.setdefault(
                    id(bucket), BucketState(bucket.name, bucket.rate, bucket.target, bucket.tokens)
                )
            return list(seen.values())
