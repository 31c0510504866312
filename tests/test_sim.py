"""The simulated endpoint: AWS's throttle on the wire, buckets, admin bypass, stats, faults."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from werkzeug.test import Client

from orgtree_tui.quotas import Quota
from orgtree_tui.sim import ADMIN_HEADER, Fault, SimServer, ThrottleMiddleware, throttle
from orgtree_tui.sim.throttle import TokenBucket

from sim_fixtures import NO_RETRY, raw_call, sim

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["sim"]  # the fixture, imported for pytest

TINY = Quota(1, 2)


def _ok_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1")])
    return [b"{}"]


def _post(client: Client, operation: str, admin: bool = False) -> Any:
    headers = {"X-Amz-Target": f"AWSOrganizationsV20161128.{operation}"}
    if admin:
        headers[ADMIN_HEADER] = "1"
    return client.post("/", headers=headers, data=b"{}")


# -- the bucket and the middleware alone (no moto, no sockets) ----------------------------------


def test_token_bucket_starts_full_and_refills_at_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(Quota(rate=2, burst=3), clock=lambda: now[0])
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.49
    assert not bucket.try_take()
    now[0] += 0.02  # a full token after 0.5 s at 2/s
    assert bucket.try_take()
    now[0] += 60
    assert sum(bucket.try_take() for _ in range(10)) == 3  # never above burst


def test_middleware_throttles_per_operation_by_default() -> None:
    middleware = ThrottleMiddleware(_ok_app, quotas={"ListRoots": TINY}, latency=(0, 0))
    client = Client(middleware)
    statuses = [_post(client, "ListRoots").status_code for _ in range(3)]
    assert statuses == [200, 200, 400]
    # ListRoots' empty bucket is its own: the documented DescribeOrganization burst is 2.
    assert [_post(client, "DescribeOrganization").status_code for _ in range(3)] == [200, 200, 400]


def test_middleware_passes_non_organizations_requests_untouched() -> None:
    middleware = ThrottleMiddleware(_ok_app, quotas={"ListRoots": Quota(0, 0)}, latency=(0, 0))
    assert Client(middleware).post("/moto-api/reset").status_code == 200
    assert middleware.stats().calls == {}


def test_throttle_false_counts_but_never_throttles() -> None:
    middleware = ThrottleMiddleware(_ok_app, quotas={"ListRoots": TINY}, throttle=False)
    middleware.latency = (0, 0)
    client = Client(middleware)
    assert all(_post(client, "ListRoots").status_code == 200 for _ in range(10))
    assert middleware.stats().calls == {"ListRoots": 10}
    assert middleware.stats().throttled == {}


def test_shared_rows_share_one_bucket_per_row() -> None:
    quotas = {"ListAccountsForParent": TINY, "ListOrganizationalUnitsForParent": TINY}
    shared = Client(ThrottleMiddleware(_ok_app, quotas, latency=(0, 0), shared_rows=True))
    separate = Client(ThrottleMiddleware(_ok_app, quotas, latency=(0, 0), shared_rows=False))
    for client in (shared, separate):
        assert _post(client, "ListAccountsForParent").status_code == 200
        assert _post(client, "ListAccountsForParent").status_code == 200
    assert _post(shared, "ListOrganizationalUnitsForParent").status_code == 400
    assert _post(separate, "ListOrganizationalUnitsForParent").status_code == 200
    # Operations on other rows keep their own buckets even when rows are shared.
    assert _post(shared, "ListChildren").status_code == 200


def test_shared_row_takes_an_override_given_for_any_of_its_operations() -> None:
    middleware = ThrottleMiddleware(
        _ok_app, {"ListParents": Quota(1, 1)}, latency=(0, 0), shared_rows=True
    )
    assert middleware.bucket_for("ListAccountsForParent").quota == Quota(1, 1)
    assert middleware.bucket_for("ListChildren").quota == Quota(6, 10)


def _signed(client: Client, operation: str, access_key: str, organization: str = "") -> int:
    headers = {
        "X-Amz-Target": f"AWSOrganizationsV20161128.{operation}",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20261201/us-east-1/x",
    }
    if organization:
        headers["X-Moto-Account-Id"] = organization
    status: int = client.post("/", headers=headers, data=b"{}").status_code
    return status


def test_two_callers_of_one_organization_meet_its_bucket_on_top_of_their_own() -> None:
    # AWS's table: ListRoots 1/s burst 2 per account, burst 3 per organization. The clock is
    # frozen, so nothing refills: the bursts alone decide.
    middleware = ThrottleMiddleware(_ok_app, latency=(0, 0), clock=lambda: 50.0)
    client = Client(middleware)
    assert [_signed(client, "ListRoots", "KEY-A") for _ in range(3)] == [200, 200, 400]
    # B's own bucket is full, but the organization has one token left of its 3.
    assert [_signed(client, "ListRoots", "KEY-B") for _ in range(2)] == [200, 400]
    # Another organization (moto's account header) has buckets of its own.
    assert _signed(client, "ListRoots", "KEY-B", organization="222222222222") == 200
    # A throttle by the organization's bucket took nothing from B's own.
    assert middleware.bucket_for("ListRoots", "KEY-B")._tokens == 0.0


def test_per_organization_bucket_follows_overrides_and_shared_rows() -> None:
    frozen = ThrottleMiddleware(
        _ok_app,
        {"ListChildren": Quota(0.001, 5)},
        latency=(0, 0),
        organization_quotas={"ListChildren": Quota(0.001, 1)},
        clock=lambda: 50.0,
    )
    client = Client(frozen)
    assert [_signed(client, "ListChildren", "KEY-A") for _ in range(2)] == [200, 400]
    # An account override alone leaves no per-organization bucket for that operation.
    assert (
        ThrottleMiddleware(_ok_app, {"ListRoots": TINY}).organization_bucket_for("ListRoots")
        is None
    )
    shared = ThrottleMiddleware(_ok_app, shared_rows=True)
    parents = shared.organization_bucket_for("ListParents", "o")
    assert parents is shared.organization_bucket_for("ListOrganizationalUnitsForParent", "o")
    assert parents is not None and parents.quota == Quota(6, 10)
    separate = ThrottleMiddleware(_ok_app)
    assert separate.organization_bucket_for("ListParents") is not (
        separate.organization_bucket_for("ListAccountsForParent")
    )


def test_reset_buckets_refills() -> None:
    middleware = ThrottleMiddleware(_ok_app, {"ListRoots": Quota(0.001, 1)}, latency=(0, 0))
    client = Client(middleware)
    assert [_post(client, "ListRoots").status_code for _ in range(2)] == [200, 400]
    middleware.reset_buckets()
    assert _post(client, "ListRoots").status_code == 200


def test_admin_requests_bypass_throttle_and_stats() -> None:
    middleware = ThrottleMiddleware(_ok_app, {"ListRoots": Quota(0.001, 1)}, latency=(0, 0))
    client = Client(middleware)
    assert all(_post(client, "ListRoots", admin=True).status_code == 200 for _ in range(5))
    assert middleware.stats().calls == {}
    assert _post(client, "ListRoots").status_code == 200  # the bucket was untouched


def test_stats_count_calls_throttles_and_order() -> None:
    middleware = ThrottleMiddleware(_ok_app, {"ListRoots": Quota(0.001, 1)}, latency=(0, 0))
    client = Client(middleware)
    for op in ("ListRoots", "ListChildren", "ListRoots", "ListRoots"):
        _post(client, op)
    stats = middleware.stats()
    assert stats.calls == {"ListRoots": 3, "ListChildren": 1}
    assert stats.throttled == {"ListRoots": 2}
    assert stats.log == ("ListRoots", "ListChildren", "ListRoots", "ListRoots")
    assert (stats.total_calls, stats.total_throttled, stats.max_in_flight) == (4, 2, 1)
    stats.calls["ListRoots"] = 99  # a snapshot: changing it changes nothing
    assert middleware.stats().calls["ListRoots"] == 3
    middleware.reset_stats()
    assert middleware.stats().total_calls == 0
    assert middleware.stats().log == ()


def test_bucket_is_thread_safe_under_concurrent_requests() -> None:
    middleware = ThrottleMiddleware(_ok_app, {"ListRoots": Quota(0.001, 5)}, latency=(0, 0))
    results: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        client = Client(middleware)
        for _ in range(10):
            status = _post(client, "ListRoots").status_code
            with lock:
                results.append(status)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 5
    assert middleware.stats().calls == {"ListRoots": 80}
    assert middleware.stats().throttled == {"ListRoots": 75}


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the middleware sleeps, recorded instead of slept (durations measured on a
    busy machine made these tests flaky): the sim's `time` seen through a stand-in."""
    events: list[object] = []
    stand_in = SimpleNamespace(sleep=events.append, monotonic=time.monotonic)
    monkeypatch.setattr(throttle, "time", stand_in)
    return events


