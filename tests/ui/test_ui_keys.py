"""Every key of the issue, pressed on a crawled organization."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from ui_support import (
    SIZE,
    GatedClient,
    SampleOrg,
    app_for,
    crawled,
    shown_children,
    shown_ids,
    wait_for,
)

from orgtree_tui.aws import OrgClient
from orgtree_tui.records import NodeType
from orgtree_tui.source import DEMO_LABEL
from orgtree_tui.ui import app as app_module
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.keys import APP_BINDINGS, MAIN_BINDINGS
from orgtree_tui.ui.screens.help import HelpScreen
from orgtree_tui.ui.widgets.details import fold, render_details
from orgtree_tui.ui.widgets.org_tree import OrgTreeView


def expanded(app: OrgTreeApp, node_id: str) -> bool:
    tn = app.main.org_tree.widget_node(node_id)
    return tn is not None and tn.is_expanded


async def test_navigation_keys(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        tree, root = app.main.org_tree, org.truth.root_id
        kids = app.main.model.child_ids(root)
        first_ou = kids[0]
        assert tree.cursor_id == root and expanded(app, root)
        await pilot.press("j")
        assert tree.cursor_id == kids[0]
        await pilot.press("down")
        assert tree.cursor_id == kids[1]
        await pilot.press("k")
        assert tree.cursor_id == kids[0]
        await pilot.press("up")
        assert tree.cursor_id == root

        await pilot.press("j", "l")  # l expands ...
        assert expanded(app, first_ou)
        await pilot.press("l")  # ... and on an expanded node goes to its first child
        assert tree.cursor_id == app.main.model.child_ids(first_ou)[0]
        await pilot.press("h")  # on a leaf: to the parent
        assert tree.cursor_id == first_ou
        await pilot.press("h")  # on an expanded node: collapse
        assert tree.cursor_id == first_ou and not expanded(app, first_ou)
        await pilot.press("right")
        assert expanded(app, first_ou)
        await pilot.press("left")
        assert not expanded(app, first_ou)
        await pilot.press("left")
        assert tree.cursor_id == root

        await pilot.press("j", "enter")  # enter toggles
        assert expanded(app, first_ou)
        await pilot.press("space")  # space too
        assert not expanded(app, first_ou)
        await pilot.press("space", "j", "p")  # p: parent
        assert tree.cursor_id == first_ou

        await pilot.press("G")
        assert tree.cursor_line == tree.last_line and tree.cursor_id == kids[-1]
        await pilot.press("g")
        assert tree.cursor_line == 0 and tree.cursor_id == root

        await pilot.press("e")  # expands everything under the root
        ous = [n.id for n in app.main.model.nodes() if n.type is NodeType.ORGANIZATIONAL_UNIT]
        assert all(expanded(app, ou) for ou in ous)
        deep = org.ou("Payments")
        tree.reveal(deep)
        await pilot.press("c")  # collapses all but the root; cursor to its top-level OU
        assert not any(expanded(app, ou) for ou in ous) and expanded(app, root)
        assert tree.cursor_id == org.ou("Workloads")


def truth_matches(org: SampleOrg, query: str) -> set[str]:
    """What the filter must find, from moto's own answers (names, ids, tags, emails)."""
    needle = query.strip().casefold()
    emails = {
        a["Id"]: a["Email"]
        for page in org.client.get_paginator("list_accounts").paginate()
        for a in page["Accounts"]
    }
    found = set()
    for node_id, node in org.truth.nodes.items():
        fields = [node.name, node_id, emails.get(node_id, ""), *org.truth.tags[node_id].values()]
        if any(needle in f.casefold() for f in fields):
            found.add(node_id)
    return found


def truth_shown(org: SampleOrg, ids: set[str]) -> set[str]:
    shown = set()
    for node_id in ids:
        current: str | None = node_id
        while current is not None:
            shown.add(current)
            current = org.truth.nodes[current].parent_id
    return shown


