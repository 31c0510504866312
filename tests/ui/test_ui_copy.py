"""Copying: inside tmux without set-clipboard on (a real tmux server on a private socket),
a mouse selection and ctrl+c, and ARNs and links that never break inside an id."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from ui_support import SIZE, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.records import NodeType
from orgtree_tui.ui.widgets.details import fold

ARN = "arn:aws:organizations::123456789012:account/o-ujzde8gxd6/440262443808"
LINK = "https://us-east-1.console.aws.amazon.com/organizations/v2/home/accounts/440262443808"


def ids_kept_whole(value: str, lines: list[str]) -> bool:
    """Every part between `:`, `/` (and a host name's `.`) is on one line."""
    parts = [p for p in re.split(r"[:/.]+", value) if p]
    return all(any(p in line for line in lines) for p in parts)


@pytest.mark.parametrize("value", [ARN, LINK])
def test_an_arn_or_a_link_folds_between_ids_at_every_width(value: str) -> None:
    for width in range(16, len(value)):
        lines = fold(value, width)
        assert "".join(lines) == value
        assert ids_kept_whole(value, lines), (width, lines)


@pytest.fixture
def tmux_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmux server of the test's own, and TMUX pointing the app at it, as inside tmux."""
    if shutil.which("tmux") is None:
        pytest.skip("no tmux here")
    sock = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(sock), "new-session", "-d", "-s", "t"], check=True)
    try:
        subprocess.run(
            ["tmux", "-S", str(sock), "set", "-g", "set-clipboard", "external"], check=True
        )
        monkeypatch.setenv("TMUX", f"{sock},{os.getpid()},0")
        yield sock
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], check=False)


def tmux_buffer(sock: Path) -> str:
    done = subprocess.run(
        ["tmux", "-S", str(sock), "show-buffer"], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""


def note_lines(app: object) -> list[str]:
    box = app.main.copied.query_one("#copied-text", Static)  # type: ignore[attr-defined]
    return [box.render_line(y).text.strip(" ▌") for y in range(box.size.height)]


async def test_copy_inside_tmux_without_set_clipboard_says_how_and_fills_its_buffer(
    org: SampleOrg, tmux_server: Path
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        await wait_for(pilot, app.main.copied.clip.probed.is_set)
        account = next(n for n in app.main.model.nodes() if n.type is NodeType.ACCOUNT)
        app.main.org_tree.reveal(account.id)
        await pilot.press("Y")
        assert app.clipboard == account.arn
        said = app.main.copied.said[-1]
        assert "set-clipboard external" in said and "set -g set-clipboard on" in said
        await wait_for(pilot, lambda: tmux_buffer(tmux_server) == account.arn)
        await pilot.pause()
        lines = note_lines(app)
        assert ids_kept_whole(account.arn, lines), lines


async def test_copy_inside_tmux_with_set_clipboard_on_says_nothing_more(
    org: SampleOrg, tmux_server: Path
) -> None:
    subprocess.run(["tmux", "-S", str(tmux_server), "set", "-g", "set-clipboard", "on"], check=True)
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await wait_for(pilot, app.main.copied.clip.probed.is_set)
        await pilot.press("y")
        assert app.clipboard == org.truth.root_id
        assert app.main.copied.said == [f"Copied id {org.truth.root_id}"]


async def test_ctrl_c_copies_a_mouse_selection_and_quits_without_one(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        body = app.main.details.query_one("#details-body", Static)
        await wait_for(pilot, lambda: org.truth.root_id in str(app.main.details.rendered))
        body.text_select_all()  # what a drag over the pane selects
        await pilot.pause()
        await pilot.press("ctrl+c")
        assert app.is_running, "ctrl+c on a selection quit the app"
        assert org.truth.root_id in app.clipboard and "Service control policies" in app.clipboard
        assert app.main.copied.said[-1].startswith("Copied the selection")
        await pilot.press("ctrl+c")  # nothing selected now: quit
        await wait_for(pilot, lambda: not app.is_running)
    assert app.return_code == 0


async def test_the_copy_note_can_be_selected_and_copied_again(org: SampleOrg) -> None:
    """Where OSC 52 does not arrive, the note is where the text can be taken from by hand:
    a click does not close it, and a selection in it is what ctrl+c copies."""
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("Y")
        app.copy_to_clipboard("something else")
        box = app.main.copied.query_one("#copied-text", Static)
        await pilot.pause()
        await pilot.click(box)
        assert app.main.copied.display, "a click closed the note"
        box.text_select_all()
        await pilot.pause()
        await pilot.press("ctrl+c")
        root = app.main.model.get(org.truth.root_id)
        assert root is not None
        assert ids_kept_whole(root.arn, app.clipboard.splitlines())
        assert app.clipboard.startswith("Copied ARN")