def test_latency_is_drawn_in_range_and_split_around_the_call(sleeps: list[object]) -> None:
    def recording_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        sleeps.append("call")
        return _ok_app(environ, start_response)

    middleware = ThrottleMiddleware(recording_app, latency=(0.2, 0.2), seed=3)
    client = Client(middleware)
    _post(client, "ListRoots")
    assert sleeps == [0.1, "call", 0.1]  # half before, half after
    sleeps.clear()
    middleware.latency = (0.1, 0.3)
    for _ in range(20):
        _post(client, "ListRoots")
    halves = [s for s in sleeps if s != "call"]
    assert len(halves) == 40 and all(0.05 <= h <= 0.15 for h in halves)  # type: ignore[operator]
    assert halves[0::2] == halves[1::2]  # the two halves of one call's latency
    sleeps.clear()
    _post(client, "ListRoots", admin=True)
    assert sleeps == ["call"]  # no latency for the admin


def test_fault_delay_only_slows_the_request(sleeps: list[object]) -> None:
    middleware = ThrottleMiddleware(_ok_app, latency=(0, 0))
    middleware.fault = lambda op: Fault.delay(0.2) if op == "ListRoots" else None
    client = Client(middleware)
    assert _post(client, "ListRoots").status_code == 200
    assert [s for s in sleeps if s] == [0.2]
    assert middleware.stats().faulted == {}


