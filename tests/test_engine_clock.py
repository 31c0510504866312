"""The task loop on a fake clock: handlers that raise, cancel and resume (and the race of a
cancel with a resume about to start), backoff and its deadline, alternative calls under
denial, and priority raises for tasks waiting out a backoff.

The calls go to moto in-process through a wrapper that injects the errors botocore raises
from AWS's answers (real `ClientError`s); time is a fake clock that moves only when the loop
waits, so no test depends on how fast the machine is.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from orgtree_tui.aws import OrgClient
from orgtree_tui.crawl import engine
from orgtree_tui.crawl.engine import LoopState, TaskLoop
from orgtree_tui.crawl.ratelimit import RateLimiter
from orgtree_tui.crawl.task import DETAILS, STRUCTURE, URGENT, CallError, Task
from orgtree_tui.quotas import Quota

from conftest import FAST
from orgs import OrgBuilder

REAL_WAIT_LIMIT = 10.0  # seconds a test waits for a worker thread before it gives up


class FakeTime:
    """A clock that moves forward by exactly what the loop asked to sleep, at once. When the
    loop waits with no timeout it waits for a worker's call to finish (bounded)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []
        self.on_wait: Callable[[], None] = lambda: None

    def __call__(self) -> float:
        return self.now

    def wait(self, cond: threading.Condition, timeout: float | None) -> object:
        self.on_wait()
        if timeout is None:
            return cond.wait(REAL_WAIT_LIMIT)
        self.waits.append(timeout)
        self.now += timeout
        return False


