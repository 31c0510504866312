"""Several organizations in one tree, the profile picker, and links into the AWS console.

The organizations are moto accounts reached through AWS profiles that assume a role in
each management account, as `--profile a --profile b` would on a real machine."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_multi_org import ACCOUNTS
from textual.app import App, ComposeResult
from textual.widgets import Label, Static
from ui_support import FAST, SIZE, TODAY, GatedClient, crawled, wait_for

from orgtree_tui.aws import OrgClient
from orgtree_tui.cache import store as cache
from orgtree_tui.cli import parse_args
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.forest import Forest
from orgtree_tui.locations import CACHE_DIR_ENV
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType
from orgtree_tui.source import Source, open_connection
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.launch import app_for_options, make_app
from orgtree_tui.ui.screens.error import ErrorScreen
from orgtree_tui.ui.screens.profile_picker import ProfilePicker
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.widgets.org_tree import OrgTreeView


def app_on(*argv: str, cache_on: bool = False) -> OrgTreeApp:
    """The app as the CLI makes it; `cache_on`: with the cache, the default."""
    app = app_for_options(parse_args([*argv] if cache_on else [*argv, "--no-cache"]))
    app.controller.clock = lambda: 0.0
    app.main.today = lambda: TODAY
    return app


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv(CACHE_DIR_ENV, str(home))
    return home


def roots_shown(app: OrgTreeApp) -> set[str]:
    return {tn.data for tn in app.main.org_tree.root.children if tn.data is not None}


def notes(app: OrgTreeApp) -> list[str]:
    # The toasts, and the copy's note (what `y`, `Y` and `o` copied shows there).
    toasts = [n.message for n in app._notifications]  # type: ignore[attr-defined]
    return toasts + app.main.copied.said


async def test_each_organization_is_its_own_top_level_node(
    orgs: dict[str, str], tmp_path: Path
) -> None:
    app = app_on("--profile", "org-a", "--profile", "org-b")
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.controller.state == "complete"
        tops = [tn for tn in app.main.org_tree.root.children]
        assert len(tops) == 2
        for tn, profile in zip(tops, ("org-a", "org-b"), strict=True):
            assert f"{orgs[profile]} (profile {profile})" in str(tn.label)
        lines = app.main.status_bar.text.plain.splitlines()
        assert len(lines) == 2
        assert "profile org-a" in lines[0] and "complete" in lines[0]
        assert "profile org-b" in lines[1] and "complete" in lines[1]
        assert app.sub_title.startswith("2 organizations")

        # Export org-b's tree from the dialog: the file names org-b's organization.
        second = tops[1]
        app.main.org_tree.move_cursor(second)
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


@pytest.mark.parametrize("cache_on", [False, True], ids=["no-cache", "cache"])
async def test_the_profile_picker_crawls_the_profiles_picked(
    orgs: dict[str, str], cache_home: Path, cache_on: bool
) -> None:
    app = app_on("--profile", "org-a", cache_on=cache_on)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert [s.profile for s in app.controller.slots] == ["org-a"]
        await pilot.press("P")
        picker = app.screen
        assert isinstance(picker, ProfilePicker)
        assert picker.profiles == ["base", "no-org", "org-a", "org-b"]  # config + credentials
        # org-a is picked already: move to org-b and pick it too.
        await pilot.press("down", "down", "down", "space", "ctrl+s")
        await wait_for(pilot, lambda: len(app.controller.slots) == 2)
        await crawled(pilot)
        assert [s.state for s in app.controller.slots] == ["complete", "complete"]
        assert [s.profile for s in app.controller.slots] == ["org-a", "org-b"]
        assert {r.id for r in app.main.model.roots()} == {
            s.tree.roots()[0].id for s in app.controller.slots
        }
        assert {s.tree.organization.id for s in app.controller.slots if s.tree.organization} == {
            orgs["org-a"],
            orgs["org-b"],
        }


async def test_console_link_is_copied_and_shown_without_a_browser(
    orgs: dict[str, str],
) -> None:
    app = app_on("--profile", "org-a")
    opened: list[str] = []
    app.main.browser_available = lambda: False  # type: ignore[method-assign]
    app.main.open_browser = lambda url: bool(opened.append(url))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        member = next(n for n in app.main.model.nodes() if n.name == "member")
        assert app.main.org_tree.reveal(member.id)
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

    app.main.browser_available = lambda: True  # type: ignore[method-assign]
    app.main.open_browser = open_browser  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        root = app.main.model.roots()[0]
        assert app.main.org_tree.reveal(root.id)
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
        bar = app.main.status_bar
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


async def test_a_profile_picked_with_the_cache_on_is_crawled_at_once(
    orgs: dict[str, str], cache_home: Path
) -> None:
    """The default path: the cache is on, and the one profile picked has no cache yet."""
    app = app_on("--profile", "org-a", cache_on=True)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("P")
        assert isinstance(app.screen, ProfilePicker)
        # Un-pick org-a, pick org-b: one organization, crawled in org-a's place.
        await pilot.press("down", "down", "space", "down", "space", "ctrl+s")
        await wait_for(pilot, lambda: [s.profile for s in app.controller.slots] == ["org-b"])
        await crawled(pilot)  # no r pressed
        assert app.controller.state == "complete", app.main.status_bar.text.plain
        org = app.controller.slots[0].tree.organization
        assert org is not None and org.id == orgs["org-b"]


async def test_a_cache_load_still_running_when_profiles_switch_is_dropped(
    orgs: dict[str, str], cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """org-a's cached tree is still being read when org-b replaces org-a: it must never
    show, under org-b's label or anywhere."""
    first = app_on("--profile", "org-a", cache_on=True)
    async with first.run_test(size=SIZE) as pilot:  # an earlier session cached org-a
        await crawled(pilot)
        await wait_for(pilot, lambda: cache.load("profile org-a").cached is not None)
        org_a_root = first.main.model.roots()[0].id
        await pilot.press("q")

    real_load = cache.load
    release, loads_done = threading.Event(), threading.Event()

    def slow_load(source: str) -> cache.LoadResult:
        if source == "profile org-a":  # a big cache file on a slow disk
            assert release.wait(10), "the test never released org-a's cache load"
            try:
                return real_load(source)
            finally:
                loads_done.set()
        return real_load(source)

    monkeypatch.setattr(cache, "load", slow_load)
    app = app_on("--profile", "org-a", cache_on=True)
    shown: list[set[str]] = []
    real_show_model = app.main.show_model

    def recording_show_model(*, placeholder: str = "") -> None:
        real_show_model(placeholder=placeholder)
        shown.append({r.id for r in app.main.model.roots()})

    app.main.show_model = recording_show_model  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.controller.state == "loading cache")
            await pilot.press("P")
            await pilot.press("down", "down", "space", "down", "space", "ctrl+s")
            await wait_for(pilot, lambda: [s.profile for s in app.controller.slots] == ["org-b"])
            await crawled(pilot)
            release.set()
            assert loads_done.wait(10), "org-a's cache load never returned"
            # Its result comes back through the worker: wait until every load has reported.
            await wait_for(
                pilot,
                lambda: all(w.is_finished for w in app.workers if w.group == "cache-load"),
            )
            await pilot.pause()
            await crawled(pilot)
            assert all(org_a_root not in roots for roots in shown), shown
            assert org_a_root not in roots_shown(app)
            assert app.controller.slots[0].shown_cache is None
            org = app.controller.slots[0].tree.organization
            assert org is not None and org.id == orgs["org-b"]
            assert app.controller.state == "complete"
    finally:
        release.set()


