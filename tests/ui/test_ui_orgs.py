"""Several organizations in one tree, the profile picker, and links into the AWS console.

The organizations are moto accounts reached through AWS profiles that assume a role in
each management account, as `--profile a --profile b` would on a real machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_multi_org import ACCOUNTS
from textual.app import App, ComposeResult
from ui_support import SIZE, TODAY, crawled, wait_for

from orgtree_tui.cli import parse_args
from orgtree_tui.forest import Forest
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.launch import app_for_options
from orgtree_tui.ui.screens.profile_picker import ProfilePicker
from orgtree_tui.ui.widgets.org_tree import OrgTreeView


def app_on(*argv: str) -> OrgTreeApp:
    app = app_for_options(parse_args([*argv, "--no-cache"]))
    app.clock = lambda: 0.0
    app.today = lambda: TODAY
    return app


def notes(app: OrgTreeApp) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


async def test_each_organization_is_its_own_top_level_node(
    orgs: dict[str, str], tmp_path: Path
) -> None:
    app = app_on("--profile", "org-a", "--profile", "org-b")
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.state == "complete"
        tops = [tn for tn in app.org_tree.root.children]
        assert len(tops) == 2
        for tn, profile in zip(tops, ("org-a", "org-b"), strict=True):
            assert f"{orgs[profile]} (profile {profile})" in str(tn.label)
        lines = app.status_bar.text.plain.splitlines()
        assert len(lines) == 2
        assert "profile org-a" in lines[0] and "complete" in lines[0]
        assert "profile org-b" in lines[1] and "complete" in lines[1]
        assert app.sub_title.startswith("2 organizations")

        # Export org-b's tree from the dialog: the file names org-b's organization.
        second = tops[1]
        app.org_tree.move_cursor(second)
        await pilot.press("x")
        dialog = app.screen
        target = tmp_path / "b.json"
        path_input = dialog.query_one("#export-path")
        path_input.value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists())
        document = json.loads(target.read_text())
        assert document["organization"]["id"] == orgs["org-b"]
        assert document["organization"]["management_account_id"] == ACCOUNTS["org-b"]


async def test_the_profile_picker_crawls_the_profiles_picked(orgs: dict[str, str]) -> None:
    app = app_on("--profile", "org-a")
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert [s.profile for s in app.slots] == ["org-a"]
        await pilot.press("P")
        picker = app.screen
        assert isinstance(picker, ProfilePicker)
        assert picker.profiles == ["base", "no-org", "org-a", "org-b"]  # config + credentials
        # org-a is picked already: move to org-b and pick it too.
        await pilot.press("down", "down", "down", "space", "ctrl+s")
        await wait_for(pilot, lambda: len(app.slots) == 2)
        await crawled(pilot)
        assert [s.profile for s in app.slots] == ["org-a", "org-b"]
        assert {r.id for r in app.model.roots()} == {s.tree.roots()[0].id for s in app.slots}
        assert {s.tree.organization.id for s in app.slots if s.tree.organization} == {
            orgs["org-a"],
            orgs["org-b"],
        }


async def test_console_link_is_copied_and_shown_without_a_browser(
    orgs: dict[str, str],
) -> None:
    app = app_on("--profile", "org-a")
    opened: list[str] = []
    app.browser_available = lambda: False  # type: ignore[method-assign]
    app.open_browser = lambda url: bool(opened.append(url))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        member = next(n for n in app.model.nodes() if n.name == "member")
        assert app.org_tree.reveal(member.id)
        await pilot.press("o")
        url = f"https://us-east-1.console.aws.amazon.com/organizations/v2/home/accounts/{member.id}"
        assert app.clipboard == url
        assert any(url in n and "No browser" in n for n in notes(app))
        assert not any("simulated" in n for n in notes(app))
        assert opened == []


async def test_console_link_opens_in_a_browser_when_there_is_one(orgs: dict[str, str]) -> None:
    app = app_on("--profile", "org-a")
    opened: list[str] = []

    def open_browser(url: str) -> Any:
        opened.append(url)
        return True

    app.browser_available = lambda: True  # type: ignore[method-assign]
    app.open_browser = open_browser  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        root = app.model.roots()[0]
        assert app.org_tree.reveal(root.id)
        await pilot.press("o")
        await wait_for(pilot, lambda: bool(opened))
        assert opened == ["https://us-east-1.console.aws.amazon.com/organizations/v2/home/root"]


async def test_status_lines_are_cut_not_wrapped_on_a_narrow_terminal(
    orgs: dict[str, str],
) -> None:
    app = app_on("--profile", "org-a", "--profile", "org-b")
    async with app.run_test(size=(80, 24)) as pilot:
        await crawled(pilot)
        await pilot.pause()
        bar = app.status_bar
        shown = [bar.render_line(y).text for y in range(bar.size.height)]
        assert len(shown) == 2
        assert "profile org-a" in shown[0] and shown[0].rstrip().endswith("…"), shown
        assert "profile org-b" in shown[1], shown


async def test_organizations_keep_profile_order_whichever_answers_first() -> None:
    first, second = OrgTree(), OrgTree()
    forest = Forest([first, second])
    view = OrgTreeView(forest)

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield view

    def root(tree: OrgTree, root_id: str) -> Node:
        node = Node(root_id, NodeType.ROOT, "Root", f"arn:root/{root_id}", None)
        tree.add(node)
        return node

    async with Host().run_test() as pilot:
        view.reset_model(forest)
        # The second organization's root arrives first (its profile answered sooner).
        await view.add_nodes([root(second, "r-aaaa")])
        await view.add_nodes([root(first, "r-zzzz")])
        await pilot.pause()
        assert [tn.data for tn in view.root.children] == ["r-zzzz", "r-aaaa"]