# -- over HTTP with moto and botocore ----------------------------------------------------------


def test_throttle_answers_like_aws_on_the_wire(sim: SimServer) -> None:
    sim.middleware.quotas = {"ListRoots": TINY}
    sim.middleware.reset_buckets()
    assert raw_call(sim.endpoint_url, "ListRoots").status == 200
    assert raw_call(sim.endpoint_url, "ListRoots").status == 200
    throttled = raw_call(sim.endpoint_url, "ListRoots")
    assert throttled.status == 400
    assert throttled.headers["Content-Type"] == "application/x-amz-json-1.1"
    assert throttled.json() == {"__type": "TooManyRequestsException", "Message": "Rate exceeded"}


def test_botocore_raises_too_many_requests(sim: SimServer) -> None:
    sim.middleware.quotas = {"ListRoots": TINY}
    sim.middleware.reset_buckets()
    client = sim.client(NO_RETRY)
    client.list_roots()
    client.list_roots()
    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.list_roots()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"] == "Rate exceeded"
    assert sim.middleware.stats().throttled == {"ListRoots": 1}


def test_admin_client_bypasses_over_http(sim: SimServer, sleeps: list[object]) -> None:
    sim.middleware.quotas = {"ListRoots": Quota(0.001, 1)}
    sim.middleware.latency = (0.3, 0.3)
    sim.middleware.reset_buckets()
    admin = sim.admin_client()
    for _ in range(5):
        admin.list_roots()  # never throttled, never slowed
    assert sim.middleware.stats().total_calls == 0 and sleeps == []
    sim.client(NO_RETRY).list_roots()
    assert sleeps == [0.15, 0.15]


