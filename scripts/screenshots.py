"""Regenerate screenshots/*.svg from the real app crawling the built-in demo organization.

    python scripts/screenshots.py            # writes screenshots/*.svg

The demo runs on a local simulated endpoint with realistic latency and throttling, so the
mid-crawl shot shows the tree and the status bar while the crawl is still going. Besides the
main screens it shows a suspended account, a branch that could not be listed (a listing the
endpoint refuses), a warm start from the cache and the marks its refresh leaves after the
organization changed, the profile picker (profiles from a config file of its own) and two
organizations side by side (moto in-process: a process holds one SimServer). The cache and
the AWS config are in a temporary directory: nothing of the user's is read or written.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orgtree_tui.aws import make_client  # noqa: E402
from orgtree_tui.cache import store  # noqa: E402
from orgtree_tui.cli import parse_args  # noqa: E402
from orgtree_tui.connection import Connection  # noqa: E402
from orgtree_tui.crawl.crawler import CrawlOptions  # noqa: E402
from orgtree_tui.demo import DemoHandle, OrgSpec, build_org, seed_spec, start_demo  # noqa: E402
from orgtree_tui.identity import open_session  # noqa: E402
from orgtree_tui.locations import CACHE_DIR_ENV  # noqa: E402
from orgtree_tui.sim import Fault  # noqa: E402
from orgtree_tui.source import DEMO_CREDENTIALS, DEMO_LABEL, Source, open_demo  # noqa: E402
from orgtree_tui.ui.app import OrgTreeApp  # noqa: E402
from orgtree_tui.ui.launch import make_app, org_sources  # noqa: E402
from orgtree_tui.ui.screens.policy import PolicyPicker, PolicyScreen  # noqa: E402
from orgtree_tui.ui.sources import OrgSource  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (120, 36)
DONE = ("complete", "incomplete", "failed", "cancelled")
PROFILES = """\
[default]
region = us-east-1

[profile prod-management]
role_arn = arn:aws:iam::111111111111:role/OrgReadOnly
source_profile = default

[profile staging-management]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = OrgReadOnly

[profile sandbox-org]
role_arn = arn:aws:iam::333333333333:role/OrgReadOnly
source_profile = default

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
"""

Shots = list[Path]


def save(app: OrgTreeApp, name: str, written: Shots) -> None:
    path = OUT / f"{name}.svg"
    app.save_screenshot(filename=path.name, path=str(OUT))
    written.append(path)


def demo_source(handle: DemoHandle, label: str = DEMO_LABEL) -> Source:
    """A source on a running demo endpoint that leaves it running when closed (the
    warm-start shots crawl it twice, with a change in between)."""
    conn = Connection(
        endpoint_url=handle.endpoint_url,
        access_key=DEMO_CREDENTIALS[0],
        secret_key=DEMO_CREDENTIALS[1],
    )
    session = open_session(conn)
    client = make_client(conn, max_pool=8, session=session)
    return Source(client, conn, label, lambda: None, session=session)


def one_org(handle: DemoHandle, *, cached: bool = False) -> OrgTreeApp:
    cache_source = store.source_for(DEMO_LABEL, details=True) if cached else None
    source = OrgSource(lambda: demo_source(handle), DEMO_LABEL, cache_source, CrawlOptions())
    return make_app([source])


async def main_shots(written: Shots) -> None:
    """The crawl, the finished tree, a suspended account, the filter, the dialogs."""
    source = open_demo(workers=8)
    app = make_app(lambda: source, CrawlOptions(), pick_profiles=lambda picked: [])
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.main.model.totals().accounts >= 30, 30)
            await pilot.press("j", "j", "j", "l")  # open Sandbox while it fills in
            await pilot.pause(0.3)
            save(app, "main-mid-crawl", written)
            await until(pilot, lambda: app.controller.state in DONE, 120)
            await pilot.press("space", "k", "k", "k")
            app.main.org_tree.reveal(named(app, "Workloads"))
            await pilot.press("e")
            await pilot.pause(0.3)
            save(app, "main-complete", written)
            await pilot.press("c")
            suspended = next(n for n in app.main.model.nodes() if n.state == "SUSPENDED")
            app.main.org_tree.reveal(suspended.id)
            await pilot.pause(0.5)
            save(app, "suspended-account", written)
            await pilot.press("c", "g")
            await pilot.press("slash", *"payments", "enter")
            await pilot.pause(0.3)
            save(app, "filter", written)
            await pilot.press("escape", "x")
            await pilot.pause(0.3)
            save(app, "export-dialog", written)
            await pilot.press("escape", "question_mark")
            await pilot.pause(0.3)
            save(app, "help", written)
            await pilot.press("escape")
            await policy_shots(app, pilot, written)
            await pilot.press("P")
            await pilot.pause(0.3)
            save(app, "profile-picker", written)
            await pilot.press("escape", "q")
    finally:
        source.close()


async def policy_shots(app: OrgTreeApp, pilot: Any, written: Shots) -> None:
    """An account two OUs down: its details scrolled to the policies it inherits, then the
    policy screen of one it inherits, its document loaded."""
    model = app.main.model
    account = model.children(named(app, "Payments"))[0].id
    app.main.org_tree.reveal(account)
    pane = app.main.details

    def shown() -> str:
        return str(getattr(pane.rendered, "plain", ""))

    await until(pilot, lambda: pane.node_id == account and "inherited from" in shown(), 30)
    lines = shown().splitlines()
    scps = next(i for i, line in enumerate(lines) if line.startswith("Service control"))
    pane.scroll_to(y=scps - 1, animate=False)
    await pilot.pause(0.3)
    save(app, "details-policies", written)
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, PolicyPicker), 10)
    picker = app.screen
    assert isinstance(picker, PolicyPicker)
    names = [p.name for _, p in picker.choices]
    await pilot.press(*["down"] * names.index("RegionRestriction"), "enter")
    await until(pilot, lambda: isinstance(app.screen, PolicyScreen), 10)
    screen = app.screen
    assert isinstance(screen, PolicyScreen)
    await until(pilot, lambda: screen.document is not None and screen.reach is not None, 30)
    await pilot.pause(0.3)
    save(app, "policy", written)
    await pilot.press("escape")


async def incomplete_shot(written: Shots) -> None:
    """One OU listing refused (AccessDenied): that branch is marked, the status says so."""
    handle = start_demo()
    listings = {"n": 0}

    def refuse_one(operation: str) -> Fault | None:
        if operation == "ListOrganizationalUnitsForParent":
            listings["n"] += 1
            if listings["n"] == 4:
                return Fault.error("AccessDeniedException", message="not permitted here")
        return None

    handle.middleware.fault = refuse_one
    app = one_org(handle)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.controller.state in DONE, 120)
            flagged = sorted(app.main.model.incomplete())
            if flagged:
                app.main.org_tree.reveal(flagged[0])
            await pilot.pause(0.5)
            save(app, "incomplete-branch", written)
            await pilot.press("q")
    finally:
        handle.stop()


async def warm_start_shots(written: Shots) -> None:
    """Crawl once (cached), change the organization, start again: the cached tree at once
    with its age in the header, then the refresh's marks and what it says changed."""
    handle = start_demo()
    try:
        first = one_org(handle, cached=True)
        async with first.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: first.controller.state in DONE, 120)
            label = store.source_for(DEMO_LABEL, details=True)
            await until(pilot, lambda: store.cache_path(label).exists(), 30)
            await pilot.press("q")
        moved, renamed, added = change_the_demo(handle)
        second = one_org(handle, cached=True)
        async with second.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: second.controller.state == "refreshing", 30)
            await pilot.pause(1.0)
            save(second, "warm-start", written)
            await until(pilot, lambda: second.controller.state in DONE, 120)
            for node_id in (renamed, moved, added):
                second.main.org_tree.reveal(node_id)
            await pilot.pause(0.5)
            save(second, "refresh-marks", written)
            await pilot.press("q")
    finally:
        handle.stop()


