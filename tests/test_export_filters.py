"""`export --match/--type/--state/--tag`: what a filtered export keeps, against an
organization built by hand (tests/orgs.py) and id sets written out here."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from orgtree_tui.export import FORMATS, render
from orgtree_tui.exporters.selection import Selection
from orgtree_tui.filtering import FilterIndex
from orgtree_tui.main import main
from orgtree_tui.records import Node, NodeType
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault

from orgs import OrgBuilder


@dataclass
class Org:
    url: str
    sim: SimServer
    ids: dict[str, str]  # name -> id, every node (root "Root", the management account "mgmt")


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    """Root
    ├── Workloads (Owner=platform)
    │   ├── Prod: payments (Env=prod, Team=pay), search (Env=prod), legacy (Env=old, SUSPENDED)
    │   └── Dev: dev-payments (Env=dev, Team=pay)
    ├── Sandbox: sandbox-ana (no tags)
    ├── Empty (no children)
    └── the management account"""
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        client = sim.admin_client()
        b = OrgBuilder(client)
        workloads = b.ou("Workloads", tags={"Owner": "platform"})
        prod = b.ou("Prod", workloads)
        b.account("payments", prod, tags={"Env": "prod", "Team": "pay"})
        b.account("search", prod, tags={"Env": "prod"})
        legacy = b.account("legacy", prod, tags={"Env": "old"})
        client.close_account(AccountId=legacy)  # moto: SUSPENDED at once
        b.account("dev-payments", b.ou("Dev", workloads), tags={"Env": "dev", "Team": "pay"})
        b.account("sandbox-ana", b.ou("Sandbox"))
        b.ou("Empty")
        ids = {"Root": b.built.root_id, **b.built.ous, **b.built.accounts}
        ids["mgmt"] = client.describe_organization()["Organization"]["MasterAccountId"]
        yield Org(sim.endpoint_url, sim, ids)


def ids_of(org: Org, *names: str) -> set[str]:
    return {org.ids[n] for n in names}


def export_json(org: Org, *flags: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["export", "--endpoint-url", org.url, "--no-cache", "-q", *flags]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def tree_ids(node: dict[str, Any]) -> set[str]:
    return {node["id"]}.union(*(tree_ids(c) for c in node["children"]))


PROD_PATH = ("Root", "Workloads", "Prod")
CASES = {
    # name, tag value (Team=pay), any case: the TUI's `/` filter; ancestors kept, rest pruned
    "match-name-or-tag-value": (
        ["--match", "PAY"],
        {*PROD_PATH, "payments", "Dev", "dev-payments"},
    ),
    # a tag value on an OU: the OU matches, its children (no match) are pruned
    "match-ou-tag-value": (["--match", "platform"], {"Root", "Workloads"}),
    "match-id": (["--match", "<search>"], {*PROD_PATH, "search"}),
    "type-ou": (["--type", "ou"], {"Root", "Workloads", "Prod", "Dev", "Sandbox", "Empty"}),
    # Empty has no account below it: dropped
    "type-account": (
        ["--type", "account"],
        {
            *PROD_PATH,
            "payments",
            "search",
            "legacy",
            "Dev",
            "dev-payments",
            "Sandbox",
            "sandbox-ana",
            "mgmt",
        },
    ),
    "state": (["--state", "SUSPENDED"], {*PROD_PATH, "legacy"}),
    "states": (
        ["--state", "SUSPENDED,PENDING_CLOSURE", "--subtree", "/Root/Workloads"],
        {"Workloads", "Prod", "legacy"},
    ),
    "tag-value": (["--tag", "Env=prod"], {*PROD_PATH, "payments", "search"}),
    "tag-key-alone": (["--tag", "Team"], {*PROD_PATH, "payments", "Dev", "dev-payments"}),
    "tag-key-on-an-ou": (["--tag", "Owner"], {"Root", "Workloads"}),
    "tags-are-and": (["--tag", "Env=prod", "--tag", "Team=pay"], {*PROD_PATH, "payments"}),
    "tag-value-is-exact": (["--tag", "Env=Prod"], {"Root"}),
    "all-combined": (
        [
            "--match",
            "pay",
            "--type",
            "account",
            "--state",
            "ACTIVE",
            "--tag",
            "Env=dev",
            "--subtree",
            "/Root/Workloads",
        ],
        {"Workloads", "Dev", "dev-payments"},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_filter_keeps_the_matches_and_their_ancestors(
    org: Org, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags, kept = CASES[case]
    flags = [org.ids["search"] if f == "<search>" else f for f in flags]
    document = export_json(org, *flags, capsys=capsys)
    assert tree_ids(document["tree"]) == ids_of(org, *kept)
    assert document["complete"] is True
    assert "filter" in document


def test_the_filter_object_says_by_what_and_how_many_matched(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    document = export_json(org, "--match", "pay", "--tag", "Team", capsys=capsys)
    assert document["filter"] == {
        "match": "pay",
        "type": None,
        "state": [],
        "tag": ["Team"],
        "matches": 2,  # payments, dev-payments; the OUs above them are not matches
    }
    prod = next(c for c in document["tree"]["children"][0]["children"] if c["name"] == "Prod")
    assert [c["name"] for c in prod["children"]] == ["payments"]


def test_no_filter_no_filter_object(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    assert "filter" not in export_json(org, capsys=capsys)


def _ids_in(text: str, org: Org) -> set[str]:
    """Every node id of the org the output names (mermaid writes ou-x-y as ou_x_y), the
    organization's header lines (which name the management account) left out."""
    body = "\n".join(
        line
        for line in text.splitlines()
        if "management" not in line and "organization" not in line
    )
    return {i for i in org.ids.values() if i in body or i.replace("-", "_") in body}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_filtered_the_same(
    org: Org, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["export", "--endpoint-url", org.url, "--no-cache", "-q", "--format", fmt]
    assert main([*flags, "--tag", "Env=prod"]) == 0
    out = capsys.readouterr().out
    kept = ids_of(org, *PROD_PATH, "payments", "search")
    if fmt == "csv":
        assert {row["id"] for row in csv.DictReader(io.StringIO(out))} == kept
    elif fmt == "json":
        assert tree_ids(json.loads(out)["tree"]) == kept
    else:
        assert _ids_in(out, org) == kept


def test_counts_in_a_filtered_export_describe_what_it_holds(
    org: Org, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["export", "--endpoint-url", org.url, "--no-cache", "--format", "mermaid"]
    assert main([*flags, "--state", "SUSPENDED"]) == 0
    captured = capsys.readouterr()
    # Root, Workloads and Prod hold one account in this export: legacy
    assert re.findall(r'"(Root|Workloads|Prod) \((\d+)\)"', captured.out) == [
        ("Root", "1"),
        ("Workloads", "1"),
        ("Prod", "1"),
    ]
    assert "wrote 2 OUs and 1 account (1 match of --state SUSPENDED)" in captured.err
    assert "    %% filtered: 1 match and its ancestors" in captured.out.splitlines()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--state", "ACTIVE,BOGUS"], "unknown account state 'BOGUS'"),
        (["--state", "active"], "unknown account state 'active'"),
        (["--type", "root"], "invalid choice"),
        (["--tag", "=x"], "expected KEY=VALUE or KEY"),
        (["--match", "  "], "--match needs some text"),
        (["--type", "ou", "--state", "ACTIVE"], "cannot be combined with --type ou"),
        (["--tag", "Env", "--no-details"], "--tag needs the tags"),
        (["--policy", "FullAWSAccess", "--type", "ou"], "--policy cannot be combined"),
    ],
)
def test_bad_filters_are_usage_errors(
    flags: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["export", "--endpoint-url", "http://127.0.0.1:9", *flags])
    except SystemExit as exc:  # argparse's own checks end there
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("flag", [["--tag", "Env=prod"], ["--match", "prod"]])
def test_tags_that_failed_make_a_tag_filter_incomplete(
    org: Org, flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """One node's tags are refused: a filter that reads tags cannot say it lacks the tag
    (`--match` reads tag values)."""
    refused = []

    def deny_one(op: str) -> Fault | None:
        if op == "ListTagsForResource" and not refused:
            refused.append(op)
            return Fault.error("AccessDeniedException")
        return None

    org.sim.middleware.fault = deny_one
    try:
        flags = ["export", "--endpoint-url", org.url, "--no-cache", "-q", *flag]
        assert main(flags) == 3
        err = capsys.readouterr().err
        assert "incomplete: tags of 1 node not permitted" in err
        refused.clear()
        assert main([*flags, "--allow-incomplete"]) == 0
        document = json.loads(capsys.readouterr().out)
    finally:
        org.sim.middleware.fault = None
    assert document["complete"] is False
    assert len(document["incomplete"]["tags"]) == 1


def test_failed_tags_of_pruned_nodes_do_not_matter_to_a_state_filter() -> None:
    """build_tree (tests/test_export.py): Prod's tags are denied, most nodes' not fetched;
    a state filter reads no tags, so only the kept nodes' gaps count; a tag filter keeps
    every node's."""
    from test_export import DEVTEST, LEGACY, PROD, ROOT, WORKLOADS, build_tree

    tree = build_tree()
    suspended = Selection(states=("SUSPENDED",))
    by_state = json.loads(render(tree, WORKLOADS, "json", complete=True, selection=suspended))
    assert tree_ids(by_state["tree"]) == {WORKLOADS, PROD, LEGACY}
    assert by_state["incomplete"]["tags"] == {PROD: "denied"}
    # Dev/Test (pruned) could not be listed: a suspended account may be in it
    assert by_state["incomplete"]["structure"] == {DEVTEST: "failed"}
    assert by_state["complete"] is False
    has_owner = Selection(tags=(("owner", None),))
    by_tag = json.loads(render(tree, ROOT, "json", complete=True, selection=has_owner))
    assert len(by_tag["incomplete"]["tags"]) == 9  # every node without loaded tags
    assert by_tag["complete"] is False


def test_match_is_the_tui_filter(org: Org, capsys: pytest.CaptureFixture[str]) -> None:
    """The same text through the TUI's FilterIndex over the whole crawled tree: its matches
    and their ancestors are what the export keeps."""
    document = export_json(org, "--match", "ro", capsys=capsys)
    full = export_json(org, capsys=capsys)
    index = FilterIndex()

    def add(node: dict[str, Any], parent: str | None) -> None:
        kind = NodeType(node["type"])
        fields = Node(node["id"], kind, node["name"], node["arn"], parent, node.get("email"))
        index.add(fields, node["tags"])
        for child in node["children"]:
            add(child, node["id"])

    add(full["tree"], None)
    assert tree_ids(document["tree"]) == index.query("ro").shown()


def test_a_grouped_export_filters_each_organization() -> None:
    from test_export import LEGACY, PROD, ROOT, WORKLOADS, build_tree

    from orgtree_tui.export import Part, render_grouped

    suspended = Selection(states=("SUSPENDED",))
    parts = [Part(build_tree(), ROOT, selection=suspended), Part(build_tree(), WORKLOADS)]
    first, second = json.loads(render_grouped(parts, "json"))["organizations"]
    assert tree_ids(first["tree"]) == {ROOT, WORKLOADS, PROD, LEGACY}
    assert first["filter"]["matches"] == 1
    assert "filter" not in second and len(tree_ids(second["tree"])) == 8