def error(code: str, operation: str, message: str = "") -> ClientError:
    status = 500 if code in ("InternalFailure", "ServiceUnavailable") else 400
    return ClientError(
        {
            "Error": {"Code": code, "Message": message or code},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class Faulty:
    """The real client, except for the calls `fault(operation, params, attempt)` answers
    with an error. Records (fake time, operation) of every call it is asked to make."""

    def __init__(self, inner: OrgClient, clock: FakeTime) -> None:
        self.inner = inner
        self.clock = clock
        self.fault: Callable[[str, dict[str, Any], int], ClientError | None] = (
            lambda op, params, n: None
        )
        self.calls: list[tuple[float, str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        with self.lock:
            attempt = sum(1 for _, op, p in self.calls if op == operation and p == params)
            self.calls.append((self.clock.now, operation, dict(params)))
        exc = self.fault(operation, params, attempt)
        if exc is not None:
            raise exc
        return self.inner.call(operation, **params)

    def operations(self) -> list[str]:
        with self.lock:
            return [op for _, op, _ in self.calls]


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(moto_client: Any, time_: FakeTime) -> Faulty:
    # A client of its own on the same moto backend: OrgClient's guard refuses the writes
    # that OrgBuilder makes through `moto_client`.
    return Faulty(OrgClient(boto3.client("organizations", region_name="us-east-1")), time_)


def make_loop(client: Faulty, time_: FakeTime, **kwargs: Any) -> TaskLoop:
    quotas = kwargs.pop("quotas", FAST)
    return TaskLoop(
        client,
        limiter=RateLimiter(quotas, clock=time_),
        clock=time_,
        wait=time_.wait,
        **kwargs,
    )


# -- a raising handler ------------------------------------------------------------------


def test_a_fatal_task_whose_handler_raised_is_resumed_with_its_callbacks(
    moto_client: Any, client: Faulty, time_: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    OrgBuilder(moto_client)
    loop = make_loop(client, time_, workers=2)
    roots: list[str] = []
    broken = {"page": True}

    def found(response: dict[str, Any]) -> None:
        if broken["page"]:
            raise KeyError("Id")  # what a malformed page does to the parser
        roots.extend(r["Id"] for r in response["Roots"])

    loop.submit(Task("ListRoots", {}, STRUCTURE, found, fatal=True))
    with caplog.at_level(logging.ERROR, logger="orgtree_tui.crawl.engine"):
        assert loop.run() is LoopState.ABORTED
    assert [r.getMessage() for r in caplog.records] == ["result handler of ListRoots failed"]
    assert loop.abort_error is not None and loop.abort_error.code == "KeyError"
    assert roots == []

    broken["page"] = False  # the endpoint recovered
    assert loop.resume() is LoopState.FINISHED
    assert len(roots) == 1 and roots[0].startswith("r-")
    # The same task went out again, with its parameters: twice ListRoots, nothing else.
    assert client.operations() == ["ListRoots", "ListRoots"]


def test_a_raising_error_handler_is_logged_and_the_loop_goes_on(
    moto_client: Any, client: Faulty, time_: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    OrgBuilder(moto_client)
    client.fault = lambda op, params, n: (
        error("InvalidInputException", op) if op == "ListTagsForResource" else None
    )
    loop = make_loop(client, time_, workers=1)
    answered: list[str] = []

    def broken(error: CallError) -> None:
        raise RuntimeError("bug in an error handler")

    loop.submit(Task("ListTagsForResource", {"ResourceId": "r-x"}, URGENT, answered.append, broken))
    loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: answered.append("roots")))
    with caplog.at_level(logging.ERROR, logger="orgtree_tui.crawl.engine"):
        assert loop.run() is LoopState.FINISHED
    assert answered == ["roots"]
    assert any("bug in an error handler" in r.exc_text for r in caplog.records if r.exc_text)


def test_a_raising_progress_listener_does_not_end_the_loop(
    moto_client: Any, client: Faulty, time_: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    OrgBuilder(moto_client)

    def broken(stats: object) -> None:
        raise RuntimeError("progress display broke")

    loop = make_loop(client, time_, workers=1, on_progress=broken)
    done: list[str] = []
    for _ in range(3):
        loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: done.append("roots")))
    with caplog.at_level(logging.ERROR, logger="orgtree_tui.crawl.engine"):
        assert loop.run() is LoopState.FINISHED
    assert done == ["roots"] * 3
    assert any("progress listener failed" in r.getMessage() for r in caplog.records)


# -- cancel and resume --------------------------------------------------------------------


def test_cancel_then_resume_sends_what_was_left(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    OrgBuilder(moto_client)
    loop = make_loop(client, time_, workers=1)
    done: list[int] = []

    def task(i: int) -> Task:
        def found(response: dict[str, Any]) -> None:
            done.append(i)
            if i == 1:
                loop.cancel()  # the user pressed cancel while call 1 was answered

        return Task("ListRoots", {}, STRUCTURE, found)

    for i in range(4):
        loop.submit(task(i))
    assert loop.run() is LoopState.CANCELLED
    assert done == [0, 1]
    assert loop.resume() is LoopState.FINISHED
    assert done == [0, 1, 2, 3]
    assert client.operations() == ["ListRoots"] * 4


def test_a_cancel_between_resuming_and_the_resumed_run_wins(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    OrgBuilder(moto_client)
    loop = make_loop(client, time_, workers=1)
    loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: None))
    assert loop.run() is LoopState.FINISHED
    sent = len(client.calls)

    # What Crawler.request_details does after the crawl ended: queue, claim, resume later.
    loop.submit(Task("ListRoots", {"NextToken": "late"}, URGENT, lambda r: None))
    loop.state = LoopState.RESUMING
    loop.cancel()  # the user quits right now, before the background resume runs
    assert loop.resume() is LoopState.CANCELLED
    assert len(client.calls) == sent  # nothing more went out


def test_a_refusal_that_comes_back_after_the_resume_started_is_sent_again(
    moto_client: Any, client: Faulty, time_: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A call still on the wire past the grace of the run that stopped (a loaded machine)
    # answered "expired" only once the resumed run was going: that answer is from before
    # the user logged in again, and once failed the resumed crawl (tests/test_crawl_trust.py
    # under load).
    OrgBuilder(moto_client)
    monkeypatch.setattr(engine, "CANCEL_GRACE", 0.0)
    release = threading.Event()
    logged_in = threading.Event()

    def fault(op: str, params: dict[str, Any], n: int) -> ClientError | None:
        if op == "DescribeOrganization" and n == 0:
            assert release.wait(REAL_WAIT_LIMIT), "the resumed run never asked for the roots"
            return error("ExpiredTokenException", op)  # sent before the login
        if op == "ListRoots" and not logged_in.is_set():
            return error("ExpiredTokenException", op)
        if op == "ListRoots":
            release.set()  # the resumed run is going: now the old call answers
        return None

    client.fault = fault
    loop = make_loop(client, time_, workers=2)
    described: list[dict[str, Any]] = []
    loop.submit(Task("DescribeOrganization", {}, URGENT, described.append))
    loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: None))
    assert loop.run() is LoopState.ABORTED  # the roots' refusal; the other still on the wire
    logged_in.set()
    assert loop.resume() is LoopState.FINISHED
    assert len(described) == 1 and "Organization" in described[0]
    assert client.operations().count("DescribeOrganization") == 2


def test_each_call_and_each_batch_of_results_first_yields_to_the_ui(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    OrgBuilder(moto_client)
    events: list[tuple[int, str]] = []
    lock = threading.Lock()

    def record(what: str) -> None:
        with lock:
            events.append((threading.get_ident(), what))

    real_call = client.call

    def call(operation: str, **params: Any) -> dict[str, Any]:
        record("call")
        return real_call(operation, **params)

    client.call = call  # type: ignore[method-assign]
    loop = make_loop(client, time_, workers=2)
    loop.yield_to = lambda: record("yield")
    answered: list[str] = []
    for _ in range(4):
        loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: answered.append("r")))
    assert loop.run() is LoopState.FINISHED
    assert len(answered) == 4
    calls = [i for i, (_, what) in enumerate(events) if what == "call"]
    assert len(calls) == 4
    for i in calls:  # the same worker thread yielded just before it called
        before = [what for ident, what in events[:i] if ident == events[i][0]]
        assert before and before[-1] == "yield"
    loop_thread = threading.get_ident()  # `run` ran the loop here
    assert "yield" in [what for ident, what in events if ident == loop_thread]


# -- backoff and its deadline ---------------------------------------------------------------


def test_throttles_back_off_exponentially_until_the_deadline(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    OrgBuilder(moto_client)
    client.fault = lambda op, params, n: error("TooManyRequestsException", op)
    loop = make_loop(client, time_, workers=1, deadline=30.0)
    failures: list[CallError] = []
    loop.submit(Task("ListRoots", {}, STRUCTURE, lambda r: None, failures.append))
    start = time_.now

    assert loop.run() is LoopState.FINISHED

    assert [f.code for f in failures] == ["TooManyRequestsException"]
    sent = [at for at, _, _ in client.calls]
    # Never given up before the deadline, and not long after it either.
    assert sent[-1] - start > 30.0
    assert sent[-2] - start <= 30.0
    # Attempt n waits 0.05 * 2**min(n, 5) s, jittered to between half and all of it.
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    for n, gap in enumerate(gaps):
        base = 0.05 * 2 ** min(n, 5)
        assert base * 0.5 - 1e-9 <= gap <= base + 0.01, (n, gap)
    assert loop.stats().retries == len(sent) - 1


def test_a_transient_error_is_retried_then_succeeds(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    OrgBuilder(moto_client)
    client.fault = lambda op, params, n: (
        error("ConcurrentModificationException", op) if n < 2 else None
    )
    loop = make_loop(client, time_, workers=1)
    found: list[str] = []
    loop.submit(
        Task("DescribeOrganization", {}, STRUCTURE, lambda r: found.append("org"), fatal=True)
    )
    assert loop.run() is LoopState.FINISHED
    assert found == ["org"]
    assert client.operations() == ["DescribeOrganization"] * 3


# -- alternatives under denial --------------------------------------------------------------


@pytest.mark.parametrize("refused", ["ListAccountsForParent", "ListChildren"])
def test_a_refused_alternative_is_dropped_and_the_other_call_does_the_job(
    moto_client: Any, client: Faulty, time_: FakeTime, refused: str
) -> None:
    org = OrgBuilder(moto_client)
    ou = org.ou("X")
    org.account("a", ou)
    client.fault = lambda op, params, n: (
        error("AccessDeniedException", op) if op == refused else None
    )
    # The refused call is the one with a token first, whichever it is.
    quotas = dict(FAST)
    other = "ListChildren" if refused == "ListAccountsForParent" else "ListAccountsForParent"
    quotas[other] = Quota(0.001, 1)
    loop = make_loop(client, time_, workers=1, quotas=quotas)
    answers: list[str] = []
    errors: list[CallError] = []

    def listing(parent: str) -> Task:
        task = Task(
            "ListAccountsForParent",
            {"ParentId": parent},
            STRUCTURE,
            lambda r: None,
            errors.append,
            alternatives=(("ListChildren", {"ParentId": parent, "ChildType": "ACCOUNT"}),),
        )
        task.on_result = lambda response: answers.append(task.operation)
        return task

    # Spend the other call's only token, so the refused one goes out first.
    spend = {"ParentId": ou, **({"ChildType": "ACCOUNT"} if other == "ListChildren" else {})}
    loop.submit(Task(other, spend, URGENT, lambda r: None))
    loop.submit(listing(ou))
    assert loop.run() is LoopState.FINISHED

    assert errors == []
    assert answers == [other]
    assert client.operations()[1:] == [refused, other]


def test_a_branch_fails_only_when_every_way_was_refused(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    org = OrgBuilder(moto_client)
    ou = org.ou("X")
    client.fault = lambda op, params, n: (
        error("AccessDeniedException", op)
        if op in ("ListAccountsForParent", "ListChildren")
        else None
    )
    loop = make_loop(client, time_, workers=1)
    errors: list[CallError] = []
    loop.submit(
        Task(
            "ListAccountsForParent",
            {"ParentId": ou},
            STRUCTURE,
            lambda r: None,
            errors.append,
            alternatives=(("ListChildren", {"ParentId": ou, "ChildType": "ACCOUNT"}),),
        )
    )
    assert loop.run() is LoopState.FINISHED
    assert [e.code for e in errors] == ["AccessDeniedException"]
    assert sorted(client.operations()) == ["ListAccountsForParent", "ListChildren"]


# -- priority raises for tasks waiting out a backoff ------------------------------------------


def test_a_priority_raise_reaches_a_task_waiting_out_a_backoff(
    moto_client: Any, client: Faulty, time_: FakeTime
) -> None:
    org = OrgBuilder(moto_client)
    ids = [org.account(f"a{i}") for i in range(4)]
    selected, others = ids[0], ids[1:]
    client.fault = lambda op, params, n: (
        error("TooManyRequestsException", op)
        if params.get("ResourceId") == selected and n == 0
        else None
    )
    # After a throttle the bucket refills in about a second, long after the backoff ended:
    # the selected node and the others then compete for the same token.
    quotas = dict(FAST)
    quotas["ListTagsForResource"] = Quota(1, 1)
    loop = make_loop(client, time_, workers=1, quotas=quotas)
    order: list[str] = []

    def tags(node: str, priority: int) -> Task:
        return Task(
            "ListTagsForResource",
            {"ResourceId": node},
            priority,
            lambda r: order.append(node),
            key=("tags", node),
        )

    loop.submit(tags(selected, DETAILS))
    raised = {"done": False}

    def select_while_waiting() -> None:
        task = loop._keys[("tags", selected)]
        if task.state == "waiting" and not raised["done"]:
            raised["done"] = True
            for node in others:
                loop.submit(tags(node, STRUCTURE))
            assert not loop.submit(tags(selected, URGENT))  # the user selects the node

    time_.on_wait = select_while_waiting
    assert loop.run() is LoopState.FINISHED
    assert raised["done"]
    assert order == [selected, *others]
