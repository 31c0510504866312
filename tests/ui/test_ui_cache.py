"""Warm start from the cache, the background refresh and what it changed, resume after a stop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from textual.pilot import Pilot
from ui_support import SIZE, SPEC, GatedClient, SampleOrg, app_for, crawled, shown_ids, wait_for

from orgtree_tui.aws import OrgClient, make_client
from orgtree_tui.cache import store
from orgtree_tui.connection import Connection
from orgtree_tui.demo import build_org
from orgtree_tui.identity import open_session
from orgtree_tui.locations import CACHE_DIR_ENV
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.screens.error import ErrorScreen
from orgtree_tui.ui.widgets.details import LOADING, NOT_FETCHED

LABEL = "moto (test)"


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(home))
    yield home


def notes(app: OrgTreeApp) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


async def first_crawl(org: SampleOrg, *, details: bool = True) -> None:
    """Run the app once so the tree is cached, as a user's earlier session would.
    No details are asked for on selection: with `details=False`, the cursor on the root
    would otherwise fetch the root's tags, and whether they made it into the saved file
    depended on how fast the save ran (the test below flaked on it)."""
    app = app_for(org.client, cache_source=LABEL, details=details, details_delay=None)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await wait_for(pilot, lambda: store.cache_path(LABEL).exists())
        await pilot.press("q")


def change_the_org(org: SampleOrg) -> dict[str, str]:
    """Between two sessions: one account moved, one OU renamed, one added, one removed."""
    # A client of its own: the crawler's client refuses writes (read-only by construction).
    c = boto3.client("organizations", region_name="us-east-1")
    security, sandbox = org.ou("Security"), org.ou("Sandbox")
    moved = c.list_accounts_for_parent(ParentId=security)["Accounts"][0]["Id"]
    c.move_account(AccountId=moved, SourceParentId=security, DestinationParentId=sandbox)
    c.update_organizational_unit(OrganizationalUnitId=sandbox, Name="Playground")
    removed = next(
        i
        for i, n in sorted(org.truth.nodes.items())
        if n.type == "ACCOUNT" and i not in (moved, org.truth.management_account_id)
    )
    c.remove_account_from_organization(AccountId=removed)
    added = c.create_account(Email="new@example.com", AccountName="Newcomer")
    added_id = added["CreateAccountStatus"]["AccountId"]
    return {"moved": moved, "renamed": sandbox, "added": added_id, "removed": removed}


async def test_cached_tree_shows_at_once_and_the_refresh_marks_what_changed(
    org: SampleOrg,
) -> None:
    await first_crawl(org)
    changed = change_the_org(org)
    # Hold every call: whatever shows before release can only have come from the cache.
    client = GatedClient(OrgClient(org.client), hold=lambda op, params: True)
    app = app_for(client, cache_source=LABEL)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.controller.cache_shown_at is not None)
        assert app.controller.shown_cache is not None
        assert changed["removed"] in app.main.model
        assert org.truth.root_id in shown_ids(app)
        assert "cached" in str(app.sub_title) and "ago" in str(app.sub_title)
        await wait_for(pilot, lambda: app.controller.state == "refreshing")
        assert "refreshing" in app.main.status_bar.text.plain

        client.release()
        await crawled(pilot)

        assert app.controller.shown_cache is None
        assert changed["removed"] not in app.main.model
        tree = app.main.org_tree
        assert tree.change_of(changed["added"]) == "new"
        assert tree.change_of(changed["moved"]) == "moved"
        assert tree.change_of(changed["renamed"]) == "renamed"
        assert app.controller.last_changes is not None
        assert app.controller.last_changes.removed == (changed["removed"],)
        summary = "1 added, 1 removed, 1 moved, 1 renamed"
        assert any(summary in n for n in notes(app)), notes(app)
        # The mark is on screen, in the OU's label.
        assert tree.reveal(changed["renamed"])
        label = tree.widget_node(changed["renamed"])
        assert label is not None and "renamed" in str(label.label)
        await wait_for(pilot, lambda: store.load(LABEL).cached is not None)
    saved = store.load(LABEL).cached
    assert saved is not None and changed["added"] in saved.tree


async def test_a_corrupt_cache_is_ignored_with_a_warning_and_replaced(
    org: SampleOrg, cache_home: Path
) -> None:
    path = store.cache_path(LABEL, create=True)
    path.write_text('{"format_version": 1, "nodes": [[')
    app = app_for(org.client, cache_source=LABEL)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.controller.state == "complete"
        assert any("cache ignored" in n for n in notes(app)), notes(app)
        await wait_for(pilot, lambda: store.load(LABEL).cached is not None)


async def shown_from_the_cache_alone(
    pilot: Pilot[Any], app: OrgTreeApp, client: GatedClient
) -> None:
    """The cached tree is up, within its TTL: no call was made, none is on its way."""
    await wait_for(pilot, lambda: app.controller.cache_shown_at is not None)
    await pilot.pause(0.3)
    assert app.controller.state == "cached" and client.calls == []


async def test_a_fresh_complete_cache_within_the_ttl_is_not_crawled_until_r(
    org: SampleOrg,
) -> None:
    await first_crawl(org)
    client = GatedClient(OrgClient(org.client))
    app = app_for(client, cache_source=LABEL, cache_ttl=timedelta(hours=1))
    async with app.run_test(size=SIZE) as pilot:
        await shown_from_the_cache_alone(pilot, app, client)
        assert "cached" in app.main.status_bar.text.plain
        await pilot.press("r")
        await crawled(pilot)
        assert client.calls and app.controller.state == "complete"
        assert app.controller.last_changes is not None and app.controller.last_changes.is_empty


@pytest.mark.slow
async def test_expired_credentials_keep_the_tree_and_r_resumes() -> None:
    """On the simulated endpoint, which answers ExpiredTokenException on the wire."""
    with SimServer(latency=(0.0, 0.02), seed=11) as server:
        truth = build_org(server.admin_client(), SPEC)
        conn = Connection(
            endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing"
        )
        expired = {"on": False, "sent": 0}

        def hook(operation: str) -> Fault | None:
            expired["sent"] += 1
            if expired["sent"] == 8:
                expired["on"] = True
            if expired["on"]:
                return Fault.error("ExpiredTokenException", 400, "The security token expired")
            return None

        server.middleware.fault = hook
        app = app_for(
            make_client(conn, session=open_session(conn)), workers=2, details=False, connection=conn
        )
        async with app.run_test(size=SIZE) as pilot:
            await crawled(pilot)
            assert app.controller.state == "failed"
            await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))
            assert 0 < len(app.main.model) < len(truth.nodes)
            assert app.main.model.incomplete(), "branches not listed yet are flagged"
            assert "r resumes" in app.main.status_bar.text.plain
            await pilot.press("escape")
            flagged = set(app.main.model.incomplete())
            await pilot.press("g", "e")  # expand everything: every flagged branch is on screen
            for node_id in flagged:
                tn = app.main.org_tree.widget_node(node_id)
                assert tn is not None and "incomplete" in str(tn.label)

            expired["on"] = False  # the user ran `aws sso login`
            server.middleware.fault = None
            stopped = app.controller.crawler
            await pilot.press("r")
            await wait_for(pilot, lambda: app.controller.state == "complete", timeout=20)
            assert app.controller.crawler is stopped, "resumed, not crawled again from scratch"
            assert set(truth.nodes) == {n.id for n in app.main.model.nodes()}
            assert app.main.model.incomplete() == {}
            for node_id in flagged:
                tn = app.main.org_tree.widget_node(node_id)
                assert tn is not None and "incomplete" not in str(tn.label)


async def test_crawling_again_keeps_the_tree_on_screen_and_marks_what_changed(
    org: SampleOrg,
) -> None:
    client = GatedClient(OrgClient(org.client))
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        before = len(app.main.model)
        app.main.org_tree.reveal(org.ou("Security"))
        changed = change_the_org(org)
        client.hold = lambda op, params: True  # the new crawl waits: what shows is the old one
        await pilot.press("r")
        await wait_for(pilot, lambda: app.controller.state == "refreshing")
        assert len(app.main.model) == before and changed["removed"] in app.main.model
        assert org.ou("Security") in shown_ids(app)
        assert "crawled" in str(app.sub_title) and "ago" in str(app.sub_title)

        client.release()
        await wait_for(
            pilot, lambda: app.controller.state == "complete" and app.controller.shown_cache is None
        )
        assert changed["removed"] not in app.main.model
        assert app.main.org_tree.change_of(changed["added"]) == "new"
        assert app.main.org_tree.change_of(changed["moved"]) == "moved"
        assert any("1 added, 1 removed" in n for n in notes(app)), notes(app)


async def test_details_a_cached_tree_lacks_say_so_when_no_crawl_will_fetch_them(
    org: SampleOrg,
) -> None:
    await first_crawl(org, details=False)  # a --no-details crawl
    client = GatedClient(OrgClient(org.client))
    app = app_for(client, cache_source=LABEL, cache_ttl=timedelta(hours=1))
    async with app.run_test(size=SIZE) as pilot:
        await shown_from_the_cache_alone(pilot, app, client)
        # The pane is drawn a frame after the cursor lands: on a busy machine that frame
        # can come after the pause above (it said "Nothing selected." then).
        await wait_for(pilot, lambda: NOT_FETCHED in app.main.details.rendered.plain)
        text = app.main.details.rendered.plain
        assert LOADING not in text, text
        await pilot.press("r")  # a crawl: now they are on their way
        await crawled(pilot)
        await wait_for(pilot, lambda: "Owner" in app.main.details.rendered.plain)
