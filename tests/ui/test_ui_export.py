"""The export dialog writes exactly what the CLI's export module renders."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, Input
from ui_support import SIZE, SPEC, TODAY, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.demo import build_org
from orgtree_tui.export import default_filename, render
from orgtree_tui.identity import open_session
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault
from orgtree_tui.ui import workers
from orgtree_tui.ui.screens.confirm import ConfirmScreen
from orgtree_tui.ui.screens.export_dialog import ExportDialog


def notes(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


async def test_export_from_the_dialog_matches_the_cli(org: SampleOrg, tmp_path: Path) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        workloads = org.ou("Workloads")
        app.main.org_tree.reveal(workloads)
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        path_input = dialog.query_one(Input)
        assert path_input.value == "./" + default_filename(app.main.model, workloads, "json", TODAY)
        title = str(dialog.query_one("#export-title").render())
        await pilot.click("#format-csv")
        assert dialog.format == "csv"
        assert path_input.value == "./workloads-2025-03-14.csv"  # follows the format
        target = tmp_path / "workloads.csv"
        path_input.value = str(target)
        await pilot.click("#export")
        await wait_for(pilot, lambda: target.exists() and any("Wrote" in n for n in notes(app)))
        expected = render(app.main.model, workloads, "csv", complete=True)
        assert target.read_bytes() == expected.encode("utf-8")
        counts = app.main.model.counts(workloads)
        note = next(n for n in notes(app) if "Wrote" in n)
        assert f"Wrote {counts.ous + 1} OUs and {counts.accounts} accounts to" in note
        assert str(target) in note
        # The dialog said beforehand what the notification counts afterwards.
        assert f"{counts.ous + 1} OUs, {counts.accounts} accounts" in title

        # The next export suggests the same format, in the same directory.
        await pilot.press("x")
        again = app.screen
        assert isinstance(again, ExportDialog) and again.format == "csv"
        expected_path = tmp_path / default_filename(app.main.model, workloads, "csv", TODAY)
        assert again.query_one(Input).value == str(expected_path)


async def test_overwrite_needs_confirmation(org: SampleOrg, tmp_path: Path) -> None:
    target = tmp_path / "org.json"
    target.write_text("keep me")
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        for answer in ("n", "y"):
            await pilot.press("x")
            app.screen.query_one(Input).value = str(target)
            await pilot.press("enter")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(answer)
            await pilot.pause()
        await wait_for(pilot, lambda: target.read_text() != "keep me")
        root = org.truth.root_id
        assert target.read_text() == render(app.main.model, root, "json", complete=True)


async def test_export_errors_are_shown_not_raised(org: SampleOrg, tmp_path: Path) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("x")
        dialog = app.screen
        dialog.query_one(Input).value = str(tmp_path / "missing" / "org.json")
        await pilot.press("enter")
        assert app.screen is dialog  # stays open, saying why
        error = str(dialog.query_one("#export-error").render())
        assert "directory does not exist" in error
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportDialog)
        assert not list((tmp_path).iterdir())


async def test_arrows_pick_the_format_and_a_typed_name_follows_it(
    org: SampleOrg, tmp_path: Path
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        # Everything fits a 24-line terminal, the buttons too.
        export_button = dialog.query_one("#export")
        assert export_button.region.bottom <= 24 and export_button.region.height > 0
        path_input = dialog.query_one(Input)
        path_input.value = str(tmp_path / "mine.json")
        await pilot.press("down")
        assert dialog.format == "csv" and path_input.value == str(tmp_path / "mine.csv")
        await pilot.press("up", "up")
        assert dialog.format == "graphml" and path_input.value == str(tmp_path / "mine.graphml")
        await pilot.press("escape")


async def test_a_failed_export_is_not_remembered(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("x")
        # /proc passes the dialog's checks (it exists) and refuses the file, even to root.
        app.screen.query_one(Input).value = "/proc/orgtree-export.json"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("orgtree-export" in n for n in notes(app)))
        assert not any("Wrote" in n for n in notes(app))
        await pilot.press("x")
        suggested = app.screen.query_one(Input).value
        assert suggested.startswith("./"), suggested


@pytest.mark.slow
async def test_an_export_of_a_finished_crawl_lacking_tags_says_so_not_unfinished(
    tmp_path: Path,
) -> None:
    """The crawl ran to its end with some tags refused: the file says which are missing,
    not that the crawl had not finished (what the TUI said before)."""
    with SimServer(latency=(0.0, 0.0), throttle=False, seed=11) as server:
        build_org(server.admin_client(), SPEC)
        conn = Connection(
            endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing"
        )
        refused = "AccessDeniedException"
        server.middleware.fault = lambda op: (
            Fault.error(refused) if op == "ListTagsForResource" else None
        )
        client = make_client(conn, session=open_session(conn))
        app = app_for(client, workers=2, connection=conn)
        async with app.run_test(size=SIZE) as pilot:
            await crawled(pilot)
            assert app.controller.state == "incomplete"
            await pilot.press("x")
            dialog = app.screen
            assert isinstance(dialog, ExportDialog)
            await pilot.click("#format-text")
            target = tmp_path / "org.txt"
            dialog.query_one(Input).value = str(target)
            await pilot.click("#export")
            await wait_for(pilot, lambda: any("Wrote" in n for n in notes(app)))
    text = target.read_text()
    assert "the crawl had not finished" not in text
    assert "tags of" in text and "not permitted" in text
    note = next(n for n in notes(app) if "Wrote" in n)
    assert "not permitted" in note


async def test_quitting_waits_for_an_export_being_written(
    org: SampleOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export cut off by quitting leaves a temp file: it is waited for like a cache save."""
    started, release = threading.Event(), threading.Event()
    real = workers.export_subtree

    def held(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)  # released by the test below; a bound, not a speed
        return real(*args, **kwargs)

    monkeypatch.setattr(workers, "export_subtree", held)
    target = tmp_path / "org.json"
    app = app_for(org.client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await crawled(pilot)
            await pilot.press("x")
            app.screen.query_one(Input).value = str(target)
            await pilot.press("enter")
            await wait_for(pilot, started.is_set)
            await pilot.press("q")
        assert not app.wait_for_writes(0.05), "the export is still being written"
    finally:
        release.set()
    assert app.wait_for_writes(10)
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["org.json"]  # no temp file left


async def test_typing_replaces_the_suggested_name(
    org: SampleOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_for(org.client)
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        path_input = dialog.query_one(Input)
        await pilot.press("down", "up")  # a format change keeps the suggestion a suggestion
        await pilot.press(*"mine.json")
        assert path_input.value == "mine.json"  # was "./root-2025-03-14.jsonmine.json"
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Wrote" in n for n in notes(app)))
        root = org.truth.root_id
        assert (tmp_path / "mine.json").read_text() == render(
            app.main.model, root, "json", complete=True
        )
        # Arrows leave the suggestion to be edited instead.
        await pilot.press("x")
        path_input = app.screen.query_one(Input)
        suggested = path_input.value
        await pilot.press("end", *"-v2")
        assert path_input.value == suggested + "-v2"
        await pilot.press("escape")


def _expected_by_filter(org: SampleOrg, text: str) -> set[str]:
    """The `/` filter's rule worked out from the ground truth and moto's own account list:
    name, id, email or a tag value contains the text (any case), plus the ancestors."""
    emails: dict[str, str] = {}
    for page in org.client.get_paginator("list_accounts").paginate():
        emails.update({a["Id"]: a["Email"] for a in page["Accounts"]})
    needle = text.casefold()
    matched = {
        i
        for i, n in org.truth.nodes.items()
        if any(
            needle in f.casefold()
            for f in (n.name, i, emails.get(i, ""), *org.truth.tags.get(i, {}).values())
        )
    }
    kept = set(matched)
    for node_id in matched:
        parent = org.truth.nodes[node_id].parent_id
        while parent is not None:
            kept.add(parent)
            parent = org.truth.nodes[parent].parent_id
    return kept


async def test_the_dialog_offers_what_the_filter_shows(org: SampleOrg, tmp_path: Path) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        await pilot.press("slash", *"prod", "enter")
        app.main.org_tree.reveal(org.truth.root_id)  # the export is of the cursor's subtree
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        export_button = dialog.query_one("#export")
        assert export_button.region.bottom <= 24 and export_button.region.height > 0
        # ... and nothing is scrolled out of the dialog (the buttons were, in a bordered box).
        assert dialog.query_one("#export-dialog").max_scroll_y == 0
        box = dialog.query_one("#export-filtered", Checkbox)
        assert box.value and "prod" in str(box.label)
        target = tmp_path / "shown.json"
        dialog.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists() and any("Wrote" in n for n in notes(app)))
        document = json.loads(target.read_text())
        assert _ids(document["tree"]) == _expected_by_filter(org, "prod")
        assert document["filter"]["match"] == "prod"
        assert any("filtered:" in n for n in notes(app))

        # Unticked: the whole subtree, as without a filter.
        await pilot.press("x")
        whole = tmp_path / "whole.json"
        app.screen.query_one(Input).value = str(whole)
        app.screen.query_one("#export-filtered", Checkbox).value = False
        await pilot.press("enter")
        await wait_for(pilot, whole.exists)
        assert "filter" not in json.loads(whole.read_text())
        assert _ids(json.loads(whole.read_text())["tree"]) == set(org.truth.nodes)


def _ids(node: dict[str, Any]) -> set[str]:
    return {node["id"]}.union(*(_ids(c) for c in node["children"]))
