"""A WSGI middleware that makes moto's server answer like AWS Organizations under load.

moto answers every request at once and never throttles; a crawler tuned against that learns
nothing. This wraps moto's app with per-operation token buckets (the documented quotas), a
network-like latency, and a hook for injecting faults, and records what it saw.

Buckets come in two kinds, as AWS documents them: one per calling account (the access key
that signed the request) and one per organization (moto's account header) that every caller
of that organization draws from. A request needs a token from both.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orgtree_tui.quotas import Quota, organization_quota_for, quota_for, row_of
from orgtree_tui.sim.wire import (
    ADMIN_ENVIRON_KEY,
    ADMIN_HEADER,
    MOTO_ACCOUNT_ENVIRON_KEY,
    TARGET_ENVIRON_KEY,
    aws_error,
    caller_of,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["ADMIN_HEADER", "Fault", "FaultHook", "SimStats", "ThrottleMiddleware", "TokenBucket"]


class TokenBucket:
    """Starts full at `burst`, refills continuously at `rate` tokens per second."""

    def __init__(self, quota: Quota, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota = quota
        self._clock = clock
        self._tokens = float(quota.burst)
        self._stamp = clock()

    def try_take(self) -> bool:
        return take_all((self,))

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(self.quota.burst), self._tokens + elapsed * self.quota.rate)
        self._stamp = now


# One lock for every bucket: taking from two buckets (account and organization) is atomic.
_take_lock = threading.Lock()


def take_all(buckets: Iterable[TokenBucket]) -> bool:
    """One token from every bucket, or from none of them if any is empty."""
    chosen = list(buckets)
    with _take_lock:
        for bucket in chosen:
            bucket._refill()
        if any(bucket._tokens < 1.0 for bucket in chosen):
            return False
        for bucket in chosen:
            bucket._tokens -= 1.0
        return True


@dataclass(frozen=True, slots=True)
class Fault:
    """What the fault hook wants done to one request.

    With `code` set the request never reaches moto: the client gets an AWS JSON error with
    that `__type` and `status`. With `code` None only `extra_delay` applies and the request
    goes through.
    """

    code: str | None = None
    status: int = 400
    message: str = ""
    extra_delay: float = 0.0
    drop: bool = False  # close the connection without answering

    @classmethod
    def error(cls, code: str, status: int = 400, message: str = "") -> Fault:
        return cls(code=code, status=status, message=message or code)

    @classmethod
    def dropped(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls(extra_delay=seconds)


FaultHook = Callable[[str], Fault | None]


@dataclass(frozen=True)
class SimStats:
    """A snapshot: requests per operation (throttled and faulted ones included)."""

    calls: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    faulted: dict[str, int] = field(default_factory=dict)
    log: tuple[str, ...] = ()
    max_in_flight: int = 0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_throttled(self) -> int:
        return sum(self.throttled.values())


class ThrottleMiddleware:
    """Wraps a WSGI app that speaks the Organizations JSON protocol (moto's server)."""

    def __init__(
        self,
        app: WSGIApplication,
        quotas: dict[str, Quota] | None = None,
        latency: tuple[float, float] = (0.1, 0.2),
        shared_rows: bool = False,
        seed: int | None = None,
        throttle: bool = True,
        organization_quotas: dict[str, Quota] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self._clock = clock  # the buckets' clock; tests freeze it
        # Per calling account; an operation overridden here has no per-organization bucket
        # unless `organization_quotas` names it too (a test that sets one knows its buckets).
        self.quotas = dict(quotas) if quotas else {}
        self.organization_quotas = dict(organization_quotas) if organization_quotas else {}
        self.latency = latency
        self.shared_rows = shared_rows
        self.throttle = throttle
        self.fault: FaultHook | None = None
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self._buckets_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()
        self._faulted: Counter[str] = Counter()
        self._log: list[str] = []
        self._in_flight = 0
        self._max_in_flight = 0

    # -- state --------------------------------------------------------------------------

    def _row(self, operation: str) -> tuple[str, ...]:
        return row_of(operation) if self.shared_rows else (operation,)

    def bucket_for(self, operation: str, caller: str = "") -> TokenBucket:
        """The per-account bucket `operation` draws from when `caller` sends it."""
        key = self._row(operation)
        return self._bucket(("account", caller, *key), self._quota_for_key(key))

    def organization_bucket_for(self, operation: str, organization: str = "") -> TokenBucket | None:
        """The bucket every caller of `organization` shares; None where none is modelled."""
        key = self._row(operation)
        quota = self._organization_quota_for_key(key)
        if quota is None:
            return None
        return self._bucket(("organization", organization, *key), quota)

    def _bucket(self, key: tuple[str, ...], quota: Quota) -> TokenBucket:
        with self._buckets_lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(quota, self._clock)
                self._buckets[key] = bucket
            return bucket

    def _quota_for_key(self, key: tuple[str, ...]) -> Quota:
        # An override for any operation of a shared row sets the whole row's bucket.
        for op in key:
            if op in self.quotas:
                return self.quotas[op]
        return quota_for(key[0], self.quotas)

    def _organization_quota_for_key(self, key: tuple[str, ...]) -> Quota | None:
        for op in key:
            if op in self.organization_quotas:
                return self.organization_quotas[op]
        if any(op in self.quotas for op in key):
            return None
        return organization_quota_for(key[0])

    def _admit(self, operation: str, environ: WSGIEnvironment) -> bool:
        buckets = [self.bucket_for(operation, caller_of(environ))]
        organization = self.organization_bucket_for(
            operation, str(environ.get(MOTO_ACCOUNT_ENVIRON_KEY) or "")
        )
        if organization is not None:
            buckets.append(organization)
        return take_all(buckets)

    def reset_buckets(self) -> None:
        """Refill every bucket, e.g. after building an org through the admin path."""
        with self._buckets_lock:
            self._buckets.clear()

    def stats(self) -> SimStats:
        with self._stats_lock:
            return SimStats(
                calls=dict(self._calls),
                throttled=dict(self._throttled),
                faulted=dict(self._faulted),
                log=tuple(self._log),
                max_in_flight=self._max_in_flight,
            )

    def reset_stats(self) -> None:
        with self._stats_lock:
            self._calls.clear()
            self._throttled.clear()
            self._faulted.clear()
            self._log.clear()
            self._max_in_flight = self._in_flight

    # -- WSGI ---------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        target = environ.get(TARGET_ENVIRON_KEY)
        if not target or environ.get(ADMIN_ENVIRON_KEY) == "1":
            return self.app(environ, start_response)
        operation = str(target).rpartition(".")[2]
        with self._stats_lock:
            self._calls[operation] += 1
            self._log.append(operation)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return self._handle(operation, environ, start_response)
        finally:
            with self._stats_lock:
                self._in_flight -= 1

    def _handle(
        self, operation: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        delay = self._draw_latency()
        time.sleep(delay / 2)
        if self.throttle and not self._admit(operation, environ):
            with self._stats_lock:
                self._throttled[operation] += 1
            time.sleep(delay / 2)
            return aws_error(start_response, 400, "TooManyRequestsException", "Rate exceeded")
        fault = self.fault(operation) if self.fault is not None else None
        if fault is not None:
            time.sleep(fault.extra_delay)
            if fault.drop:
                with self._stats_lock:
                    self._faulted[operation] += 1
                return _drop(environ, start_response)
            if fault.code is not None:
                with self._stats_lock:
                    self._faulted[operation] += 1
                time.sleep(delay / 2)
                return aws_error(start_response, fault.status, fault.code, fault.message)
        # Drain moto's iterable here so the second half of the latency covers the response.
        body = b"".join(self.app(environ, start_response))
        time.sleep(delay / 2)
        return [body]

    def _draw_latency(self) -> float:
        low, high = self.latency
        if high <= 0:
            return 0.0
        with self._random_lock:
            return self._random.uniform(low, high)


def _drop(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    # Shut the socket under werkzeug's feet: the client sees the connection close with no
    # response, and werkzeug treats its failed write as a dropped connection, quietly.
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return [b""]
