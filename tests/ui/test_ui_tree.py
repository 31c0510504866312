"""The tree fills in while the crawl runs: right parents, export order, a cursor that stays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from textual.pilot import Pilot
from ui_support import (
    MARKUP_NAME,
    SIZE,
    FrameClock,
    GatedClient,
    HeldParents,
    SampleOrg,
    app_for,
    crawled,
    shown_children,
    shown_ids,
    wait_for,
)

from orgtree_tui.aws import OrgClient
from orgtree_tui.records import Node, NodeType
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.labels import INCOMPLETE_MARK
from orgtree_tui.ui.pacing import DRAIN_INTERVAL, KEY_PAUSE, KEYS_HOLD_DRAINS_FOR


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
            await wait_for(
                pilot, lambda: app.main.org_tree.widget_node(org.ou("Workloads")) is not None
            )
            assert app.controller.state == "crawling"
            # The root starts expanded; its OUs come first, then its accounts, each by name.
            await wait_for(
                pilot, lambda: len(shown_children(app, root)) == len(org.truth.children(root))
            )
            assert shown_children(app, root) == app.main.model.child_ids(root)
            kinds = [app.main.model.get(i).type for i in shown_children(app, root)]  # type: ignore[union-attr]
            assert kinds == sorted(kinds, key=lambda k: k is NodeType.ACCOUNT)
            # Expand the way down to Prod before its accounts are known, once its OUs are (on
            # a busy machine the cursor could get there first, and an OU with no children
            # known yet does not open).
            prod_ous = {
                c.id for c in org.truth.children(prod) if c.type == NodeType.ORGANIZATIONAL_UNIT
            }
            await wait_for(pilot, lambda: prod_ous <= set(app.main.model.child_ids(prod)))
            await wait_for(pilot, lambda: app.main.org_tree.reveal(prod))
            await pilot.press("l")
            assert app.main.org_tree.widget_node(prod).is_expanded  # type: ignore[union-attr]
            before = shown_children(app, prod)
            assert before  # its OUs arrived; its accounts are held back
            assert all(app.main.model.get(i).type is NodeType.ORGANIZATIONAL_UNIT for i in before)  # type: ignore[union-attr]
            assert app.controller.state == "crawling"

            client.release()
            await crawled(pilot)
            expected = [n.id for n in org.truth.children(prod)]
            assert sorted(shown_children(app, prod)) == sorted(expected)
            assert shown_children(app, prod) == app.main.model.child_ids(prod)  # sorted inserts
            # Every node sits under its real parent, in export order.
            app.main.org_tree.move_cursor(app.main.org_tree.widget_node(root))
            await pilot.press("e")
            await pilot.pause()
            for node_id, node in org.truth.nodes.items():
                if node.type != "ACCOUNT":
                    assert shown_children(app, node_id) == app.main.model.child_ids(node_id)
                    truth_ids = sorted(c.id for c in org.truth.children(node_id))
                    assert sorted(shown_children(app, node_id)) == truth_ids
    finally:
        client.release()


@dataclass
class Drains:
    at: list[float] = field(default_factory=list)  # the frame clock at each drain done
    looks: int = 0  # looks at whether to drain (a drain, or a timer for the next look)
    drawn: set[str] = field(default_factory=set)  # ids handed to the tree widget


def count_drains(app: OrgTreeApp, frames: FrameClock) -> Drains:
    seen = Drains()
    drains = seen.at
    real_drain, real_look = app.main._drain, app.main._drain_when_quiet
    real_add = app.main.org_tree.add_nodes

    async def drain() -> None:
        started = frames.now
        await real_drain()  # counted once done: it awaits while adding nodes in chunks
        drains.append(started)

    async def look(after_key: bool = False) -> None:
        seen.looks += 1
        await (real_look(after_key) if after_key else real_look())

    async def add_nodes(nodes: Sequence[Node]) -> None:
        seen.drawn.update(n.id for n in nodes)
        await real_add(nodes)

    app.main._drain = drain  # type: ignore[method-assign]
    app.main._drain_when_quiet = look  # type: ignore[method-assign]
    app.main.org_tree.add_nodes = add_nodes  # type: ignore[method-assign]
    return seen


async def looked_again(pilot: Pilot[Any], seen: Drains, times: int = 3) -> None:
    """Wait until the app has looked `times` more times at news waiting to be drained."""
    before = seen.looks
    await wait_for(pilot, lambda: seen.looks >= before + times)


def held_accounts(org: SampleOrg, *parents: str) -> set[str]:
    return {n.id for p in parents for n in org.truth.children(p) if n.type == "ACCOUNT"}


async def test_news_is_drained_at_most_once_a_drain_interval(org: SampleOrg) -> None:
    # Security's accounts are held until the first drain is done, so news is sure to come
    # after it (on a busy machine the first drain could otherwise take everything at once).
    prod, security = org.ou("Prod"), org.ou("Security")
    client = HeldParents(OrgClient(org.client), prod, security)
    frames = FrameClock()
    app = app_for(client, details=False, frame_clock=frames)
    seen = count_drains(app, frames)
    drains = seen.at
    try:
        async with app.run_test(size=SIZE) as pilot:
            # The frame clock stands still: after the first drain, news waits however much
            # of it arrives and however long the machine takes.
            both = held_accounts(org, prod, security)
            await wait_for(pilot, lambda: len(app.main.model) == len(org.truth.nodes) - len(both))
            await wait_for(pilot, lambda: len(drains) == 1)
            client.release(security)
            late = held_accounts(org, prod)
            await wait_for(pilot, lambda: len(app.main.model) == len(org.truth.nodes) - len(late))
            await looked_again(pilot, seen)
            assert drains == [1000.0]
            assert not seen.drawn & held_accounts(org, security)  # news is waiting
            frames.advance(DRAIN_INTERVAL * 0.8)
            await looked_again(pilot, seen)
            assert drains == [1000.0]
            frames.advance(DRAIN_INTERVAL * 0.4)  # now an interval has passed
            await wait_for(pilot, lambda: len(drains) == 2)
            assert seen.drawn == {n.id for n in app.main.model.nodes()}
            client.release()
            await crawled(pilot)  # the end drains what is left, whatever the clock says
            assert seen.drawn == set(org.truth.nodes)
    finally:
        client.release()


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
            await wait_for(pilot, lambda: app.main.model.totals().accounts == total - len(late))
            tree = app.main.org_tree
            await pilot.press("e", "G", "k", "k")  # everything open, cursor near the bottom
            # The scroll follows the cursor in a later frame (one pause was not always it).
            await wait_for(pilot, lambda: tree.scroll_offset.y > 0)
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
        app.main.org_tree.reveal(security)
        await pilot.press("l")
        markup_id = next(
            i
            for i in shown_children(app, security)
            if app.main.model.get(i).name == MARKUP_NAME  # type: ignore[union-attr]
        )
        label = app.main.org_tree.widget_node(markup_id).label  # type: ignore[union-attr]
        assert label.plain == f"{MARKUP_NAME}  {markup_id}"  # type: ignore[union-attr]
        # OU labels carry their total account count; suspended accounts are marked.
        count = sum(1 for n in org.truth.children(security) if n.type == "ACCOUNT")
        label = app.main.org_tree.widget_node(security).label  # type: ignore[union-attr]
        assert label.plain == f"Security ({count})"  # type: ignore[union-attr]
        suspended = next(n for n in app.main.model.nodes() if n.state == "SUSPENDED")
        app.main.org_tree.reveal(suspended.id)
        assert "SUSPENDED" in app.main.org_tree.widget_node(suspended.id).label.plain  # type: ignore[union-attr]


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
        assert app.controller.state == "incomplete"
        label = app.main.org_tree.widget_node(security).label  # type: ignore[union-attr]
        assert INCOMPLETE_MARK in label.plain  # type: ignore[union-attr]
        assert "incomplete: 1 branch" in app.main.status_bar.text.plain


async def test_a_filter_typed_mid_crawl_picks_up_later_matches(org: SampleOrg) -> None:
    prod = org.ou("Prod")
    client = GatedClient(
        OrgClient(org.client),
        hold=lambda op, p: op == "ListAccountsForParent" and p.get("ParentId") == prod,
    )
    app = app_for(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.model.get(prod) is not None)
            late = next(n for n in org.truth.children(prod) if n.type == "ACCOUNT")
            await pilot.press("slash", *late.name, "enter")
            assert late.id not in app.main.filter.matches
            client.release()
            await crawled(pilot)
            assert late.id in app.main.filter.matches
            assert app.main.org_tree.widget_node(late.id) is not None  # shown, with its ancestors
            assert set(a.id for a in app.main.model.ancestors(late.id)) <= shown_ids(app)
    finally:
        client.release()


async def test_drains_wait_for_a_pause_in_the_keys(org: SampleOrg) -> None:
    # Accounts held back, released one parent at a time; Sandbox's until the end (the
    # crawl's end drains whatever is left at once).
    prod, security, sandbox = org.ou("Prod"), org.ou("Security"), org.ou("Sandbox")
    late = held_accounts(org, prod, security, sandbox)
    client = HeldParents(OrgClient(org.client), prod, security, sandbox)
    frames = FrameClock()
    app = app_for(client, details=False, frame_clock=frames)
    seen = count_drains(app, frames)
    drains = seen.at
    try:
        async with app.run_test(size=SIZE) as pilot:
            # Everything but the held accounts arrives and is drawn (the clock moves on
            # a second at each look, so no drain waits for it).
            everything_else = len(org.truth.nodes) - len(late)
            await wait_for(
                pilot, lambda: frames.advance(1.0) and len(seen.drawn) == everything_else
            )
            # Half a second after the last drain, a key; then news.
            frames.now = drains[-1] + 0.5
            await pilot.press("j")
            assert app.main.pacer.last_key == frames.now  # the app saw the key
            drawn = len(drains)
            client.release(prod)
            await wait_for(
                pilot,
                lambda: len(app.main.model) == everything_else + len(held_accounts(org, prod)),
            )
            await looked_again(pilot, seen)
            assert len(drains) == drawn, "a drain came right after a key"
            # A pause in the keys: the news is drawn.
            frames.advance(KEY_PAUSE + 0.01)  # (a margin for float rounding)
            await wait_for(pilot, lambda: len(drains) == drawn + 1)
            assert seen.drawn >= held_accounts(org, prod)

            # Keys that keep coming hold drains back for at most KEYS_HOLD_DRAINS_FOR.
            last_drain = drains[-1]
            frames.now = last_drain + 0.5
            await pilot.press("k")
            client.release(security)
            await wait_for(
                pilot,
                lambda: (
                    len(app.main.model) == len(org.truth.nodes) - len(held_accounts(org, sandbox))
                ),
            )
            await looked_again(pilot, seen)
            assert len(drains) == drawn + 1, "a drain came right after a key"
            frames.now = last_drain + KEYS_HOLD_DRAINS_FOR + 0.01
            await pilot.press("j")  # a key just now, but the tree has waited long enough
            await wait_for(pilot, lambda: len(drains) == drawn + 2)
            assert drains[-1] - last_drain >= KEYS_HOLD_DRAINS_FOR
            assert seen.drawn >= held_accounts(org, security)
            client.release(sandbox)
            await crawled(pilot)
            assert seen.drawn == set(org.truth.nodes)
    finally:
        client.release()


async def test_news_held_back_by_keys_comes_right_after_the_next_keys_frame(
    org: SampleOrg,
) -> None:
    # Held for a pause in the keys, a drain lands as often as not between the next key and
    # its frame: it comes right after a key's frame instead, the key's effect drawn first.
    # (Sandbox's accounts are held to the end: the crawl's end drains at once.)
    prod, sandbox = org.ou("Prod"), org.ou("Sandbox")
    client = HeldParents(OrgClient(org.client), prod, sandbox)
    frames = FrameClock()
    app = app_for(client, details=False, frame_clock=frames)
    seen = count_drains(app, frames)
    filter_at_drain: list[str] = []
    counted = app.main._drain

    async def drain() -> None:
        filter_at_drain.append(app.main.filter.text)
        await counted()

    app.main._drain = drain  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            everything_else = len(org.truth.nodes) - len(held_accounts(org, prod, sandbox))
            await wait_for(
                pilot, lambda: frames.advance(1.0) and len(seen.drawn) == everything_else
            )
            last_drain = seen.at[-1]
            frames.now = last_drain + 0.5
            await pilot.press("slash")
            await wait_for(pilot, lambda: app.main.filter_bar.has_focus)
            client.release(prod)
            all_but_sandbox = len(org.truth.nodes) - len(held_accounts(org, sandbox))
            await wait_for(pilot, lambda: len(app.main.model) == all_but_sandbox)
            # A key just now: the timer's looks hold the news back...
            looks = seen.looks
            await wait_for(pilot, lambda: seen.looks >= looks + 3 or seen.at[-1] != last_drain)
            assert seen.at[-1] == last_drain, "drained while keys were coming"
            # ...and the next key's frame brings it, the key's effect drawn first.
            await pilot.press("x")
            await wait_for(pilot, lambda: seen.at[-1] != last_drain)
            assert filter_at_drain[-1] == "x"
            assert seen.drawn >= held_accounts(org, prod)
            client.release(sandbox)
            await crawled(pilot)
    finally:
        client.release()


def test_keys_that_never_stop_hold_drains_back_at_most_so_long() -> None:
    from orgtree_tui.ui.pacing import DrainPacer

    frames = FrameClock(0.0)
    pacer = DrainPacer(frames)
    pacer.drain_started()
    pacer.drain_ended()
    for now in (0.01, 0.5, 0.99):  # a key every few tenths of a second
        frames.now = now
        pacer.key_pressed()
        assert pacer.wait(100) > 0, now  # the timer waits for a pause...
        assert pacer.due_after_key(100) is (now >= DRAIN_INTERVAL), now  # ...a frame may not
    frames.now = KEYS_HOLD_DRAINS_FOR
    pacer.key_pressed()
    assert pacer.wait(100) <= 0
