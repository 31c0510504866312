"""Regenerate screenshots/*.svg from the real app crawling the built-in demo organization.

    python scripts/screenshots.py            # writes screenshots/*.svg
    python scripts/screenshots.py policy details-policies   # only these (names without .svg)

The demo runs on a local simulated endpoint with realistic latency and throttling, so the
mid-crawl shot shows the tree and the status bar while the crawl is still going.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orgtree_tui.crawl.crawler import CrawlOptions  # noqa: E402
from orgtree_tui.source import open_demo  # noqa: E402
from orgtree_tui.ui.app import OrgTreeApp  # noqa: E402
from orgtree_tui.ui.launch import make_app  # noqa: E402
from orgtree_tui.ui.screens.policy import PolicyPicker, PolicyScreen  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
DONE = ("complete", "incomplete", "failed", "cancelled")


async def shoot(only: set[str]) -> list[Path]:
    """`only`: the shots to write (empty: every one); the others are still taken."""
    source = open_demo(workers=8)
    app = make_app(lambda: source, CrawlOptions())
    written: list[Path] = []

    def save(pilot_app: OrgTreeApp, name: str) -> None:
        if only and name not in only:
            return
        path = OUT / f"{name}.svg"
        pilot_app.save_screenshot(filename=path.name, path=str(OUT))
        written.append(path)

    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.model.totals().accounts >= 30, 30)
            await pilot.press("j", "j", "j", "l")  # open Sandbox while it fills in
            await pilot.pause(0.3)
            save(app, "main-mid-crawl")
            await until(pilot, lambda: app.controller.state in DONE, 120)
            await pilot.press("space", "k", "k", "k")
            workloads = next(n.id for n in app.main.model.nodes() if n.name == "Workloads")
            app.main.org_tree.reveal(workloads)
            await pilot.press("e")
            await pilot.pause(0.3)
            save(app, "main-complete")
            await pilot.press("slash", *"payments", "enter")
            await pilot.pause(0.3)
            save(app, "filter")
            await pilot.press("escape", "x")
            await pilot.pause(0.3)
            save(app, "export-dialog")
            await pilot.press("escape", "question_mark")
            await pilot.pause(0.3)
            save(app, "help")
            await pilot.press("escape")
            await policy_shots(app, pilot, save)
            await pilot.press("q")
    finally:
        source.close()
    return written


async def policy_shots(
    app: OrgTreeApp, pilot: Any, save: Callable[[OrgTreeApp, str], None]
) -> None:
    """An account two OUs down: its details scrolled to the policies it inherits, then the
    policy screen of one it inherits, its document loaded."""
    model = app.main.model
    payments = next(n.id for n in model.nodes() if n.name == "Payments")
    account = model.children(payments)[0].id
    app.main.org_tree.reveal(account)
    pane = app.main.details
    await until(
        pilot, lambda: pane.node_id == account and "inherited from" in pane.rendered.plain, 30
    )
    lines = pane.rendered.plain.splitlines()
    scps = next(i for i, line in enumerate(lines) if line.startswith("Service control"))
    pane.scroll_to(y=scps - 1, animate=False)
    await pilot.pause(0.3)
    save(app, "details-policies")
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, PolicyPicker), 10)
    picker = app.screen
    assert isinstance(picker, PolicyPicker)
    names = [p.name for _, p in picker.choices]
    await pilot.press(*["down"] * names.index("RegionRestriction"), "enter")
    await until(pilot, lambda: isinstance(app.screen, PolicyScreen), 10)
    screen = app.screen
    assert isinstance(screen, PolicyScreen)
    await until(pilot, lambda: screen.document is not None and screen.reach is not None, 30)
    await pilot.pause(0.3)
    save(app, "policy")
    await pilot.press("escape")


async def until(pilot: object, condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("the demo crawl took too long")
        await pilot.pause(0.1)  # type: ignore[attr-defined]


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for path in asyncio.run(shoot(set(sys.argv[1:]))):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