def truth_order(org: SampleOrg) -> list[str]:
    """Every node depth first as the tree shows it: OUs before accounts, each by name."""
    rank = {"ORGANIZATIONAL_UNIT": 0, "ACCOUNT": 1}
    order: list[str] = []
    stack = [org.truth.root_id]
    while stack:
        node_id = stack.pop()
        order.append(node_id)
        kids = sorted(
            org.truth.children(node_id), key=lambda n: (rank[n.type], n.name.casefold(), n.id)
        )
        stack.extend(k.id for k in reversed(kids))
    return order


async def filtered(pilot: Pilot[Any], text: str) -> None:
    app = pilot.app
    assert isinstance(app, OrgTreeApp)
    await wait_for(pilot, lambda: app.main.filter.text == text)  # typed keys are held a moment
    await pilot.pause()


async def test_filter_shows_matches_with_their_ancestors(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("slash", *"audit")
        await filtered(pilot, "audit")
        expected = truth_matches(org, "audit")
        assert expected and set(app.main.filter.matches.ids) == expected
        assert shown_ids(app) == truth_shown(org, expected)
        assert org.ou("Security") in shown_ids(app) and org.ou("Workloads") not in shown_ids(app)
        count = f"{len(expected)} match{'es' if len(expected) != 1 else ''}"
        assert str(app.main.filter_bar.border_subtitle).startswith(count)

        # Tag values, emails and ids match too.
        tagged = next(i for i, tags in org.truth.tags.items() if "Owner" in tags)
        owner = org.truth.tags[tagged]["Owner"]
        account = next(n for n in app.main.model.nodes() if n.type is NodeType.ACCOUNT and n.email)
        for query, wanted in (
            (owner, tagged),
            (account.email, account.id),
            (account.id, account.id),
        ):
            app.main.filter_bar.value = query or ""
            await filtered(pilot, (query or "").strip())
            assert wanted in app.main.filter.matches
            assert set(app.main.filter.matches.ids) == truth_matches(org, query or "")
            assert shown_ids(app) == truth_shown(org, set(app.main.filter.matches.ids))
        app.main.filter_bar.value = "no such thing anywhere"
        await filtered(pilot, "no such thing anywhere")
        assert str(app.main.filter_bar.border_subtitle).startswith("no match")

        await pilot.press("escape")  # clears: everything is back
        assert not app.main.filter_bar.display and app.main.filter.text == ""
        root = org.truth.root_id
        assert shown_children(app, root) == app.main.model.child_ids(root)


async def test_keys_typed_in_a_burst_are_filtered_once_for_the_burst(org: SampleOrg) -> None:
    app = app_for(org.client)
    app.main.filter.delay = 60.0  # nothing held back is filtered before enter within this test
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        queries: list[str] = []
        index = app.main.filter.index()
        query = index.query
        index.query = lambda text: queries.append(text) or query(text)  # type: ignore[method-assign]
        await pilot.press("slash", *"prod")
        assert queries == ["p"] and app.main.filter.text == "p"  # the first key at once ...
        await pilot.press("enter")  # ... the rest held, until enter keeps what was typed
        assert queries == ["p", "prod"] and app.main.filter.text == "prod"
        assert set(app.main.filter.matches.ids) == truth_matches(org, "prod")


async def test_next_and_previous_match(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("slash", *"prod", "enter")
        expected = truth_matches(org, "prod")
        matches = [i for i in truth_order(org) if i in expected]
        assert len(matches) >= 3
        tree = app.main.org_tree
        assert tree.cursor_id == matches[0] and tree.has_focus
        await pilot.press("n")
        assert tree.cursor_id == matches[1]
        await pilot.press("n", "N")
        assert tree.cursor_id == matches[1]
        await pilot.press("N", "N")  # wraps around
        assert tree.cursor_id == matches[-1]
        await pilot.press("escape")
        assert tree.cursor_id == matches[-1]  # the match stays selected, its branch open
        root = org.truth.root_id
        assert shown_children(app, root) == app.main.model.child_ids(root)
        assert all(expanded(app, a.id) for a in app.main.model.ancestors(matches[-1]))


async def test_next_match_from_a_node_that_is_not_a_match(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("slash", *"prod", "enter")
        expected = truth_matches(org, "prod")
        order = truth_order(org)
        shown_ancestor = next(i for i in order if i not in expected and i in shown_ids(app))
        app.main.org_tree.reveal(shown_ancestor)
        await pilot.press("n")
        after = order[order.index(shown_ancestor) + 1 :]
        assert app.main.org_tree.cursor_id == next(i for i in after if i in expected)
        app.main.org_tree.reveal(shown_ancestor)
        await pilot.press("N")
        before = [i for i in order[: order.index(shown_ancestor)] if i in expected]
        wanted = before[-1] if before else [i for i in order if i in expected][-1]
        assert app.main.org_tree.cursor_id == wanted


async def test_copy_id_and_arn(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        account = next(n for n in app.main.model.nodes() if n.type is NodeType.ACCOUNT)
        app.main.org_tree.reveal(account.id)
        await pilot.press("y")
        assert app.clipboard == account.id
        await pilot.press("Y")
        assert app.clipboard == account.arn


async def test_help_lists_every_binding_and_the_palette_has_every_action(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = {description for _, description in app.screen.rows}
        bindings = [*OrgTreeView.BINDINGS, *MAIN_BINDINGS, *APP_BINDINGS]
        wanted = {b.description for b in bindings if hasattr(b, "description")}
        assert wanted <= described
        keys = {k for row, _ in app.screen.rows for k in row.split(" / ")}
        for key in ("j", "↓", "/", "?", "n", "N", "x", "y", "Y", "r", "q", "e", "c", "p", "o"):
            assert key in keys
        # One row per thing done: space and enter both toggle.
        toggles = [row for row, description in app.screen.rows if description == "Toggle"]
        assert len(toggles) == 1 and set(toggles[0].split(" / ")) == {"space", "⏎"}
        marks = app.screen.query_one("#help-marks")
        legend = "\n".join(marks.render_line(y).text for y in range(marks.size.height))
        assert "⚠ incomplete" in legend and "⊘" in legend and "✱" in legend
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert wanted <= titles


async def test_status_bar_and_header(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        text = app.main.status_bar.text.plain
        counts = org.truth.counts()
        assert "complete" in text and "0:00.0" in text  # the test clock is frozen
        assert f"OUs {counts.ous}" in text and f"accounts {counts.accounts}" in text
        assert org.truth.organization_id in app.sub_title
        assert org.truth.management_account_id in app.sub_title


async def test_selecting_a_node_fetches_its_details(org: SampleOrg) -> None:
    tagged = next(i for i, t in org.truth.tags.items() if t and i.startswith("ou-"))
    # Its tags are held until the test has seen "loading..." (in-process moto answers within
    # one look of the test on a quiet machine, or between two on a busy one).
    client = GatedClient(
        OrgClient(org.client),
        hold=lambda op, p: op == "ListTagsForResource" and p.get("ResourceId") == tagged,
    )
    app = app_for(client, details=False)  # the crawl fetches no tags by itself
    try:
        async with app.run_test(size=SIZE) as pilot:
            await crawled(pilot)
            app.main.org_tree.reveal(tagged)
            await wait_for(pilot, lambda: app.main.details.node_id == tagged)
            await wait_for(pilot, lambda: "ListTagsForResource" in client.calls)
            assert "loading..." in details_text(app)
            client.release()
            # A key, not a value: values may be folded across lines to fit the pane.
            value = next(iter(org.truth.tags[tagged]))
            # Tags and SCPs come from separate calls: both must arrive and replace "loading...".
            await wait_for(
                pilot,
                lambda: value in details_text(app) and "loading..." not in details_text(app),
            )
    finally:
        client.release()


async def test_recrawl_keeps_what_was_open_and_selected(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        deep = org.ou("Payments")
        app.main.org_tree.reveal(deep)
        first = app.controller.crawler
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: app.controller.crawler is not first and app.controller.state == "complete",
        )
        assert app.controller.generation == 2
        assert app.main.org_tree.cursor_id == deep
        assert expanded(app, org.ou("Prod"))


def details_text(app: OrgTreeApp) -> str:
    console = Console(width=100, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.main.details.rendered)
    return console.export_text()


async def test_only_ous_with_something_under_them_can_expand(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        empty, full = org.ou("Policy Staging"), org.ou("Security")
        assert (
            app.main.model.counts(empty).accounts == 0 and app.main.model.counts(full).accounts > 0
        )
        empty_node, full_node = (
            app.main.org_tree.widget_node(empty),
            app.main.org_tree.widget_node(full),
        )
        assert empty_node is not None and not empty_node.allow_expand
        assert full_node is not None and full_node.allow_expand
        app.main.org_tree.move_cursor(empty_node)
        await pilot.press("h")  # nothing to collapse: to the parent
        assert app.main.org_tree.cursor_id == org.truth.root_id


async def test_console_links_of_the_demo_say_it_is_simulated(org: SampleOrg) -> None:
    app = app_for(org.client, label=DEMO_LABEL)
    app.main.browser_available = lambda: False  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("o")
        said = [n.message for n in app._notifications]  # type: ignore[attr-defined]
        said += app.main.copied.said  # the link shows in the copy's note
        assert any("console.aws.amazon.com" in n and "simulated" in n for n in said), said


async def test_details_fit_a_narrow_pane(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        tagged = next(i for i, tags in org.truth.tags.items() if tags)
        await wait_for(pilot, lambda: app.main.model.details(tagged).tags is not None)
        node = app.main.model.get(tagged)
        assert node is not None
        for width in range(26, 121, 7):  # from a 60-column terminal up
            lines = render_details(app.main.model, node, width).plain.splitlines()
            assert max(map(len, lines)) <= width, (width, lines)


@given(st.text(max_size=200), st.integers(min_value=1, max_value=80))
@example("😀" * 5, 2)  # wide characters and no separator: once an endless loop
@example("😀" * 3, 1)
def test_fold_keeps_every_character_and_fits(value: str, width: int) -> None:
    lines = fold(value, width)
    assert "".join(lines) == value
    # Only a line of one character wider than the line itself may overflow.
    assert all(cell_len(line) <= width or len(line) == 1 for line in lines)


def test_fold_breaks_an_arn_after_a_separator() -> None:
    arn = "arn:aws:organizations::123456789012:account/o-abcdefghij/688069504269"
    assert fold(arn, 40) == ["arn:aws:organizations::123456789012:", arn[36:]]


async def test_help_scrolls_with_the_tree_keys(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=(100, 24)) as pilot:
        await crawled(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        view = app.screen.query_one(VerticalScroll)
        assert view.max_scroll_y > 0  # 24 lines do not hold it all
        await pilot.press("j", "j")
        assert view.scroll_y == 2
        await pilot.press("G")
        assert view.scroll_y == view.max_scroll_y
        await pilot.press("g")
        assert view.scroll_y == 0


async def test_the_collector_is_off_from_a_key_to_its_frame(
    org: SampleOrg, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "HOLD_AT_MOST", 600.0)  # only the frame releases it
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        tree = app.main.org_tree
        seen: list[tuple[str | None, bool]] = []
        real = tree.watch_cursor_line

        def watch(previous_line: int, line: int) -> None:
            real(previous_line, line)
            seen.append((tree.cursor_id, gc.isenabled()))

        tree.watch_cursor_line = watch  # type: ignore[method-assign]
        await pilot.press("j")
        first_ou = app.main.model.child_ids(org.truth.root_id)[0]
        assert seen and seen[-1] == (first_ou, False)  # the cursor moved, no collection
        await wait_for(pilot, lambda: gc.isenabled())  # the frame drawn: on again
        # The crawl's threads wait on the same hold.
        crawler = app.main.controller.slots[0].crawler
        assert crawler is not None
        assert crawler.loop.yield_to == app.main.pacer.collector.wait_open
        # A key whose effect nothing reports (esc on the tree): the timer turns it on.
        monkeypatch.setattr(app_module, "HOLD_AT_MOST", 0.05)
        await pilot.press("escape")
        await wait_for(pilot, lambda: gc.isenabled())
