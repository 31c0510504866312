"""The task loop's counters, as an immutable snapshot that is safe to hand to any thread."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CrawlStats:
    queued: int = 0  # tasks waiting, including retries waiting out their backoff
    in_flight: int = 0  # futures submitted and not yet handled
    done: int = 0  # tasks finished for good (answered or failed)
    workers: int = 0
    calls: dict[str, int] = field(default_factory=dict)  # requests sent, per operation
    throttled: dict[str, int] = field(default_factory=dict)  # TooManyRequests answers
    retries: int = 0
    failed: int = 0  # calls that failed for good
    elapsed: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)  # current client-side rate per op

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_throttled(self) -> int:
        return sum(self.throttled.values())
