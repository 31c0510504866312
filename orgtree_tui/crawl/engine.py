"""The bounded executor task loop.

One thread (the caller of `run`) owns the loop: it keeps a priority queue per API operation,
hands a task to the ThreadPoolExecutor only when that operation's token bucket has a token and
a worker slot is free, and handles every finished future itself. Task callbacks (which publish
on pubsub topics and queue follow-up tasks) therefore all run on this one thread.

The loop is event-driven: it sleeps on a condition variable until a future finishes, a task is
submitted, the loop is cancelled, or the next token or retry falls due. It ends by itself when
nothing is queued, waiting or in flight.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from orgtree_tui.aws_errors import ErrorKind, classify, error_code
from orgtree_tui.crawl.ratelimit import RateLimiter
from orgtree_tui.crawl.stats import CrawlStats

# Lower runs first. Structure before details; what the user asks for jumps the queue.
URGENT = 0
STRUCTURE = 10
POLICIES = 20
DETAILS = 30

DEFAULT_WORKERS = 8
DEFAULT_DEADLINE = 300.0  # seconds a throttled call keeps being retried
MAX_TRANSIENT_ATTEMPTS = 8
CANCEL_GRACE = 0.8  # how long `run` waits for in-flight calls after a cancel
# Failures that stop the whole crawl: nothing else would work either.
_FATAL_KINDS = (ErrorKind.CREDENTIALS, ErrorKind.NOT_IN_ORGANIZATION)

log = logging.getLogger(__name__)

# How the loop waits for its next event: `cond.wait(timeout)` by default; a test passes one
# that moves a fake clock forward instead of sleeping.
Wait = Callable[[threading.Condition, float | None], object]


def _wait(cond: threading.Condition, timeout: float | None) -> object:
    return cond.wait(timeout)


class Client(Protocol):
    def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class CallError:
    """A call that failed for good."""

    operation: str
    params: dict[str, Any]
    code: str
    message: str
    kind: ErrorKind
    exception: BaseException | None = None


@dataclass(eq=False)
class Task:
    operation: str
    params: dict[str, Any]
    priority: int
    on_result: Callable[[dict[str, Any]], None]
    on_error: Callable[[CallError], None] = lambda error: None
    key: Hashable | None = None
    fatal: bool = False  # a failure ends the whole crawl (nothing to show without it)
    transient_attempts: int = MAX_TRANSIENT_ATTEMPTS
    # Other calls that do the same job from other token buckets: the loop sends whichever
    # has a token first, and `operation`/`params` then say which one went out.
    alternatives: tuple[tuple[str, dict[str, Any]], ...] = ()
    choices: tuple[tuple[str, dict[str, Any]], ...] = field(init=False, repr=False)
    attempts: int = 0
    first_sent: float | None = None
    last_sent: float = 0.0
    seq: int = 0
    state: str = "new"  # new -> queued -> running -> (queued ->)* done

    def __post_init__(self) -> None:
        self.choices = ((self.operation, self.params), *self.alternatives)

    def use(self, operation: str) -> None:
        self.operation, self.params = next(c for c in self.choices if c[0] == operation)

    def rank(self, operation: str) -> int:
        return next(i for i, c in enumerate(self.choices) if c[0] == operation)

    def offers(self, operation: str) -> bool:
        return any(c[0] == operation for c in self.choices)

    def drop(self, operation: str) -> None:
        """Stop offering this call (it was refused); another choice goes out instead."""
        self.choices = tuple(c for c in self.choices if c[0] != operation)
        self.operation, self.params = self.choices[0]


class LoopState(Enum):
    RUNNING = "running"
    RESUMING = "resuming"  # claimed by a thread that is about to run it again
    FINISHED = "finished"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


@dataclass
class _Counters:
    done: int = 0
    retries: int = 0
    failed: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)


class TaskLoop:
    def __init__(
        self,
        client: Client,
        *,
        workers: int = DEFAULT_WORKERS,
        limiter: RateLimiter | None = None,
        deadline: float = DEFAULT_DEADLINE,
        cancel_event: threading.Event | None = None,
        on_progress: Callable[[CrawlStats], None] | None = None,
        progress_interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        wait: Wait = _wait,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.client = client
        self.workers = workers
        self.limiter = limiter or RateLimiter()
        self.deadline = deadline
        self.cancel_event = cancel_event or threading.Event()
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._clock = clock
        self._wait = wait
        self._cond = threading.Condition()
        self._queues: dict[str, list[tuple[int, int, Task]]] = {}
        self._delayed: list[tuple[float, int, Task]] = []
        self._keys: dict[Hashable, Task] = {}
        self._done: deque[tuple[Task, dict[str, Any] | None, BaseException | None]] = deque()
        self._in_flight: dict[Future[Any], Task] = {}
        self._seq = itertools.count()
        self._counters = _Counters()
        self._queued = 0
        self._started: float | None = None
        self._ended: float | None = None
        self._abort_error: CallError | None = None
        self._last_progress = 0.0
        self._dirty = True
        self._random = random.Random()
        # Calls refused (AccessDenied) for a task that had another way: later tasks skip them.
        self._refused: set[str] = set()
        # Whether the cancel event was set when the loop last stopped: only that cancel is
        # answered by `resume()`; one that arrives after the stop must still win.
        self._stopped_cancelled = False
        self.state = LoopState.RUNNING

    # -- called from any thread ---------------------------------------------------------

    def submit(self, task: Task) -> bool:
        """Queue a task. A task whose key is already queued only raises that task's priority.

        Returns False when the key was already queued, running or done.
        """
        with self._cond:
            if task.key is not None:
                known = self._keys.get(task.key)
                if known is not None:
                    if known.state in ("queued", "waiting") and task.priority < known.priority:
                        # A task waiting out a backoff keeps the raise for when it is due.
                        known.priority = task.priority
                        if known.state == "queued":
                            self._push(known)
                        self._cond.notify()
                    return False
                self._keys[task.key] = task
            task.seq = next(self._seq)
            self._queued += 1
            self._push(task)
            self._dirty = True
            self._cond.notify()
            return True

    def has_work(self) -> bool:
        with self._cond:
            return bool(self._queued or self._in_flight or self._done)

    def is_known(self, key: Hashable) -> bool:
        with self._cond:
            return key in self._keys

    def forget(self, key: Hashable) -> None:
        """Let a finished task's key be submitted again (a chain whose later page failed)."""
        with self._cond:
            known = self._keys.get(key)
            if known is not None and known.state == "done":
                del self._keys[key]

    def unfinished(self) -> list[Task]:
        """Every task queued, waiting for a retry, in flight or not yet handled."""
        with self._cond:
            found: dict[int, Task] = {}
            for queue in self._queues.values():
                for _, _, task in queue:
                    if task.state == "queued":
                        found[id(task)] = task
            for _, _, task in self._delayed:
                found[id(task)] = task
            for task in [*self._in_flight.values(), *(t for t, _, _ in self._done)]:
                found[id(task)] = task
            return list(found.values())

    def resume(self) -> LoopState:
        """Run again after a cancel or an abort, with every task that was left unfinished.

        Clears the cancel only if it is the one that stopped the loop: a cancel that came
        after the stop (say, between Crawler claiming RESUMING and this call) still wins,
        and the run ends CANCELLED before sending anything."""
        with self._cond:
            if self.state is LoopState.RUNNING:
                raise RuntimeError("the loop is running")
            if self._stopped_cancelled:
                self.cancel_event.clear()  # the cancel that stopped the loop: answered now
            self._stopped_cancelled = False
            self._abort_error = None
            # Calls that came back refused while we were stopping get another chance now.
            kept: deque[tuple[Task, dict[str, Any] | None, BaseException | None]] = deque()
            for task, response, exc in self._done:
                if exc is not None and classify(exc) in _FATAL_KINDS:
                    self._requeue(task)
                else:
                    kept.append((task, response, exc))
            self._done = kept
            self._ended = None
            self.state = LoopState.RUNNING
        return self.run()

    def cancel(self) -> None:
        with self._cond:
            self.cancel_event.set()
            self._cond.notify()

    def stats(self) -> CrawlStats:
        with self._cond:
            return self._snapshot()

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> LoopState:
        """Run until no work is left, the loop is cancelled, or a fatal call failed."""
        self._started = self._clock()
        executor = ThreadPoolExecutor(self.workers, thread_name_prefix="orgtree-crawl")
        try:
            self._loop(executor)
        finally:
            with self._cond:
                pending = list(self._in_flight)
            executor.shutdown(wait=False, cancel_futures=True)
            if pending:
                # Calls already on the wire cannot be interrupted; give them a moment so no
                # thread outlives the loop, but never hold a cancel past the grace period.
                wait_futures(pending, timeout=CANCEL_GRACE)
            self._ended = self._clock()
            with self._cond:
                self._stopped_cancelled = self.cancel_event.is_set()
            self._publish_progress(force=True)
        return self.state

    def _loop(self, executor: ThreadPoolExecutor) -> None:
        while True:
            with self._cond:
                if self.cancel_event.is_set():
                    self.state = LoopState.CANCELLED
                    return
                finished = list(self._done)
                self._done.clear()
            for task, response, exc in finished:
                self._complete(task, response, exc)
            with self._cond:
                if self._abort_error is not None:
                    self.state = LoopState.ABORTED
                    return
                if self.cancel_event.is_set():
                    continue
                self._promote_due()
                self._dispatch(executor)
                if not self._queued and not self._in_flight and not self._done:
                    self.state = LoopState.FINISHED
                    return
                if not self._done:
                    self._wait(self._cond, self._next_wakeup())
            self._publish_progress()

    def _push(self, task: Task) -> None:
        if len(task.choices) > 1 and self._refused:
            kept = tuple(c for c in task.choices if c[0] not in self._refused)
            if kept and len(kept) < len(task.choices):
                task.choices = kept
                task.operation, task.params = kept[0]
        task.state = "queued"
        entry = (task.priority, task.seq, task)
        for operation, _ in task.choices:
            heapq.heappush(self._queues.setdefault(operation, []), entry)

    def _head(self, operation: str) -> Task | None:
        queue = self._queues.get(operation)
        while queue:
            priority, _, task = queue[0]
            if task.state == "queued" and priority == task.priority and task.offers(operation):
                return task
            heapq.heappop(queue)  # stale entry: reprioritised or already taken
        return None

    def _promote_due(self) -> None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, task = heapq.heappop(self._delayed)
            self._push(task)

    def _dispatch(self, executor: ThreadPoolExecutor) -> None:
        while len(self._in_flight) < self.workers:
            ready: list[tuple[int, int, int, str, Task]] = []
            for operation in list(self._queues):
                head = self._head(operation)
                if head is not None and self.limiter.delay(operation) == 0.0:
                    ready.append((head.priority, head.seq, head.rank(operation), operation, head))
            if not ready:
                return
            # Most urgent task first; for a task with alternatives, its preferred call.
            _, _, _, operation, best = min(ready, key=lambda c: c[:3])
            if not self.limiter.try_acquire(operation):
                return
            best.use(operation)
            best.state = "running"
            self._queued -= 1
            best.last_sent = self._clock()
            if best.first_sent is None:
                best.first_sent = best.last_sent
            calls = self._counters.calls
            calls[best.operation] = calls.get(best.operation, 0) + 1
            future = executor.submit(self._execute, best)
            self._in_flight[future] = best
            future.add_done_callback(self._future_done)
            self._dirty = True

    def _next_wakeup(self) -> float | None:
        waits: list[float] = []
        if self._delayed:
            waits.append(self._delayed[0][0] - self._clock())
        if len(self._in_flight) < self.workers:
            for operation in self._queues:
                if self._head(operation) is not None:
                    waits.append(self.limiter.delay(operation))
        if self._dirty and self._on_progress is not None:
            waits.append(self._last_progress + self._progress_interval - self._clock())
        if not waits:
            return None
        return max(0.001, min(waits))

    # -- worker side --------------------------------------------------------------------

    def _execute(self, task: Task) -> tuple[Task, dict[str, Any] | None, BaseException | None]:
        if self.cancel_event.is_set():
            return task, None, None
        try:
            return task, self.client.call(task.operation, **task.params), None
        except Exception as exc:  # every failure is judged on the loop thread
            return task, None, exc

    def _future_done(self, future: Future[Any]) -> None:
        with self._cond:
            task = self._in_flight.pop(future, None)
            if future.cancelled():
                if task is not None:
                    self._requeue(task)  # never started: keep it for a resume
            else:
                self._done.append(future.result())
            self._cond.notify()

    def _requeue(self, task: Task) -> None:
        self._queued += 1
        self._push(task)

    # -- results, on the loop thread ----------------------------------------------------

    def _complete(
        self, task: Task, response: dict[str, Any] | None, exc: BaseException | None
    ) -> None:
        if exc is None and response is None:
            with self._cond:
                self._requeue(task)  # skipped because the loop was cancelled
            return
        if exc is None:
            assert response is not None
            self.limiter.on_success(task.operation)
            self._finish(task)
            try:
                task.on_result(response)
            except Exception as handler_exc:  # a bug in a handler must not stop the crawl
                log.exception("result handler of %s failed", task.operation)
                self._fail(task, handler_exc, ErrorKind.OTHER)
                return  # not released: a fatal task is kept, whole, for `resume()`
            _release(task)
            return
        kind = classify(exc)
        if kind is ErrorKind.DENIED and len(task.choices) > 1:
            # Refused, but another call does the same job: go on with that one.
            with self._cond:
                self._refused.add(task.operation)
                task.drop(task.operation)
                self._requeue(task)
                self._dirty = True
            return
        if kind is ErrorKind.THROTTLED:
            with self._cond:
                throttled = self._counters.throttled
                throttled[task.operation] = throttled.get(task.operation, 0) + 1
            self.limiter.on_throttle(task.operation, task.last_sent)
            self._retry_or_fail(task, exc, kind, backoff=0.05 * 2 ** min(task.attempts, 5))
        elif kind is ErrorKind.TRANSIENT and task.attempts + 1 < task.transient_attempts:
            self._retry_or_fail(task, exc, kind, backoff=0.25 * 2 ** min(task.attempts, 4))
        else:
            self._finish(task)
            self._fail(task, exc, kind)

    def _retry_or_fail(
        self, task: Task, exc: BaseException, kind: ErrorKind, backoff: float
    ) -> None:
        now = self._clock()
        if task.first_sent is not None and now - task.first_sent > self.deadline:
            self._finish(task)
            self._fail(task, exc, kind)
            return
        task.attempts += 1
        delay = backoff * self._random.uniform(0.5, 1.0)
        with self._cond:
            self._counters.retries += 1
            self._queued += 1
            task.state = "waiting"
            heapq.heappush(self._delayed, (now + delay, task.seq, task))
            self._dirty = True

    def _finish(self, task: Task) -> None:
        with self._cond:
            task.state = "done"
            self._counters.done += 1
            self._dirty = True

    def _fail(self, task: Task, exc: BaseException, kind: ErrorKind) -> None:
        error = CallError(task.operation, dict(task.params), error_code(exc), str(exc), kind, exc)
        with self._cond:
            self._counters.failed += 1
        fatal = task.fatal or kind in _FATAL_KINDS
        if fatal:
            with self._cond:
                if self._abort_error is None:
                    self._abort_error = error
                # Kept so that `resume()` after a fresh login picks up right here.
                self._counters.done -= 1
                task.attempts = 0
                task.first_sent = None
                self._requeue(task)
            return
        with self._cond:
            # Failed for good: forget the key, so asking again (a node selected again)
            # sends the call again instead of being refused as a repeat.
            if task.key is not None and self._keys.get(task.key) is task:
                del self._keys[task.key]
        try:
            task.on_error(error)
        except Exception:  # the failure is already counted; a broken handler must not stop
            log.exception("error handler of %s failed", task.operation)

    @property
    def abort_error(self) -> CallError | None:
        return self._abort_error

    # -- progress -----------------------------------------------------------------------

    def _snapshot(self) -> CrawlStats:
        now = self._ended if self._ended is not None else self._clock()
        elapsed = now - self._started if self._started is not None else 0.0
        c = self._counters
        return CrawlStats(
            queued=self._queued,
            in_flight=len(self._in_flight),
            done=c.done,
            workers=self.workers,
            calls=dict(c.calls),
            throttled=dict(c.throttled),
            retries=c.retries,
            failed=c.failed,
            elapsed=elapsed,
            rates=self.limiter.rates(),
        )

    def _publish_progress(self, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = self._clock()
        with self._cond:
            if not force and (
                not self._dirty or now - self._last_progress < self._progress_interval
            ):
                return
            self._dirty = False
            self._last_progress = now
            snapshot = self._snapshot()
        try:
            self._on_progress(snapshot)
        except Exception:  # progress is for show: a broken listener must not end the crawl
            log.exception("progress listener failed")


def _ignore(_: object) -> None:
    return None


def _release(task: Task) -> None:
    # A finished task stays in the key index (that is how repeats are refused) but need not
    # keep its callbacks' closures, and what they hold, alive for the rest of the crawl.
    task.on_result = _ignore
    task.on_error = _ignore
    task.params = {}
    task.choices = ((task.operation, task.params),)
