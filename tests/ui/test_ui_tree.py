"""The tree fills in while the crawl runs: right parents, export order, a cursor that stays."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError
from ui_support import (
    MARKUP_NAME,
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
from orgtree_tui.ui.app import KEY_PAUSE, KEYS_HOLD_DRAINS_FOR
from orgtree_tui.ui.labels import INCOMPLETE_MARK


async def test_tree_fills_in_while_the_crawl_runs(org: SampleOrg) -> None:
    prod = org.ou("Prod")
    # Hold the accounts of Prod until the test has seen the rest of the tree arrive.
    client = GatedClient(
        OrgClient(org.client),
        hold=lambda op, p: op == "ListAccountsForParent" and p.get("ParentId") == prod,
    )
    app = app_for(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            root = org.truth.root_id
            await wait_for(pilot, lambda: app.org_tree.widget_node(org.ou("Workloads")) is not None)
            assert app.state == "crawling"
            # The root starts expanded; its OUs come first, then its accounts, each by name.
            await wait_for(
                pilot, lambda: len(shown_children(app, root)) == len(org.truth.children(root))
            )
            assert shown_children(app, root) == app.model.child_ids(root)
            kinds = [app.model.get(i).type for i in shown_children(app, root)]  # type: ignore[union-attr]
            assert kinds == sorted(kinds, key=lambda k: k is NodeType.ACCOUNT)
            # Expand the way down to Prod before its accounts are known.
            await wait_for(pilot, lambda: app.org_tree.reveal(prod))
            await pilot.press("l")
            assert app.org_tree.widget_node(prod).is_expanded  # type: ignore[union-attr]
            before = shown_children(app, prod)
            assert before  # its OUs arrived; its accounts are held back
            assert all(app.model.get(i).type is NodeType.ORGANIZATIONAL_UNIT for i in before)  # type: ignore[union-attr]
            assert app.state == "crawling"

            client.release()
            await crawled(pilot)
            expected = [n.id for n in org.truth.children(prod)]
            assert sorted(shown_children(app, prod)) == sorted(expected)
            assert shown_children(app, prod) == app.model.child_ids(prod)  # sorted inserts
            # Every node sits under its real parent, in export order.
            app.org_tree.move_cursor(app.org_tree.widget_node(root))
            await pilot.press("e")
            await pilot.pause()
            for node_id, node in org.truth.nodes.items():
                if node.type != "ACCOUNT":
                    assert shown_children(app, node_id) == app.model.child_ids(node_id)
                    truth_ids = sorted(c.id for c in org.truth.children(node_id))
                    assert sorted(shown_children(app, node_id)) == truth_ids
    finally:
        client.release()


async def test_news_is_drained_at_most_twenty_times_a_second(org: SampleOrg) -> None:
    client = GatedClient(OrgClient(org.client), delay=0.002)
    app = app_for(client)
    drains = 0
    async with app.run_test(size=SIZE) as pilot:
        real_drain = app._drain

        async def counting_drain() -> None:
            nonlocal drains
            drains += 1
            await real_drain()

        app._drain = counting_drain  # type: ignore[method-assign]
        started = time.monotonic()
        await crawled(pilot)
        elapsed = time.monotonic() - started
    assert app.model.totals().accounts == 31
    # One drain per 50 ms window, plus the final flush on FINISHED.
    assert 1 <= drains <= elapsed * 20 + 2


async def test_cursor_stays_put_while_nodes_arrive_above_it(org: SampleOrg) -> None:
    infra = org.ou("Infrastructure")  # the first OU by name: its accounts land near the top
    late = [n.id for n in org.truth.children(infra) if n.type == "ACCOUNT"]
    client = GatedClient(
        OrgClient(org.client),
        hold=lambda op, p: op == "ListAccountsForParent" and p.get("ParentId") == infra,
    )
    app = app_for(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            total = org.truth.counts().accounts
            await wait_for(pilot, lambda: app.model.totals().accounts == total - len(late))
            tree = app.org_tree
            await pilot.press("e", "G", "k", "k")  # everything open, cursor near the bottom
            await pilot.pause()
            chosen = tree.cursor_id
            row = tree.cursor_line - tree.scroll_offset.y
            assert tree.scroll_offset.y > 0 and chosen is not None
            client.release()
            await crawled(pilot)
            assert sorted(shown_children(app, infra)) == sorted(late)
            assert tree.cursor_id == chosen
            assert tree.cursor_line - tree.scroll_offset.y == row  # same node, same row
    finally:
        client.release()


async def test_labels_are_data_not_markup(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        security = org.ou("Security")
        app.org_tree.reveal(security)
        await pilot.press("l")
        markup_id = next(
            i
            for i in shown_children(app, security)
            if app.model.get(i).name == MARKUP_NAME  # type: ignore[union-attr]
        )
        label = app.org_tree.widget_node(markup_id).label  # type: ignore[union-attr]
        assert label.plain == f"{MARKUP_NAME}  {markup_id}"  # type: ignore[union-attr]
        # OU labels carry their total account count; suspended accounts are marked.
        count = sum(1 for n in org.truth.children(security) if n.type == "ACCOUNT")
        label = app.org_tree.widget_node(security).label  # type: ignore[union-attr]
        assert label.plain == f"Security ({count})"  # type: ignore[union-attr]
        suspended = next(n for n in app.model.nodes() if n.state == "SUSPENDED")
        app.org_tree.reveal(suspended.id)
        assert "SUSPENDED" in app.org_tree.widget_node(suspended.id).label.plain  # type: ignore[union-attr]


class DeniedFor(GatedClient):
    """Listing the accounts of one parent is denied, both ways (ListAccountsForParent and
    ListChildren): that branch ends up incomplete. One way alone is not enough since the
    crawl goes on with the other call (issue 11 item 4)."""

    def __init__(self, inner: OrgClient, parent_id: str) -> None:
        super().__init__(inner)
        self.parent_id = parent_id

    def call(self, operation: str, **params: object) -> dict[str, object]:
        listing = operation in ("ListAccountsForParent", "ListChildren")
        if listing and params.get("ParentId") == self.parent_id:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation
            )
        return super().call(operation, **params)


async def test_incomplete_branches_are_marked(org: SampleOrg) -> None:
    security = org.ou("Security")
    app = app_for(DeniedFor(OrgClient(org.client), security))
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.state == "incomplete"
        label = app.org_tree.widget_node(security).label  # type: ignore[union-attr]
        assert INCOMPLETE_MARK in label.plain  # type: ignore[union-attr]
        assert "incomplete: 1 branch" in app.status_bar.text.plain


async def test_a_filter_typed_mid_crawl_picks_up_later_matches(org: SampleOrg) -> None:
    prod = org.ou("Prod")
    client = GatedClient(
        OrgClient(org.client),
        hold=lambda op, p: op == "ListAccountsForParent" and p.get("ParentId") == prod,
    )
    app = app_for(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.model.get(prod) is not None)
            late = next(n for n in org.truth.children(prod) if n.type == "ACCOUNT")
            await pilot.press("slash", *late.name, "enter")
            assert late.id not in app.matches
            client.release()
            await crawled(pilot)
            assert late.id in app.matches
            assert app.org_tree.widget_node(late.id) is not None  # shown, with its ancestors
            assert set(a.id for a in app.model.ancestors(late.id)) <= shown_ids(app)
    finally:
        client.release()


async def test_drains_wait_for_a_pause_in_the_keys(org: SampleOrg) -> None:
    # About 70 calls, 0.1 s each, two at a time: a crawl of some 3.5 s to walk through.
    client = GatedClient(OrgClient(org.client), delay=0.1)
    app = app_for(client, workers=2)
    drains: list[tuple[float, float]] = []  # (when, how long after the last key)
    async with app.run_test(size=SIZE) as pilot:
        real_drain = app._drain

        async def timed_drain() -> None:
            now = time.monotonic()
            drains.append((now, now - app._last_key))
            await real_drain()

        app._drain = timed_drain  # type: ignore[method-assign]
        await wait_for(pilot, lambda: len(app.model) > 0)
        start = time.monotonic()
        while time.monotonic() - start < 2.0:
            await pilot.press("j" if len(drains) % 2 else "k")
        end = time.monotonic()
        assert app.state == "crawling"  # the keys came while news kept arriving
        assert app._last_key > start  # the app saw them
        during = [(t, since_key) for t, since_key in drains if start < t <= end]
        # A drain comes in a pause between keys, or when the last drain is a second old.
        previous = max((t for t, _ in drains if t <= start), default=start)
        for t, since_key in during:
            assert since_key >= KEY_PAUSE or t - previous >= KEYS_HOLD_DRAINS_FOR, during
            previous = t
        # Left alone it drains 20 times a second.
        assert len(during) <= (end - start) * 20 / 4, during
        await crawled(pilot)
        after = len(drains)
    assert app.model.totals().accounts == 31
    assert after > len(during)  # once the keys stopped, the tree caught up
