"""Policies on screen (issue 13 items 5-7): the details pane's per-type sections (attached
here, inherited from which ancestor, SCPs and RCPs level by level from the root), delegated
administrators, the root's organization facts; the policy screen (document on demand,
reach, filtering the tree to it). Expectations are written out by hand from `policy_org`
(tests/orgs.py): Root / Workloads / Prod / app-prod and Security / audit."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError
from rich.console import Console
from textual.widgets import OptionList
from ui_support import SIZE, GatedClient, app_for, crawled, shown_ids, wait_for

from orgtree_tui.aws import OrgClient
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.screens.policy import PolicyPicker, PolicyScreen

from orgs import PolicyOrg, policy_org

SCP_CHAIN = """\
inherited from Root
  DenyLeave
  FullAWSAccess (AWS managed)
inherited from Workloads
  DenyRegions
  FullAWSAccess (AWS managed)
inherited from Prod
  FullAWSAccess (AWS managed)
attached here
  DenyIam
  FullAWSAccess (AWS managed)"""

RCP_CHAIN = """\
inherited from Root
  RCPFullAWSAccess (AWS managed)
inherited from Workloads
  RCPFullAWSAccess (AWS managed)
  RcpNoPublic
inherited from Prod
  RCPFullAWSAccess (AWS managed)
attached here
  RCPFullAWSAccess (AWS managed)"""


class Faulty:
    """moto's answers, except where `fault(operation, params)` returns an error to raise."""

    def __init__(self) -> None:
        self.inner = OrgClient(boto3.client("organizations", region_name="us-east-1"))
        self.fault: Any = lambda op, params: None

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        answer = self.fault(operation, params)
        if answer is not None:
            raise answer
        return self.inner.call(operation, **params)


def error(code: str, operation: str) -> ClientError:
    failure: Any = {"Error": {"Code": code, "Message": code}}
    failure["ResponseMetadata"] = {"HTTPStatusCode": 400}
    return ClientError(failure, operation)


