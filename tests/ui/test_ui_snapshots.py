"""Snapshots of the screens on a fixed org (seeded moto ids, frozen clock, fixed size).

Regenerate after an intended change with `pytest tests/ui --snapshot-update` and look at the
SVGs in tests/ui/__snapshots__ before committing them.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_support import SIZE, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.screens.error import ErrorScreen


def still_app(client: Any) -> OrgTreeApp:
    # Selecting a node mid-crawl may queue an extra urgent call, which would make the
    # API call count in the status bar depend on timing.
    return app_for(client, details_delay=None)


def test_main_screen(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.org_tree.reveal(org.ou("Payments"))

    assert snap_compare(still_app(org.client), terminal_size=SIZE, run_before=run_before)


def test_details_with_tags(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.org_tree.reveal(org.ou("Security"))

    assert snap_compare(still_app(org.client), terminal_size=SIZE, run_before=run_before)


def test_filter(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await crawled(pilot)

    app = still_app(org.client)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["slash", *"prod"])


def test_export_dialog(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.org_tree.reveal(org.ou("Security"))

    app = still_app(org.client)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["x"])


def test_help(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await crawled(pilot)

    app = still_app(org.client)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["question_mark"])


def test_error_screen(bare_account: Any, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorScreen))

    # One worker: the first call fails alone, so the status bar's call count is fixed.
    app = app_for(bare_account, details_delay=None, workers=1)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
