"""Shared pieces of the UI tests: a seeded moto org, a gated client, app factories, waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from orgtree_tui.aws import READ_ONLY_OPERATIONS, OrgClient
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.demo import GroundTruth, OrgSpec, build_org, read_truth
from orgtree_tui.quotas import Quota
from orgtree_tui.source import Source
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.launch import make_app

FAST = {op: Quota(10_000, 10_000) for op in READ_ONLY_OPERATIONS}
TODAY = date(2025, 3, 14)
SIZE = (120, 36)
# ~30 accounts in three levels of OUs, with tags, SCPs, a suspended account, odd names.
SPEC = OrgSpec(
    accounts=30, ous=9, depth=3, scps=3, suspended=1, wide_parent_accounts=0, fancy_names=True
)
MARKUP_NAME = "[red]x[/red]"
DONE = ("complete", "incomplete", "failed", "cancelled")


@dataclass
class SampleOrg:
    client: Any  # boto3 Organizations client on moto
    truth: GroundTruth

    def ou(self, name: str) -> str:
        return next(i for i, n in self.truth.nodes.items() if n.name == name)


def build_test_org(client: Any) -> SampleOrg:
    truth = build_org(client, SPEC)
    # A name that would be markup if anyone ever rendered names as markup.
    security = next(i for i, n in truth.nodes.items() if n.name == "Security")
    created = client.create_account(Email="markup@example.com", AccountName=MARKUP_NAME)
    account_id = created["CreateAccountStatus"]["AccountId"]
    client.move_account(
        AccountId=account_id, SourceParentId=truth.root_id, DestinationParentId=security
    )
    return SampleOrg(client, read_truth(client))


class GatedClient:
    """An OrgClient whose calls matching `hold` wait until `release()`; optional delay."""

    def __init__(
        self,
        inner: OrgClient,
        hold: Callable[[str, dict[str, Any]], bool] = lambda op, params: False,
        delay: float = 0.0,
    ) -> None:
        self.inner = inner
        self.hold = hold
        self.delay = delay
        self.gate = threading.Event()
        self.calls: list[str] = []

    def release(self) -> None:
        self.gate.set()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        self.calls.append(operation)
        if self.hold(operation, params):
            self.gate.wait(60)  # released by the test (in a finally); a bound, not a speed
        if self.delay:
            time.sleep(self.delay)
        return self.inner.call(operation, **params)


class HeldParents(GatedClient):
    """An OrgClient that holds the listing of accounts under chosen parents, each until
    `release(parent_id)`: their accounts arrive when the test says so."""

    def __init__(self, inner: OrgClient, *parent_ids: str) -> None:
        super().__init__(inner)
        self.gates = {p: threading.Event() for p in parent_ids}

    def release(self, parent_id: str | None = None) -> None:
        for p, gate in self.gates.items():
            if parent_id is None or p == parent_id:
                gate.set()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        lists_accounts = operation == "ListAccountsForParent" or (
            operation == "ListChildren" and params.get("ChildType") == "ACCOUNT"
        )
        gate = self.gates.get(str(params.get("ParentId"))) if lists_accounts else None
        if gate is not None:
            gate.wait(60)
        return super().call(operation, **params)


class FrameClock:
    """The app's frame clock, moved by the test: drains and key pauses are decided on
    it, so a busy machine changes only how soon the app looks, never what it decides."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> bool:
        self.now += seconds
        return True


def app_for(
    client: Any,
    *,
    details: bool = True,
    workers: int = 8,
    connection: Connection | None = None,
    label: str = "moto (test)",
    **kwargs: Any,
) -> OrgTreeApp:
    """The real app on `client` (a boto3 client or anything with `call`), fast and frozen.
    `connection`: where the client goes (the header's identity lookup goes there too)."""
    org_client = OrgClient(client) if not hasattr(client, "call") else client
    source = Source(org_client, connection or Connection(), label)
    kwargs.setdefault("clock", lambda: 0.0)
    kwargs.setdefault("today", lambda: TODAY)
    options = CrawlOptions(quotas=FAST, details=details, workers=workers)
    return make_app(lambda: source, options, **kwargs)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app run until `condition()` holds. The timeout is a bound for a busy
    machine, not a speed: it only matters when something never happens."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            code = condition.__code__
            where = f"{Path(code.co_filename).name}:{code.co_firstlineno}"
            raise AssertionError(f"waited {timeout:g} s for the condition at {where}")
        await pilot.pause(0.02)


@contextmanager
def layouts_counted(screen: Screen[Any]) -> Iterator[list[int]]:
    """Count the screen's layouts while the block runs: `[n]`, read after it (or in it)."""
    count = [0]
    real = screen._refresh_layout

    def counted(*args: Any, **kwargs: Any) -> None:
        count[0] += 1
        real(*args, **kwargs)

    screen._refresh_layout = counted  # type: ignore[method-assign]
    try:
        yield count
    finally:
        screen._refresh_layout = real  # type: ignore[method-assign]


async def crawled(pilot: Pilot[Any]) -> OrgTreeApp:
    app = pilot.app
    assert isinstance(app, OrgTreeApp)
    # The header's caller identity is looked up beside the crawl: wait for it too.
    await wait_for(
        pilot,
        lambda: (
            app.controller.state in DONE
            and all(s.crawler is None or s.caller_checked for s in app.controller.slots)
        ),
    )
    await pilot.pause()
    return app


def shown_children(app: OrgTreeApp, node_id: str) -> list[str]:
    tn = app.main.org_tree.widget_node(node_id)
    assert tn is not None, f"{node_id} is not in the tree widget"
    return [c.data for c in tn.children if c.data is not None]


def shown_ids(app: OrgTreeApp) -> set[str]:
    found: set[str] = set()
    stack = list(app.main.org_tree.root.children)
    while stack:
        tn = stack.pop()
        if tn.data is not None:
            found.add(tn.data)
        stack.extend(tn.children)
    return found
