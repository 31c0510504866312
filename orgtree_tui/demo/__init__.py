"""Realistic organizations built in moto, with the ground truth to check a crawl against.

`plan_org` turns an OrgSpec into a deterministic plan (no AWS); `build_org` plays it through
any Organizations client; `start_demo` does that against a local SimServer. moto is imported
only when a server starts, so `import orgtree_tui.demo` works without it.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from orgtree_tui.demo.build import build_org, read_truth
from orgtree_tui.demo.plan import OrgPlan, plan_org
from orgtree_tui.demo.spec import (
    EMAIL_DOMAIN,
    FULL_ACCESS_POLICY_ID,
    MAX_DEPTH,
    SCP,
    NodeKind,
    OrgSpec,
    demo_spec,
    large_spec,
    seed_spec,
)
from orgtree_tui.demo.truth import Comparison, GroundTruth, TruthNode

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_organizations import OrganizationsClient

    from orgtree_tui.quotas import Quota
    from orgtree_tui.sim.server import SimServer
    from orgtree_tui.sim.throttle import ThrottleMiddleware

__all__ = [
    "EMAIL_DOMAIN",
    "FULL_ACCESS_POLICY_ID",
    "MAX_DEPTH",
    "SCP",
    "Comparison",
    "DemoHandle",
    "GroundTruth",
    "NodeKind",
    "OrgPlan",
    "OrgSpec",
    "TruthNode",
    "build_org",
    "demo_spec",
    "large_spec",
    "plan_org",
    "read_truth",
    "seed_spec",
    "start_demo",
]


class DemoHandle:
    """A running simulated endpoint holding a built organization."""

    def __init__(self, server: SimServer, truth: GroundTruth, build_seconds: float) -> None:
        self.server = server
        self.truth = truth
        self.build_seconds = build_seconds

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def middleware(self) -> ThrottleMiddleware:
        return self.server.middleware

    def client(self, config: Config | None = None) -> OrganizationsClient:
        return self.server.client(config)

    def admin_client(self, config: Config | None = None) -> OrganizationsClient:
        """Unthrottled and uncounted: for changing the org under a running crawl."""
        return self.server.admin_client(config)

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> DemoHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo(
    spec: OrgSpec | None = None,
    latency: tuple[float, float] = (0.1, 0.2),
    throttle: bool = True,
    *,
    quotas: dict[str, Quota] | None = None,
    shared_rows: bool = False,
) -> DemoHandle:
    """Start a SimServer on 127.0.0.1 and build `spec` (the demo org by default) in it."""
    from orgtree_tui.sim.server import SimServer

    spec = spec or demo_spec()
    server = SimServer(
        quotas=quotas, latency=latency, shared_rows=shared_rows, seed=spec.seed, throttle=throttle
    )
    server.start()
    try:
        started = time.perf_counter()
        truth = build_org(server.admin_client(), spec)
        elapsed = time.perf_counter() - started
    except BaseException:
        server.stop()
        raise
    server.middleware.reset_stats()
    return DemoHandle(server, truth, elapsed)