def plain(renderable: Any) -> str:
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def section(text: str, heading: str) -> str:
    """The lines under `heading` (after its note line, if folded) up to the blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    body = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        body.append(line.rstrip())
    if body and body[0].startswith("root first"):
        body = body[1:]  # the heading's note, folded onto a line of its own
    return "\n".join(body)


async def _details_of(pilot: Any, app: OrgTreeApp, node_id: str, needle: str) -> str:
    assert app.main.org_tree.reveal(node_id)
    pane = app.main.details
    await wait_for(pilot, lambda: pane.node_id == node_id and needle in pane.rendered.plain)
    return str(pane.rendered.plain)


async def test_an_account_shows_each_type_attached_and_inherited_by_ancestor_name(
    moto_client: Any,
) -> None:
    org = policy_org(moto_client)
    app = app_for(moto_client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        app_prod = org.built.accounts["app-prod"]
        text = await _details_of(pilot, app, app_prod, "DenyIam")
        # Two levels down, it inherits DenyRegions from Workloads, by name, root first.
        assert section(text, "Service control policies") == SCP_CHAIN
        assert section(text, "Resource control policies") == RCP_CHAIN
        assert (
            section(text, "Tag policies")
            == "attached here\n  none\ninherited from Prod\n  CostCenter"
        )
        assert section(text, "AI services opt-out policies") == (
            "attached here\n  NoAi\ninherited\n  none"
        )
        assert "Backup policies" not in text  # not enabled on the root: no section
        assert "Delegated administrator" not in text  # app-prod is none
        # SCPs first, then RCPs, then the management types.
        order = [text.index(h) for h in ("Service control", "Resource control", "AI services")]
        assert order == sorted(order)


async def test_a_delegated_administrator_shows_its_services(moto_client: Any) -> None:
    org = policy_org(moto_client)
    app = app_for(moto_client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        text = await _details_of(pilot, app, org.admin, "Delegated administrator")
        assert section(text, "Delegated administrator") == (
            "for  access-analyzer.amazonaws.com\n     guardduty.amazonaws.com"
        )


async def test_the_root_shows_the_organization(moto_client: Any) -> None:
    org = policy_org(moto_client)
    app = app_for(moto_client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        text = await _details_of(pilot, app, org.built.root_id, "Organization")
        assert section(text, "Organization") == "\n".join(
            [
                "Feature set",
                "  all features",
                "Policy types",
                "  AI opt-out: enabled",
                "  RCPs: enabled",
                "  SCPs: enabled",
                "  tag policies: enabled",
                "Delegated administrators",
                f"  audit ({org.admin})",
                "    access-analyzer.amazonaws.com",
                "    guardduty.amazonaws.com",
                "Trusted services",
                "  config.amazonaws.com",
            ]
        )
        # A root inherits nothing: its own attachments only.
        assert section(text, "Tag policies") == "attached here\n  none"


async def test_refused_calls_say_not_permitted_never_none(moto_client: Any) -> None:
    org = policy_org(moto_client)
    client = Faulty()
    refused = {
        "ListDelegatedAdministrators",
        "ListAWSServiceAccessForOrganization",
    }

    def fault(operation: str, params: dict[str, Any]) -> Exception | None:
        tag_policies = operation == "ListPolicies" and params.get("Filter") == "TAG_POLICY"
        if operation in refused or tag_policies:
            return error("AccessDeniedException", operation)
        return None

    client.fault = fault
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        root = await _details_of(pilot, app, org.built.root_id, "Trusted services")
        organization = section(root, "Organization")
        assert "Delegated administrators\n  not permitted\n" in organization, organization
        assert organization.endswith("Trusted services\n  not permitted"), organization
        app_prod = org.built.accounts["app-prod"]
        text = await _details_of(pilot, app, app_prod, "DenyIam")
        tags = section(text, "Tag policies")
        assert "not permitted" in tags and "none" not in tags, tags
        assert section(text, "Service control policies") == SCP_CHAIN  # the rest is whole
        audit = await _details_of(pilot, app, org.admin, "Delegated administrator")
        assert section(audit, "Delegated administrator") == "  not known (not permitted)"


async def test_a_consolidated_billing_organization_says_so(moto_client: Any) -> None:
    moto_client.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    moto_client.create_account(Email="a@example.com", AccountName="a")
    app = app_for(moto_client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        root_id = app.main.model.roots()[0].id
        text = await _details_of(pilot, app, root_id, "Feature set")
        assert "Feature set\n  consolidated billing only (no policies)\n" in text
        assert section(text, "Policies").startswith("  none: the organization has consolidated")
        assert "Service control policies" not in text


async def _open_from_picker(pilot: Any, app: OrgTreeApp, node_id: str, name: str) -> PolicyScreen:
    assert app.main.org_tree.reveal(node_id)
    await wait_for(pilot, lambda: app.main.org_tree.cursor_id == node_id)
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, PolicyPicker))
    picker = app.screen
    assert isinstance(picker, PolicyPicker)
    names = [p.name for _, p in picker.choices]
    for _ in range(names.index(name)):
        await pilot.press("down")
    await wait_for(pilot, lambda: picker.query_one(OptionList).highlighted == names.index(name))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen))
    screen = app.screen
    assert isinstance(screen, PolicyScreen)
    return screen


def _ids(org: PolicyOrg, *names: str) -> set[str]:
    b = org.built
    return {b.root_id if n == "Root" else b.ous.get(n) or b.accounts[n] for n in names}


async def test_the_policy_screen_shows_document_and_reach_and_filters_to_it(
    moto_client: Any,
) -> None:
    org = policy_org(moto_client)
    # DescribePolicy waits for the test: the screen shows "loading..." until it answers.
    client = GatedClient(OrgClient(moto_client), hold=lambda op, params: op == "DescribePolicy")
    app = app_for(client)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await crawled(pilot)
            app_prod = org.built.accounts["app-prod"]
            # The node's policies, every type, each once: attached here or where from.
            assert app.main.org_tree.reveal(app_prod)
            await wait_for(pilot, lambda: app.main.org_tree.cursor_id == app_prod)
            await pilot.press("a")
            await wait_for(pilot, lambda: isinstance(app.screen, PolicyPicker))
            picker = app.screen
            assert isinstance(picker, PolicyPicker)
            labels = [label.plain for label, _ in picker.choices]
            assert "DenyRegions  Service control policies · from Workloads" in labels
            assert "CostCenter  Tag policies · from Prod" in labels
            assert "DenyIam  Service control policies · attached here" in labels
            await pilot.press("escape")

            screen = await _open_from_picker(pilot, app, app_prod, "DenyRegions")
            await wait_for(pilot, lambda: screen.reach is not None)
            head = plain(screen.shown_head)
            assert "Type         Service control policy (SERVICE_CONTROL_POLICY)" in head
            assert "AWS managed  no" in head
            assert "Description  DenyRegions (test)" in head
            assert "Applies to   1 account (3 nodes, attached or inherited)" in head
            assert "Attached to  /Root/Workloads" in head
            assert "loading..." in plain(screen.shown_document)
            client.release()
            await wait_for(pilot, lambda: '"ec2:*"' in plain(screen.shown_document))
            assert '"Effect": "Deny"' in plain(screen.shown_document)

            await pilot.press("f")
            await wait_for(pilot, lambda: app.screen is app.main)
            want = _ids(org, "Root", "Workloads", "Prod", "app-prod")
            await wait_for(pilot, lambda: shown_ids(app) == want)
            await pilot.press("escape")  # clears it, as after /
            await wait_for(pilot, lambda: _ids(org, "Security") <= shown_ids(app))
            assert not app.main.filter.text
    finally:
        client.release()


async def test_a_refused_document_says_why(moto_client: Any) -> None:
    org = policy_org(moto_client)
    client = Faulty()
    client.fault = lambda op, params: (
        error("AccessDeniedException", op) if op == "DescribePolicy" else None
    )
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        screen = await _open_from_picker(pilot, app, org.built.accounts["app-prod"], "DenyIam")
        await wait_for(pilot, lambda: "not permitted" in plain(screen.shown_document))
        assert "DescribePolicy was refused" in plain(screen.shown_document)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main)


async def test_the_palette_has_a_command_per_policy(moto_client: Any) -> None:
    org = policy_org(moto_client)
    app = app_for(moto_client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.main)}
        policies = sorted(t for t in commands if t.startswith("Policy: "))
        assert policies == [
            "Policy: CostCenter",
            "Policy: DenyIam",
            "Policy: DenyLeave",
            "Policy: DenyRegions",
            "Policy: FullAWSAccess",
            "Policy: NoAi",
            "Policy: RCPFullAWSAccess",
            "Policy: RcpNoPublic",
        ]
        commands["Policy: CostCenter"].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, PolicyScreen))
        screen = app.screen
        assert isinstance(screen, PolicyScreen)
        await wait_for(pilot, lambda: screen.reach is not None)
        head = plain(screen.shown_head)
        assert "Applies to   1 account (2 nodes, attached or inherited)" in head
        assert "Attached to  /Root/Workloads/Prod" in head
        assert screen.policy.id == org.policies["CostCenter"]
        # Opened with the cursor on the root, which it does not apply to: the cursor goes
        # to the first node it does.
        await pilot.press("f")
        await wait_for(pilot, lambda: app.screen is app.main)
        want = _ids(org, "Root", "Workloads", "Prod", "app-prod")
        await wait_for(pilot, lambda: shown_ids(app) == want)
        assert app.main.org_tree.cursor_id == org.built.ous["Prod"]
        await wait_for(pilot, lambda: app.main.details.node_id == org.built.ous["Prod"])