async def test_enter_in_the_profile_picker_crawls_what_is_picked(orgs: dict[str, str]) -> None:
    app = app_on("--profile", "org-a")
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        await pilot.press("P")
        picker = app.screen
        assert isinstance(picker, ProfilePicker)
        hints = " ".join(str(label.render()) for label in picker.query(Label))
        await pilot.press("down", "down", "down", "space", "enter")  # pick org-b, confirm
        await wait_for(pilot, lambda: not isinstance(app.screen, ProfilePicker))
        await crawled(pilot)
        assert [s.profile for s in app.controller.slots] == ["org-a", "org-b"]
        assert "space picks" in hints and "enter crawls" in hints, hints  # the keys are shown


class ExpiringClient:
    """An OrgClient whose credentials expire after its first `good` calls, until the user
    logs in again (`login` set)."""

    def __init__(self, inner: OrgClient, login: threading.Event, good: int = 3) -> None:
        self.inner, self.login, self.good = inner, login, good
        self.calls = 0
        self._lock = threading.Lock()

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            expired = self.calls > self.good and not self.login.is_set()
        if expired:
            raise ClientError(
                {"Error": {"Code": "ExpiredTokenException", "Message": "token expired"}},
                operation,
            )
        return self.inner.call(operation, **params)


def expiring_source(profile: str, login: threading.Event) -> OrgSource:
    conn = Connection(profile=profile)

    def open_source() -> Source:
        opened = open_connection(conn, workers=2)
        # No session: a resume keeps this client (it stands for the renewed credentials).
        return Source(ExpiringClient(opened.client, login), conn, conn.describe())

    options = CrawlOptions(quotas=FAST, workers=2, details=False)
    return OrgSource(open_source, conn.describe(), None, options, profile)


