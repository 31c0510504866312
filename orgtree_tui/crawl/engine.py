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

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from enum import Enum
from typing import Any

from orgtree_tui.aws_errors import ErrorKind, classify, error_code
from orgtree_tui.crawl.queues import TaskQueues
from orgtree_tui.crawl.ratelimit import RateLimiter
from orgtree_tui.crawl.stats import Counters, CrawlStats, ProgressPacer
from orgtree_tui.crawl.task import FATAL_KINDS, CallError, Client, Task, release, retry_delay

DEFAULT_WORKERS = 8
DEFAULT_DEADLINE = 300.0  # seconds a throttled call keeps being retried
CANCEL_GRACE = 0.8  # how long `run` waits for in-flight calls after a cancel

log = logging.getLogger(__name__)

# How the loop waits for its next event: `cond.wait(timeout)` by default; a test passes one
# that moves a fake clock forward instead of sleeping.
Wait = Callable[[threading.Condition, float | None], object]


def _wait(cond: threading.Condition, timeout: float | None) -> object:
    return cond.wait(timeout)


class LoopState(Enum):
    RUNNING = "running"
    RESUMING = "resuming"  # claimed by a thread that is about to run it again
    FINISHED = "finished"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


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
        self._progress = ProgressPacer(on_progress, progress_interval)
        self._clock = clock
        self._wait = wait
        self._cond = threading.Condition()
        # Every keyed task ever submitted, which is how repeats are refused.
        self._keys: dict[Hashable, Task] = {}
        self._tasks = TaskQueues(self._keys)
        self._done: deque[tuple[Task, dict[str, Any] | None, BaseException | None]] = deque()
        self._in_flight: dict[Future[Any], Task] = {}
        self._counters = Counters()
        self._queued = 0
        self._started: float | None = None
        self._ended: float | None = None
        self._abort_error: CallError | None = None
        self._random = random.Random()
        # Whether the cancel event was set when the loop last stopped: only that cancel is
        # answered by `resume()`; one that arrives after the stop must still win.
        self._stopped_cancelled = False
        # Called before each call and each batch of results: the UI makes it wait while a
        # key is being drawn (the GIL is the UI thread's then); None: never wait.
        self.yield_to: Callable[[], None] | None = None
        # Tasks still on the wire when the last run stopped: a refusal they bring back
        # predates the resume (the user logged in again meanwhile), so they go out again.
        self._stale: set[int] = set()
        self.state = LoopState.RUNNING

    # -- called from any thread ---------------------------------------------------------

    def submit(self, task: Task) -> bool:
        """Queue a task. A task whose key is already queued only raises that task's priority.

        Returns False when the key was already queued, running or done.
        """
        with self._cond:
            added = self._tasks.add(task)
            if added is None:
                return False  # a repeat, as urgent as the task it repeats: nothing to do
            if added:
                self._queued += 1
                self._progress.dirty = True
            self._cond.notify()
            return added

    def has_work(self) -> bool:
        with self._cond:
            return bool(self._queued or self._in_flight or self._done)

    def forget(self, key: Hashable) -> None:
        """Let a finished task's key be submitted again (a chain whose later page failed)."""
        with self._cond:
            known = self._keys.get(key)
            if known is not None and known.state == "done":
                del self._keys[key]

    def unfinished(self) -> list[Task]:
        """Every task queued, waiting for a retry, in flight or not yet handled."""
        with self._cond:
            found = {id(task): task for task in self._tasks.waiting()}
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
                if exc is not None and classify(exc) in FATAL_KINDS:
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
                self._stale = {id(task) for task in self._in_flight.values()}
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
            if finished and self.yield_to is not None:
                self.yield_to()
            for task, response, exc in finished:
                self._complete(task, response, exc)
            with self._cond:
                if self._abort_error is not None:
                    self.state = LoopState.ABORTED
                    return
                if self.cancel_event.is_set():
                    continue
                self._tasks.promote_due(self._clock())
                self._dispatch(executor)
                if not self._queued and not self._in_flight and not self._done:
                    self.state = LoopState.FINISHED
                    return
                if not self._done:
                    self._wait(self._cond, self._next_wakeup())
            self._publish_progress()

    def _dispatch(self, executor: ThreadPoolExecutor) -> None:
        while len(self._in_flight) < self.workers:
            ready: list[tuple[int, int, int, str, Task]] = []
            for operation in self._tasks.operations():
                head = self._tasks.head(operation)
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
            self._progress.dirty = True

    def _next_wakeup(self) -> float | None:
        waits: list[float] = []
        due = self._tasks.next_due()
        if due is not None:
            waits.append(due - self._clock())
        if len(self._in_flight) < self.workers:
            for operation in self._tasks.operations():
                if self._tasks.head(operation) is not None:
                    waits.append(self.limiter.delay(operation))
        due = self._progress.next_due()
        if due is not None:
            waits.append(due - self._clock())
        if not waits:
            return None
        return max(0.001, min(waits))

    # -- worker side --------------------------------------------------------------------

    def _execute(self, task: Task) -> tuple[Task, dict[str, Any] | None, BaseException | None]:
        if self.yield_to is not None:
            self.yield_to()
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
        self._tasks.push(task)

    # -- results, on the loop thread ----------------------------------------------------

    def _complete(
        self, task: Task, response: dict[str, Any] | None, exc: BaseException | None
    ) -> None:
        stale, fatal = id(task) in self._stale, exc is not None and classify(exc) in FATAL_KINDS
        self._stale.discard(id(task))
        if (exc is None and response is None) or (stale and fatal):
            with self._cond:
                self._requeue(task)  # skipped as the loop was cancelled, or sent before a resume
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
            release(task)
            return
        kind = classify(exc)
        if kind is ErrorKind.DENIED and len(task.choices) > 1:
            # Refused, but another call does the same job: go on with that one.
            with self._cond:
                self._tasks.refused.add(task.operation)
                task.drop(task.operation)
                self._requeue(task)
                self._progress.dirty = True
            return
        if kind is ErrorKind.THROTTLED:
            with self._cond:
                throttled = self._counters.throttled
                throttled[task.operation] = throttled.get(task.operation, 0) + 1
            self.limiter.on_throttle(task.operation, task.last_sent)
        wait = retry_delay(task, kind)
        if wait is not None:
            self._retry_or_fail(task, exc, kind, backoff=wait)
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
            self._tasks.delay(task, now + delay)
            self._progress.dirty = True

    def _finish(self, task: Task) -> None:
        with self._cond:
            task.state = "done"
            self._counters.done += 1
            self._progress.dirty = True

    def _fail(self, task: Task, exc: BaseException, kind: ErrorKind) -> None:
        error = CallError(task.operation, dict(task.params), error_code(exc), str(exc), kind, exc)
        with self._cond:
            self._counters.failed += 1
        fatal = task.fatal or kind in FATAL_KINDS
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
        return self._counters.snapshot(
            queued=self._queued,
            in_flight=len(self._in_flight),
            workers=self.workers,
            elapsed=elapsed,
            rates=self.limiter.rates(),
        )

    def _publish_progress(self, force: bool = False) -> None:
        self._progress.publish(self._clock(), self._cond, self._snapshot, force=force)
