"""The screen asks the crawl for the details of the nodes on it (issue 12 item 7); that the
crawl then sends them first is tests/test_on_screen.py's."""

from __future__ import annotations

import pytest
from ui_support import SIZE, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.ui import on_screen


def shown_at_start(org: SampleOrg) -> list[str]:
    """Root open, its children below it: OUs by name, then accounts by name."""
    nodes = org.truth.nodes
    children = [n for n in nodes.values() if n.parent_id == org.truth.root_id]
    children.sort(key=lambda n: (n.type != "ORGANIZATIONAL_UNIT", n.name.casefold(), n.id))
    return [org.truth.root_id, *(n.id for n in children)]


async def test_the_nodes_on_screen_are_asked_for(
    org: SampleOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[list[str]] = []
    monkeypatch.setattr(Crawler, "prioritise_on_screen", lambda self, ids: asked.append(ids))
    monkeypatch.setattr(on_screen, "INTERVAL", 0.05)
    app = app_for(org.client, details_delay=None)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        expected = shown_at_start(org)
        await wait_for(pilot, lambda: bool(asked) and asked[-1] == expected)
        before = len(asked)
        await pilot.pause(0.2)
        assert len(asked) == before  # nothing moved: nothing asked again

        await pilot.press("j", "l")  # open the first OU: its children come on screen
        await wait_for(pilot, lambda: len(asked) > before)
        first_ou = expected[1]
        under = {n.id for n in org.truth.nodes.values() if n.parent_id == first_ou}
        assert under & set(asked[-1])
