"""The split between the tree and the details: the tree as wide as its lines, the details
pane focusable and scrolled from the keyboard, its lines drawn as folded (not folded twice)."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static
from ui_support import SampleOrg, app_for, crawled, wait_for

from orgtree_tui.records import NodeType
from orgtree_tui.ui.app import OrgTreeApp


def tree_lines(app: OrgTreeApp) -> list[str]:
    tree = app.main.org_tree
    return [tree.render_line(y).text.rstrip() for y in range(tree.size.height)]


def drawn_details(app: OrgTreeApp) -> list[str]:
    body = app.main.details.query_one("#details-body", Static)
    return [body.render_line(y).text.rstrip() for y in range(body.size.height)]


def folded_details(app: OrgTreeApp) -> list[str]:
    return [line.rstrip() for line in str(app.main.details.rendered).splitlines()]


async def test_the_tree_is_as_wide_as_its_lines_and_the_details_get_the_rest(
    org: SampleOrg,
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(120, 40)) as pilot:
        await crawled(pilot)
        account = max(
            (n for n in app.main.model.nodes() if n.type is NodeType.ACCOUNT and n.email),
            key=lambda n: len(n.email or ""),
        )
        app.main.org_tree.reveal(account.id)
        await wait_for(pilot, lambda: app.main.details.node_id == account.id)
        await pilot.pause()
        longest = max(cell_len(line) for line in tree_lines(app))
        tree, details = app.main.org_tree, app.main.details
        # Padding, border and scrollbar beside the longest line; never 3/5 of the row.
        assert tree.outer_size.width <= longest + 6, (tree.outer_size.width, longest)
        assert details.outer_size.width >= 120 - longest - 6
        # The longest email now fits on one line of the details.
        assert any(account.email in line for line in drawn_details(app))


async def test_the_details_pane_takes_the_focus_and_scrolls_from_the_keyboard(
    org: SampleOrg,
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(80, 16)) as pilot:
        await crawled(pilot)
        details = app.main.details
        await wait_for(pilot, lambda: details.node_id == org.truth.root_id)
        await pilot.pause()
        assert details.max_scroll_y >= 3  # 16 lines do not hold the root's details
        await pilot.press("tab")
        assert details.has_focus
        await pilot.press("j", "j", "down")
        assert details.scroll_y == 3
        await pilot.press("G")
        assert details.scroll_y == details.max_scroll_y
        await pilot.press("g")
        assert details.scroll_y == 0
        await pilot.press("shift+tab")
        assert app.main.org_tree.has_focus


async def test_details_that_grow_a_scrollbar_are_drawn_as_folded(org: SampleOrg) -> None:
    """Details folded while the pane had no scrollbar, then long enough to need one: the
    pane folded each long line once more (`ARN` alone on its line, at 80x24)."""
    app = app_for(org.client, details_delay=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        details = app.main.details
        short = min(
            (n for n in app.main.model.nodes() if n.type is NodeType.ACCOUNT),
            key=lambda n: (len(app.main.model.details(n.id).tags or {}), len(n.name), n.id),
        )
        for node_id in (short.id, org.truth.root_id):
            app.main.org_tree.reveal(node_id)
            await wait_for(pilot, lambda: details.node_id == node_id)  # noqa: B023
            await pilot.pause()
            drawn, folded = drawn_details(app), folded_details(app)
            assert drawn[: len(folded)] == folded, node_id
        assert details.max_scroll_y > 0, "the root's details should need a scrollbar here"


async def test_a_filter_or_a_collapse_does_not_narrow_the_tree_until_a_resize(
    org: SampleOrg,
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(120, 40)) as pilot:
        await crawled(pilot)
        tree = app.main.org_tree
        await pilot.press("e")  # everything open: the longest lines there are
        await wait_for(pilot, lambda: tree.outer_size.width > 40)
        wide = tree.outer_size.width
        await pilot.press("slash", *"Prod", "enter")  # fewer, shorter lines
        await wait_for(pilot, lambda: app.main.filter.text == "Prod")
        await pilot.press("c")
        await pilot.pause()
        assert max(cell_len(line) for line in tree_lines(app)) + 6 < wide  # room to narrow
        assert tree.outer_size.width == wide
        await pilot.resize_terminal(119, 40)  # a resize fits the tree to what it shows
        await wait_for(pilot, lambda: tree.outer_size.width < wide)
