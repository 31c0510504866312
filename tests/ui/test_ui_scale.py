"""The tree widget holds only what the user opened: a 5,000-account OU costs nothing collapsed,
and opening it adds its accounts in chunks behind a "loading..." line."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets.tree import TreeNode
from ui_support import wait_for

from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType
from orgtree_tui.ui.widgets.org_tree import CHUNK, LOADING, OrgTreeView

HUGE = 5000


def big_model() -> tuple[OrgTree, str]:
    tree = OrgTree()
    tree.add(Node("r-1", NodeType.ROOT, "Root", "arn:root", None))
    tree.add(Node("ou-huge", NodeType.ORGANIZATIONAL_UNIT, "Huge", "arn:huge", "r-1"))
    tree.add(Node("ou-small", NodeType.ORGANIZATIONAL_UNIT, "Small", "arn:small", "r-1"))
    for i in range(HUGE):
        account_id = f"{100000000000 + i}"
        name = f"acct-{(i * 7919) % HUGE:05d}"  # arrives out of order
        tree.add(Node(account_id, NodeType.ACCOUNT, name, f"arn:{i}", "ou-huge"))
    return tree, "ou-huge"


class TreeApp(App[None]):
    def __init__(self, model: OrgTree) -> None:
        super().__init__()
        self.view = OrgTreeView(model)

    def compose(self) -> ComposeResult:
        yield self.view

    def on_mount(self) -> None:
        self.view.reset_model(self.view.model)
        self.view.focus()


def widget_nodes(view: OrgTreeView) -> list[TreeNode[str]]:
    found: list[TreeNode[str]] = []
    stack = list(view.root.children)
    while stack:
        tn = stack.pop()
        found.append(tn)
        stack.extend(tn.children)
    return found


async def test_a_collapsed_ou_of_5000_accounts_creates_no_widget_nodes() -> None:
    model, huge = big_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        assert {tn.data for tn in widget_nodes(view)} == {"r-1", "ou-huge", "ou-small"}

        assert view.reveal(huge)
        view.action_expand_node()  # what `l` does, without the pilot's wait for idle
        first = widget_nodes(view)
        # The first chunk and a placeholder at once; the rest comes in later chunks.
        assert CHUNK < len(first) < 3 + CHUNK + 10
        assert any(str(tn.label) == LOADING for tn in first)

        await wait_for(pilot, lambda: not view.filling, timeout=20)
        shown = view.widget_node(huge)
        assert shown is not None
        names = [str(tn.label).split()[0] for tn in shown.children]
        assert len(names) == HUGE and names == sorted(names)
        assert not any(str(tn.label) == LOADING for tn in widget_nodes(view))


async def test_collapse_and_a_rebuild_mid_fill_leave_a_consistent_tree() -> None:
    model, huge = big_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        assert view.reveal(huge)
        view.action_expand_node()
        await pilot.pause(0)
        assert view.filling
        view.reset_model(model)  # say, a filter cleared while the accounts stream in
        await wait_for(pilot, lambda: not view.filling, timeout=20)
        shown = view.widget_node(huge)
        assert shown is not None
        ids = [tn.data for tn in shown.children]
        assert len(ids) == len(set(ids)) == HUGE  # nothing twice, nothing lost


async def test_reveal_reaches_an_account_not_yet_filled_in() -> None:
    model, huge = big_model()
    app = TreeApp(model)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.view
        await pilot.pause()
        last = max(model.children(huge), key=lambda n: n.name)
        assert view.reveal(last.id)
        assert view.cursor_id == last.id
        await wait_for(pilot, lambda: not view.filling, timeout=20)
        shown = view.widget_node(huge)
        assert shown is not None and len(shown.children) == HUGE
        assert view.cursor_id == last.id