async def test_organizations_failing_together_share_one_error_screen_and_r_resumes_all(
    orgs: dict[str, str],
) -> None:
    login = threading.Event()
    sources = [expiring_source(p, login) for p in ("org-a", "org-b")]
    app = make_app(sources, clock=lambda: 0.0, today=lambda: TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot,
            lambda: (
                [s.state for s in app.controller.slots] == ["failed", "failed"]
                and isinstance(app.screen, ErrorScreen)
            ),
        )
        await pilot.pause()
        screens = [s for s in app.screen_stack if isinstance(s, ErrorScreen)]
        assert len(screens) == 1, screens
        text = str(screens[0].query_one("#error-message", Static).render())
        assert "profile org-a" in text and "profile org-b" in text, text
        stopped = [s.crawler for s in app.controller.slots]
        assert all(c is not None and c.resumable for c in stopped)

        login.set()  # the user ran `aws sso login`
        await pilot.press("r")
        await wait_for(
            pilot, lambda: [s.state for s in app.controller.slots] == ["complete", "complete"]
        )
        assert not any(isinstance(s, ErrorScreen) for s in app.screen_stack)
        assert [s.crawler for s in app.controller.slots] == stopped, (
            "resumed, not crawled from scratch"
        )
        found = {s.tree.organization.id for s in app.controller.slots if s.tree.organization}
        assert found == {orgs["org-a"], orgs["org-b"]}


async def test_a_root_arriving_after_its_organization_is_named(orgs: dict[str, str]) -> None:
    """DescribeOrganization answers (and is drawn) before ListRoots: the root, drawn
    later, still says which organization it is."""
    clients: list[GatedClient] = []

    def gated_source(profile: str) -> OrgSource:
        conn = Connection(profile=profile)

        def open_source() -> Source:
            opened = open_connection(conn, workers=2)
            client = GatedClient(opened.client, hold=lambda op, params: op == "ListRoots")
            clients.append(client)
            return Source(client, conn, conn.describe())

        options = CrawlOptions(quotas=FAST, workers=2, details=False)
        return OrgSource(open_source, conn.describe(), None, options, profile)

    app = make_app([gated_source(p) for p in ("org-a", "org-b")], clock=lambda: 0.0)
    try:
        async with app.run_test(size=SIZE) as pilot:
            # The header names both organizations: their news has been drawn, roots held.
            await wait_for(pilot, lambda: all(orgs[p] in app.sub_title for p in orgs))
            assert not app.main.org_tree.root.children or all(
                tn.data is None for tn in app.main.org_tree.root.children
            )
            for client in clients:
                client.release()
            await crawled(pilot)
            labels = [str(tn.label) for tn in app.main.org_tree.root.children]
            assert len(labels) == 2
            for label, profile in zip(labels, ("org-a", "org-b"), strict=True):
                assert f"{orgs[profile]} (profile {profile})" in label, labels
    finally:
        for client in clients:
            client.release()
