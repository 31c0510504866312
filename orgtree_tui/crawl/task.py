"""A task: one API page to fetch, what to do with the answer, and how urgent it is.

The engine's `TaskLoop` runs tasks; the planner, the account placer and the policy map
build them. A `NextToken` in an answer becomes a new task.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from orgtree_tui.aws_errors import ErrorKind

# Lower runs first. Structure before details; what the user asks for jumps the queue.
URGENT = 0
STRUCTURE = 10
POLICIES = 20
ON_SCREEN = 25  # details of the nodes the user can see, before those off screen
DETAILS = 30

MAX_TRANSIENT_ATTEMPTS = 8
# Failures that stop the whole crawl: nothing else would work either.
FATAL_KINDS = (ErrorKind.CREDENTIALS, ErrorKind.NOT_IN_ORGANIZATION)


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


def retry_delay(task: Task, kind: ErrorKind) -> float | None:
    """Seconds (before jitter) until a call that failed this way is sent again; None: it
    failed for good. Throttles are retried until the loop's deadline, the rest a few times."""
    if kind is ErrorKind.THROTTLED:
        return 0.05 * 2.0 ** min(task.attempts, 5)
    if kind is ErrorKind.TRANSIENT and task.attempts + 1 < task.transient_attempts:
        return 0.25 * 2.0 ** min(task.attempts, 4)
    return None


def _ignore(_: object) -> None:
    return None


def release(task: Task) -> None:
    # A finished task stays in the key index (that is how repeats are refused) but need not
    # keep its callbacks' closures, and what they hold, alive for the rest of the crawl.
    task.on_result = _ignore
    task.on_error = _ignore
    task.params = {}
    task.choices = ((task.operation, task.params),)
