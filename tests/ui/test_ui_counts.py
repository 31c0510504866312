"""The numbers on screen agree at every moment of a crawl: the root's count in the tree,
the total in the details and the accounts on the status line."""

from __future__ import annotations

import re

from test_ui_cache import LABEL, cache_home, first_crawl  # noqa: F401  (autouse: a cache dir)
from test_ui_tree import count_drains, held_accounts, looked_again
from ui_support import SIZE, FrameClock, HeldParents, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.aws import OrgClient
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.pacing import DRAIN_INTERVAL


def numbers(app: OrgTreeApp, root: str) -> tuple[int, int, int]:
    """(the root's line, the details' total, the status line's accounts), as drawn."""
    app.main.refresh_status()  # what the next status tick draws
    tn = app.main.org_tree.widget_node(root)
    assert tn is not None
    line = re.search(r"\((\d+)\)", str(tn.label))
    total = re.search(r"(\d+) in total", str(app.main.details.rendered))
    status = re.search(r"accounts (\d+)", app.main.status_bar.text.plain)
    assert line and total and status, (str(tn.label), app.main.status_bar.text.plain)
    return int(line[1]), int(total[1]), int(status[1])


async def test_the_root_the_details_and_the_status_line_count_alike(org: SampleOrg) -> None:
    prod = org.ou("Prod")
    late = held_accounts(org, prod)
    client = HeldParents(OrgClient(org.client), prod)
    frames = FrameClock()
    app = app_for(client, details=False, frame_clock=frames)
    seen = count_drains(app, frames)
    root = org.truth.root_id
    everything = org.truth.counts().accounts
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.details.node_id == root)
            # The frame clock stands still: after the first drain what the crawl finds
            # waits, while the model it writes into grows.
            await wait_for(pilot, lambda: len(app.main.model) == len(org.truth.nodes) - len(late))
            await looked_again(pilot, seen)
            assert len(seen.drawn) < len(app.main.model), "news should be waiting"
            line, total, status = numbers(app, root)
            assert line == total == status, (line, total, status)
            assert line < everything - len(late)  # the tree has not drawn it all yet
            frames.advance(DRAIN_INTERVAL * 2)  # a drain may run now
            await wait_for(pilot, lambda: len(seen.at) >= 2)
            # The root's line shows the counts it was drawn with: wait for the frame that
            # draws it again (a busy machine may not have painted after a single pause).
            await wait_for(pilot, lambda: numbers(app, root)[0] == everything - len(late))
            line, total, status = numbers(app, root)
            assert line == total == status == everything - len(late), (line, total, status)
            client.release()
            await crawled(pilot)
            assert numbers(app, root) == (everything, everything, everything)
    finally:
        client.release()


async def test_under_a_refresh_the_status_line_counts_the_tree_on_screen(
    org: SampleOrg,
) -> None:
    """A warm start: the cached tree is on screen while a refresh runs; the status line
    counted the refresh's tree (a few accounts) beside the root's full count."""
    await first_crawl(org)
    prod = org.ou("Prod")
    client = HeldParents(OrgClient(org.client), prod)
    app = app_for(client, cache_source=LABEL, details=False)
    root = org.truth.root_id
    everything = org.truth.counts().accounts
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.controller.state == "refreshing")
            await wait_for(pilot, lambda: app.main.details.node_id == root)
            slot = app.controller.slots[0]
            assert slot.crawler is not None
            crawler = slot.crawler
            await wait_for(pilot, lambda: len(crawler.tree) > 1)  # the refresh has begun
            assert numbers(app, root) == (everything, everything, everything)
    finally:
        client.release()