def test_stats_count_real_client_calls(sim: SimServer) -> None:
    client = sim.client(NO_RETRY)
    root_id = client.list_roots()["Roots"][0]["Id"]
    client.list_children(ParentId=root_id, ChildType="ACCOUNT")
    client.list_tags_for_resource(ResourceId=root_id)
    stats = sim.middleware.stats()
    assert stats.log == ("ListRoots", "ListChildren", "ListTagsForResource")
    assert stats.calls == {"ListRoots": 1, "ListChildren": 1, "ListTagsForResource": 1}


def test_fault_hook_injects_503_and_access_denied(sim: SimServer) -> None:
    def faults(operation: str) -> Fault | None:
        if operation == "ListRoots":
            return Fault.error("ServiceUnavailableException", 503, "try later")
        if operation == "ListTagsForResource":
            return Fault.error("AccessDeniedException", 400, "no tags for you")
        return None

    sim.middleware.fault = faults
    client = sim.client(NO_RETRY)
    with pytest.raises(ClientError) as unavailable:
        client.list_roots()
    assert unavailable.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert unavailable.value.response["Error"]["Code"] == "ServiceUnavailableException"
    with pytest.raises(client.exceptions.AccessDeniedException) as denied:
        client.list_tags_for_resource(ResourceId="r-abcd")
    assert denied.value.response["Error"]["Message"] == "no tags for you"
    client.describe_organization()  # untouched operations still reach moto
    assert sim.middleware.stats().faulted == {"ListRoots": 1, "ListTagsForResource": 1}


def test_server_state_is_fresh_and_only_one_runs() -> None:
    with SimServer(latency=(0, 0)) as first:
        first.admin_client().create_organization(FeatureSet="ALL")
        with pytest.raises(RuntimeError, match="another SimServer"):
            SimServer(latency=(0, 0)).start()
    with SimServer(latency=(0, 0)) as second:
        client = second.client(NO_RETRY)
        with pytest.raises(client.exceptions.AWSOrganizationsNotInUseException):
            client.describe_organization()
        url = second.endpoint_url
    assert not second.running
    with pytest.raises(RuntimeError):
        _ = second.endpoint_url
    with pytest.raises(OSError):
        raw_call(url, "ListRoots")


def test_seeded_servers_hand_out_the_same_ids() -> None:
    ids = []
    for _ in range(2):
        with SimServer(latency=(0, 0), seed=42) as server:
            org = server.admin_client().create_organization(FeatureSet="ALL")["Organization"]
            ids.append(org["Id"])
    assert ids[0] == ids[1]


def test_missing_moto_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "moto.moto_server.werkzeug_app", None)
    with pytest.raises(RuntimeError, match=r"pip install 'orgtree-tui\[demo\]'"):
        SimServer()


def test_clients_of_a_stopped_server_fail_to_connect() -> None:
    server = SimServer(latency=(0, 0)).start()
    try:
        server.admin_client().create_organization(FeatureSet="ALL")
        client = server.client(Config(retries={"total_max_attempts": 1}, connect_timeout=1))
        client.list_roots()
    finally:
        server.stop()
    with pytest.raises(EndpointConnectionError):
        client.list_roots()


def test_two_profiles_on_one_organization_meet_its_bucket_over_http(sim: SimServer) -> None:
    sim.middleware.quotas = {"ListRoots": Quota(0.001, 2)}
    sim.middleware.organization_quotas = {"ListRoots": Quota(0.001, 3)}
    sim.middleware.reset_buckets()
    first, second = sim.client(NO_RETRY, "KEY-FIRST"), sim.client(NO_RETRY, "KEY-SECOND")
    first.list_roots()
    first.list_roots()
    with pytest.raises(first.exceptions.TooManyRequestsException):
        first.list_roots()  # its own bucket
    second.list_roots()
    with pytest.raises(second.exceptions.TooManyRequestsException):
        second.list_roots()  # the organization's bucket, though its own has a token left
    assert sim.middleware.stats().throttled == {"ListRoots": 2}
