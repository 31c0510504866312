"""Snapshots of the screens on a fixed org (seeded moto ids, frozen clock, fixed size).

Regenerate after an intended change with `pytest tests/ui --snapshot-update` and look at the
SVGs in tests/ui/__snapshots__ before committing them.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from ui_support import SIZE, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.connection import ConnectionSettingsError
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.launch import make_app


def still_app(client: Any) -> OrgTreeApp:
    # Selecting a node mid-crawl may queue an extra urgent call, which would make the
    # API call count in the status bar depend on timing.
    return app_for(client, details_delay=None)


def test_main_screen(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.main.org_tree.reveal(org.ou("Payments"))

    assert snap_compare(still_app(org.client), terminal_size=SIZE, run_before=run_before)


def test_details_with_tags(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.main.org_tree.reveal(org.ou("Security"))

    assert snap_compare(still_app(org.client), terminal_size=SIZE, run_before=run_before)


def test_filter(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await crawled(pilot)

    app = still_app(org.client)
    app.main.filter.delay = None  # every key filtered at once: the snapshot shows "prod"'s matches
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["slash", *"prod"])


def test_export_dialog(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await crawled(pilot)
        app.main.org_tree.reveal(org.ou("Security"))

    app = still_app(org.client)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["x"])


def test_help(org: SampleOrg, snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await crawled(pilot)

    app = still_app(org.client)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before, press=["question_mark"])


def test_error_screen(snap_compare: Any) -> None:
    def open_source() -> Any:
        # What a mistyped profile looks like. An org-less account shows the same screen (see
        # test_ui_lifecycle), but its status bar counts calls raced by the workers.
        raise ConnectionSettingsError(
            "unknown AWS profile 'prod-admin': see `aws configure list-profiles`"
        )

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: bool(pilot.app.screen.query("#error-message")))

    app = make_app(open_source, clock=lambda: 0.0, details_delay=None)
    assert isinstance(app, OrgTreeApp)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
