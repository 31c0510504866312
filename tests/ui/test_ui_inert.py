"""Names are data: escape sequences, control characters and Rich markup in OU and account
names and tag values show literally in the tree, the details pane and the status bar."""

from __future__ import annotations

import os
from typing import Any

import boto3
from rich.console import Console
from rich.text import Text
from ui_support import SIZE, SampleOrg, app_for, crawled

from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.records import Counts
from orgtree_tui.text import visible
from orgtree_tui.ui.org_slot import StatusLine
from orgtree_tui.ui.widgets.status_bar import render_status

EVIL = "\x1b[31mred\x1b[0m [bold]b[/bold] [link=https://evil.example]click[/link]\x07"
SHOWN = visible(EVIL)  # \x1b and \x07 spelled out, brackets untouched


def plain(renderable: Any) -> str:
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def no_injected_style(text: Text) -> None:
    for span in text.spans:
        style = str(span.style)
        assert "link" not in style and "red" not in style, style


async def test_evil_names_and_tags_show_literally(org: SampleOrg) -> None:
    admin = boto3.client("organizations", region_name="us-east-1")
    ou = admin.create_organizational_unit(ParentId=org.truth.root_id, Name=EVIL)
    ou_id = ou["OrganizationalUnit"]["Id"]
    created = admin.create_account(Email="evil@example.com", AccountName=EVIL)
    account_id = created["CreateAccountStatus"]["AccountId"]
    admin.move_account(
        AccountId=account_id, SourceParentId=org.truth.root_id, DestinationParentId=ou_id
    )
    admin.tag_resource(ResourceId=account_id, Tags=[{"Key": "Owner", "Value": EVIL}])

    app = app_for(org.client)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.main.org_tree.reveal(account_id)
        await pilot.pause()
        for node_id in (ou_id, account_id):
            tn = app.main.org_tree.widget_node(node_id)
            assert tn is not None
            label = tn.label
            assert isinstance(label, Text)
            assert label.plain.startswith(SHOWN)
            assert "\x1b" not in label.plain and "\x07" not in label.plain
            no_injected_style(label)

        app.main.details.show(app.main.model, account_id)
        details = plain(app.main.details.rendered)
        assert "\x1b" not in details and "\x07" not in details
        flat = " ".join(details.split())
        assert "[link=https://evil.example]click[/link]" in flat
        assert "[bold]b[/bold]" in flat
        assert flat.count("\\x1b[31mred") >= 3  # name, path and the tag value


def test_the_status_bar_shows_an_organization_name_literally() -> None:
    line = StatusLine(
        state="crawling", found=Counts(1, 2), stats=CrawlStats(), elapsed=1.0, name=EVIL
    )
    text = render_status(line)
    assert SHOWN in text.plain
    assert "\x1b" not in text.plain
    no_injected_style(text)
