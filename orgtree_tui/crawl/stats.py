"""The task loop's counters, and their immutable snapshot that is safe to hand to any thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


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


@dataclass
class Counters:
    """What the loop counts as it goes (under its own lock); `snapshot` copies them out."""

    done: int = 0
    retries: int = 0
    failed: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)

    def snapshot(
        self, *, queued: int, in_flight: int, workers: int, elapsed: float, rates: dict[str, float]
    ) -> CrawlStats:
        return CrawlStats(
            queued=queued,
            in_flight=in_flight,
            done=self.done,
            workers=workers,
            calls=dict(self.calls),
            throttled=dict(self.throttled),
            retries=self.retries,
            failed=self.failed,
            elapsed=elapsed,
            rates=rates,
        )


class ProgressPacer:
    """How often the loop hands out a snapshot: when something changed (`dirty`), at most
    once per `interval` unless forced. Its state is guarded by the loop's lock."""

    def __init__(self, listener: Callable[[CrawlStats], None] | None, interval: float) -> None:
        self.listener = listener
        self._interval = interval
        self._last = 0.0
        self.dirty = True

    def next_due(self) -> float | None:
        """When the next snapshot may go out, if one is owed."""
        if not self.dirty or self.listener is None:
            return None
        return self._last + self._interval

    def due(self, now: float, *, force: bool = False) -> bool:
        """Whether to send a snapshot now; if so, it counts as sent."""
        if not force and (not self.dirty or now - self._last < self._interval):
            return False
        self.dirty = False
        self._last = now
        return True

    def publish(
        self,
        now: float,
        lock: threading.Condition,
        snapshot: Callable[[], CrawlStats],
        *,
        force: bool = False,
    ) -> None:
        """Hand the listener a snapshot (taken under `lock`) if one is due."""
        if self.listener is None:
            return
        with lock:
            if not self.due(now, force=force):
                return
            stats = snapshot()
        try:
            self.listener(stats)
        except Exception:  # progress is for show: a broken listener must not end the crawl
            log.exception("progress listener failed")
