"""A filter matching thousands of nodes, and expand-all on a big OU, build a screenful of lines
at once and the rest between yields (both built every line before the first repaint)."""

from __future__ import annotations

import gc
import weakref

from test_ui_scale import TreeApp, widget_nodes
from ui_support import wait_for

from orgtree_tui.filtering import FilterIndex
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType
from orgtree_tui.ui.widgets.org_tree import OPEN_FIRST

OUS, PER_OU = 40, 50


def wide_model() -> OrgTree:
    tree = OrgTree()
    tree.add(Node("r-1", NodeType.ROOT, "Root", "arn:root", None))
    tree.add(Node("ou-top", NodeType.ORGANIZATIONAL_UNIT, "Top", "arn:top", "r-1"))
    for o in range(OUS):
        ou = f"ou-{o:03d}"
        tree.add(Node(ou, NodeType.ORGANIZATIONAL_UNIT, f"team-{o:03d}", f"arn:{ou}", "ou-top"))
        for a in range(PER_OU):
            account = f"{100000000000 + o * 1000 + a}"
            name = f"acct-{o:03d}-{a:03d}"
            tree.add(Node(account, NodeType.ACCOUNT, name, f"arn:{account}", ou))
    return tree


async def test_expand_all_on_a_big_ou_shows_a_chunk_at_once_then_everything() -> None:
    model = wide_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        assert view.reveal("ou-top")
        view.action_expand_all_under()  # what `e` does, without the pilot's wait for idle
        first_sub = view.widget_node("ou-000")
        assert first_sub is not None and first_sub.is_expanded  # the first screen is open
        assert len(widget_nodes(view)) < len(model)  # ... and not every line yet
        await wait_for(pilot, lambda: len(widget_nodes(view)) == len(model), timeout=30)
        ous = [n.id for n in model.nodes() if n.type is NodeType.ORGANIZATIONAL_UNIT]
        assert all((tn := view.widget_node(i)) is not None and tn.is_expanded for i in ous)


async def test_a_filter_matching_thousands_opens_only_the_first_matches() -> None:
    model = wide_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        result = FilterIndex.of(model).query("acct-")
        assert len(result) == OUS * PER_OU
        view.set_filter(result)
        opened = {tn.data for tn in widget_nodes(view) if tn.is_expanded}
        # The way down to the first OPEN_FIRST matches (all in the first OU), nothing else.
        assert opened == {"r-1", "ou-top", "ou-000"}
        assert OPEN_FIRST <= PER_OU
        assert view.cursor_id == "100000000000"  # the first match, in display order
        assert len(widget_nodes(view)) < 3 * PER_OU
        assert view.reveal("100000039049")  # the last match is still reachable (n / N)
        await pilot.pause()
        assert view.cursor_id == "100000039049"


async def test_a_rebuild_frees_the_old_widget_nodes_without_the_garbage_collector() -> None:
    # Textual's Tree.clear kept them (in `_tree_nodes`, as parent <-> children cycles):
    # only full collections freed them, 30-60 ms each, landing in filter keystrokes.
    model = wide_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        index = FilterIndex.of(model)
        view.set_filter(index.query("acct-"))
        await pilot.pause()
        # The old cursor node lingers (Textual's, until the cursor moves), and the way up.
        lingering = {"r-1", "ou-top", "ou-000", view.cursor_id}
        old = [weakref.ref(tn) for tn in widget_nodes(view) if tn.data not in lingering]
        assert len(old) > 40
        gc.disable()
        try:
            view.set_filter(index.query("acct-007"))
            assert all(r() is not None for r in old)  # not in the keystroke: after its frame
            await wait_for(pilot, lambda: sum(r() is not None for r in old) == 0)
        finally:
            gc.enable()
        # What the tree keeps by id is what it shows, and its root.
        assert len(view._tree_nodes) == len(widget_nodes(view)) + 1