def change_the_demo(handle: DemoHandle) -> tuple[str, str, str]:
    """Between two sessions: an account moved, an OU renamed, an account added."""
    admin: Any = handle.admin_client()
    truth = handle.truth
    ou_id = {n.name: i for i, n in truth.nodes.items() if n.type == "ORGANIZATIONAL_UNIT"}
    security, staging = ou_id["Security"], ou_id["Policy Staging"]  # an empty OU: short
    moved = admin.list_accounts_for_parent(ParentId=security)["Accounts"][0]["Id"]
    admin.move_account(AccountId=moved, SourceParentId=security, DestinationParentId=staging)
    admin.update_organizational_unit(OrganizationalUnitId=ou_id["Suspended"], Name="Closed")
    created = admin.create_account(Email="newcomer@example.com", AccountName="newcomer")
    added = created["CreateAccountStatus"]["AccountId"]
    return moved, ou_id["Suspended"], added


async def several_orgs_shot(written: Shots, tmp: Path) -> None:
    """`--profile prod-management --profile sandbox-org`: two organizations, each reached by
    assuming a role in its management account (moto in-process keeps the accounts apart;
    one SimServer per process holds one). One root and one status line each."""
    import boto3
    from moto import mock_aws

    creds = tmp / "credentials"
    creds.write_text("[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(creds)
    specs = {
        "111111111111": replace(seed_spec(), accounts=40, ous=8, depth=3, wide_parent_accounts=0),
        "333333333333": OrgSpec(accounts=14, ous=4, depth=2, seed=3),
    }
    with mock_aws():
        for account, spec in specs.items():
            role = f"arn:aws:iam::{account}:role/OrgReadOnly"
            sts = boto3.client("sts", region_name="us-east-1")
            given = sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
            client = boto3.client(
                "organizations",
                region_name="us-east-1",
                aws_access_key_id=given["AccessKeyId"],
                aws_secret_access_key=given["SecretAccessKey"],
                aws_session_token=given["SessionToken"],
            )
            build_org(client, spec)
        options = parse_args(["--profile", "prod-management", "--profile", "sandbox-org"])
        app = make_app(org_sources(replace(options, cache=False)))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.controller.state in DONE, 120)
            await pilot.press("g")  # the first organization's root, and its details
            await pilot.pause(0.5)
            save(app, "several-organizations", written)
            await pilot.press("q")


def named(app: OrgTreeApp, name: str) -> str:
    return next(n.id for n in app.main.model.nodes() if n.name == name and not n.is_account)


async def until(pilot: Any, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the demo took too long")
        await pilot.pause(0.1)


async def shoot() -> Shots:
    written: Shots = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[CACHE_DIR_ENV] = str(Path(tmp) / "cache")
        config = Path(tmp) / "config"
        config.write_text(PROFILES)
        os.environ["AWS_CONFIG_FILE"] = str(config)
        await main_shots(written)
        await incomplete_shot(written)
        await warm_start_shots(written)
        await several_orgs_shot(written, Path(tmp))
    return written


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for path in asyncio.run(shoot()):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
