"""Subtree export: the six formats (golden files), their escaping, and safe file writing.

Regenerate the golden files with `UPDATE_GOLDEN=1 pytest tests/test_export.py`, then read
the diff: the goldens are the specification, not a recording.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgtree_tui import export
from orgtree_tui.export import (
    FORMATS,
    ExportError,
    ExportResult,
    check_destination,
    default_filename,
    export_subtree,
    render,
    write_atomic,
)
from orgtree_tui.model import OrgTree
from orgtree_tui.records import DetailState, Node, NodeType, Organization, Policy

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

ROOT = "r-ab12"
WORKLOADS = "ou-ab12-wkl00001"
PROD = "ou-ab12-prd00001"
ZURICH = "ou-ab12-zrh00001"
DEVTEST = "ou-ab12-dev00001"
PAYMENTS = "444444444444"
LEGACY = "555555555555"
EVIL = "666666666666"
SANDBOX = "777777777777"

EVIL_NAME = "evil\x1b[31mred\x1b[0m"
QUOTED_NAME = 'Payments "core" <v2> & #1'
UNICODE_NAME = "Zürich 生产"

JOINED = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def _ou(node_id: str, name: str, parent: str) -> Node:
    arn = f"arn:aws:organizations::111111111111:ou/o-exampleorg/{node_id}"
    return Node(node_id, NodeType.ORGANIZATIONAL_UNIT, name, arn, parent)


def _account(
    node_id: str, name: str, parent: str, state: str = "ACTIVE", joined: datetime | None = JOINED
) -> Node:
    return Node(
        node_id,
        NodeType.ACCOUNT,
        name,
        f"arn:aws:organizations::111111111111:account/o-exampleorg/{node_id}",
        parent,
        email=f"aws+{node_id}@example.com",
        state=state,
        joined_method="CREATED",
        joined_timestamp=joined,
    )


def build_tree() -> OrgTree:
    """Root > Workloads > Prod > Zürich is three OUs deep; Workloads is the exported subtree."""
    t = OrgTree()
    t.set_organization(
        Organization(
            "o-exampleorg", "arn:aws:organizations::111111111111:organization/o-x", "1" * 12
        )
    )
    t.add(Node(ROOT, NodeType.ROOT, "Root", f"arn:aws:organizations::1:root/o-x/{ROOT}", None))
    t.add(_ou("ou-ab12-sec00001", "Security", ROOT))
    t.add(_account("222222222222", "Audit", "ou-ab12-sec00001"))
    t.add(_account("111111111111", "Management", ROOT))
    t.add(_ou(WORKLOADS, "Workloads", ROOT))
    t.add(_ou(PROD, "Prod", WORKLOADS))
    t.add(_ou(ZURICH, UNICODE_NAME, PROD))
    t.add(_account(PAYMENTS, QUOTED_NAME, ZURICH))
    t.add(_account(LEGACY, "Legacy", PROD, state="SUSPENDED"))
    t.add(_ou(DEVTEST, "Dev/Test", WORKLOADS))
    t.add(_account(EVIL, EVIL_NAME, DEVTEST, joined=None))
    t.add(_account(SANDBOX, "sandbox", WORKLOADS))

    t.set_tags(WORKLOADS, {"team": "platform", "cost-center": "42"})
    t.set_policies(
        WORKLOADS, (Policy("p-bbbb2222", "FullAWSAccess"), Policy("p-aaaa1111", "DenyRegions"))
    )
    t.set_tags_state(PROD, DetailState.DENIED)
    t.set_policies(PROD, ())
    t.set_tags(PAYMENTS, {"owner": "ops", "Name": 'payments "core"'})
    t.set_policies_state(PAYMENTS, DetailState.FAILED)
    t.set_tags(LEGACY, {})
    t.mark_incomplete(DEVTEST, "AccessDenied")
    return t


@pytest.fixture
def tree() -> OrgTree:
    return build_tree()


def subtree_ids(tree: OrgTree, root_id: str = WORKLOADS) -> list[str]:
    return [n.id for n in tree.walk(root_id)]


# -- golden files --------------------------------------------------------------------

GOLDEN_FILES = {fmt: f"workloads.{export.EXTENSIONS[fmt]}" for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden(tree: OrgTree, fmt: str) -> None:
    got = render(tree, WORKLOADS, fmt, complete=True)
    golden = GOLDEN / GOLDEN_FILES[fmt]
    if UPDATE:
        golden.write_text(got, encoding="utf-8", newline="")
    # newline="" keeps the CSV's CRLF: the line ending is part of the format.
    with golden.open(encoding="utf-8", newline="") as fh:
        assert fh.read() == got


def test_renders_are_deterministic_regardless_of_insertion_order() -> None:
    a = build_tree()
    b = OrgTree()
    b.set_organization(a.organization)  # type: ignore[arg-type]
    for node in reversed(a.nodes()):
        b.add(node)
    for node in a.nodes():
        d = a.details(node.id)
        if d.tags_state is DetailState.LOADED:
            b.set_tags(node.id, dict(reversed(list((d.tags or {}).items()))))
        else:
            b.set_tags_state(node.id, d.tags_state)
        if d.policies_state is DetailState.LOADED:
            b.set_policies(node.id, tuple(reversed(d.policies or ())))
        else:
            b.set_policies_state(node.id, d.policies_state)
    for node_id in a.incomplete():
        b.mark_incomplete(node_id, "x")
    for fmt in FORMATS:
        assert render(a, ROOT, fmt, complete=True) == render(b, ROOT, fmt, complete=True)


# -- JSON ----------------------------------------------------------------------------

BASE_KEYS = ["id", "type", "name", "arn", "path", "tags", "policies", "children"]
ACCOUNT_KEYS = ["email", "state", "joined_method", "joined_timestamp"]


def _nodes(doc_node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [doc_node]
    for child in doc_node["children"]:
        out.extend(_nodes(child))
    return out


def test_json_schema_keys_are_exact(tree: OrgTree) -> None:
    doc = json.loads(render(tree, WORKLOADS, "json", complete=True))
    assert list(doc) == [
        "format",
        "organization",
        "complete",
        "incomplete",
        "incomplete_branches",
        "tree",
    ]
    assert doc["format"] == "orgtree-tui/2"
    # A tree from before policy types were read: none of the organization's facts known.
    assert doc["organization"] == {
        "id": "o-exampleorg",
        "management_account_id": "1" * 12,
        "feature_set": None,
        "policy_types": None,
        "delegated_administrators": None,
        "trusted_services": None,
    }
    assert doc["complete"] is False  # Dev/Test could not be listed
    assert doc["incomplete_branches"] == [DEVTEST]
    # build_tree() set these by hand: tags of Prod refused, SCPs of payments failed, and
    # nothing at all for the others (so "not fetched"), in export order.
    assert doc["incomplete"] == {
        "structure": {DEVTEST: "failed"},
        "tags": {
            PROD: "denied",
            ZURICH: "not fetched",
            DEVTEST: "not fetched",
            EVIL: "not fetched",
            SANDBOX: "not fetched",
        },
        "policies": {
            ZURICH: "not fetched",
            PAYMENTS: "failed",
            LEGACY: "not fetched",
            DEVTEST: "not fetched",
            EVIL: "not fetched",
            SANDBOX: "not fetched",
        },
        "policy_targets": {},
        "organization": {},
    }

    nodes = _nodes(doc["tree"])
    assert [n["id"] for n in nodes] == subtree_ids(tree)
    for n in nodes:
        expected = set(BASE_KEYS)
        if n["type"] == "ACCOUNT":
            expected |= set(ACCOUNT_KEYS)
        details = tree.details(str(n["id"]))
        if details.tags_state is not DetailState.LOADED:
            expected.add("tags_state")
            assert n["tags"] == {}
            assert n["tags_state"] == details.tags_state.value
        if details.policies_state is not DetailState.LOADED:
            # /2: a type not known is null (and listed under "incomplete"), not [].
            assert n["policies"] == {"SERVICE_CONTROL_POLICY": None}
        if tree.is_incomplete(str(n["id"])):
            expected.add("incomplete")
            assert n["incomplete"] is True
        assert set(n) == expected, n["id"]
        assert n["path"] == tree.path(str(n["id"]))
        assert n["type"] in {"ROOT", "ORGANIZATIONAL_UNIT", "ACCOUNT"}


def test_json_values(tree: OrgTree) -> None:
    doc = json.loads(render(tree, WORKLOADS, "json", complete=True))
    by_id = {n["id"]: n for n in _nodes(doc["tree"])}
    assert by_id[WORKLOADS]["tags"] == {"cost-center": "42", "team": "platform"}
    assert list(by_id[WORKLOADS]["tags"]) == ["cost-center", "team"]  # sorted keys
    # /2: keyed by type; the root's SCPs were never set, so what is inherited is unknown.
    assert by_id[WORKLOADS]["policies"] == {
        "SERVICE_CONTROL_POLICY": {
            "attached": [
                {"id": "p-aaaa1111", "name": "DenyRegions", "aws_managed": False},
                {"id": "p-bbbb2222", "name": "FullAWSAccess", "aws_managed": False},
            ],
            "inherited": None,
        }
    }
    assert by_id[PROD]["tags_state"] == "not permitted"
    # loaded and empty is not "unknown"
    assert by_id[PROD]["policies"] == {
        "SERVICE_CONTROL_POLICY": {"attached": [], "inherited": None}
    }
    assert "policies_state" not in by_id[PROD]
    assert by_id[PAYMENTS]["policies"] == {"SERVICE_CONTROL_POLICY": None}  # failed
    assert by_id[PAYMENTS]["name"] == QUOTED_NAME
    assert by_id[ZURICH]["name"] == UNICODE_NAME
    assert by_id[EVIL]["name"] == EVIL_NAME  # JSON keeps the exact name, escaped by JSON
    assert by_id[EVIL]["joined_timestamp"] is None
    assert by_id[LEGACY]["joined_timestamp"] == "2021-03-04T05:06:07+00:00"
    assert datetime.fromisoformat(by_id[LEGACY]["joined_timestamp"]) == JOINED
    assert by_id[LEGACY]["state"] == "SUSPENDED"
    assert by_id[DEVTEST]["path"] == "/Root/Workloads/Dev\\/Test"


def test_json_complete_only_when_crawl_finished_and_nothing_incomplete(tree: OrgTree) -> None:
    def complete(t: OrgTree, flag: bool) -> bool:
        return bool(json.loads(render(t, WORKLOADS, "json", complete=flag))["complete"])

    assert complete(tree, True) is False
    tree.clear_incomplete(DEVTEST)
    assert complete(tree, True) is False  # tags and SCPs are still missing
    for node_id in subtree_ids(tree):
        tree.set_tags(node_id, {})
        tree.set_policies(node_id, ())
    assert complete(tree, True) is True
    assert complete(tree, False) is False
    # An incomplete branch outside the subtree does not count against it.
    tree.mark_incomplete("ou-ab12-sec00001", "x")
    assert complete(tree, True) is True


def test_json_is_pretty_utf8_with_trailing_newline(tree: OrgTree) -> None:
    text = render(tree, WORKLOADS, "json", complete=True)
    assert text.endswith("}\n")
    assert '\n  "tree": {' in text
    assert UNICODE_NAME in text  # ensure_ascii=False
    assert "\x1b" not in text  # JSON itself escapes control characters


# -- CSV -----------------------------------------------------------------------------

CSV_HEADER = [
    "id",
    "type",
    "name",
    "parent_id",
    "path",
    "email",
    "state",
    "joined_method",
    "joined_timestamp",
    "tags",
    "policies",
    "incomplete",
    "tags_state",
    "policies_state",
    # One pair per policy type enabled on the root: SCPs alone for build_tree()'s tree.
    "service_control_policy_attached",
    "service_control_policy_inherited",
]


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_reads_back_one_row_per_node(tree: OrgTree) -> None:
    rows = read_csv(render(tree, WORKLOADS, "csv", complete=True))
    assert rows[0] == CSV_HEADER
    records = [dict(zip(CSV_HEADER, r, strict=True)) for r in rows[1:]]
    assert [r["id"] for r in records] == subtree_ids(tree)
    for r in records:
        node = tree.get(r["id"])
        assert node is not None
        assert r["name"] == node.name
        assert r["type"] == node.type.value
        assert r["parent_id"] == node.parent_id
        assert r["path"] == tree.path(node.id)
    by_id = {r["id"]: r for r in records}
    assert json.loads(by_id[WORKLOADS]["tags"]) == {"cost-center": "42", "team": "platform"}
    assert by_id[WORKLOADS]["tags"] == '{"cost-center": "42", "team": "platform"}'
    assert by_id[WORKLOADS]["policies"] == "DenyRegions;FullAWSAccess"
    assert by_id[PROD]["tags"] == ""  # not permitted: unknown, not "none"
    assert by_id[LEGACY]["tags"] == "{}"  # loaded and empty
    assert by_id[LEGACY]["state"] == "SUSPENDED"
    assert by_id[LEGACY]["joined_timestamp"] == "2021-03-04T05:06:07+00:00"
    assert by_id[EVIL]["joined_timestamp"] == ""
    assert by_id[DEVTEST]["incomplete"] == "yes"
    assert [r["id"] for r in records if r["incomplete"]] == [DEVTEST]
    # Why a tags or policies cell is empty: the states build_tree() set by hand.
    assert (by_id[PROD]["tags_state"], by_id[PROD]["policies_state"]) == ("denied", "")
    assert by_id[PAYMENTS]["policies_state"] == "failed"
    assert by_id[SANDBOX]["tags_state"] == by_id[SANDBOX]["policies_state"] == "not fetched"
    assert (by_id[WORKLOADS]["tags_state"], by_id[WORKLOADS]["policies_state"]) == ("", "")
    # Per type: attached as a JSON list; inherited unknown (the root's SCPs were never set).
    assert by_id[WORKLOADS]["service_control_policy_attached"] == '["DenyRegions", "FullAWSAccess"]'
    assert by_id[WORKLOADS]["service_control_policy_inherited"] == ""
    assert by_id[PROD]["service_control_policy_attached"] == "[]"
    assert by_id[PAYMENTS]["service_control_policy_attached"] == ""  # failed: unknown


def test_csv_uses_crlf_like_spreadsheets_expect(tree: OrgTree) -> None:
    text = render(tree, WORKLOADS, "csv", complete=True)
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    assert text.count("\r\n") == len(subtree_ids(tree)) + 1


# -- text ----------------------------------------------------------------------------


def test_text_tree_shape_and_markers(tree: OrgTree) -> None:
    header, *lines, note = render(tree, WORKLOADS, "text", complete=True).splitlines()
    assert header == "# organization o-exampleorg (management account 111111111111)"
    assert note == (
        "(incomplete: children of 1 branch failed; tags of 1 node not permitted;"
        " tags of 4 nodes not fetched; policies of 1 node failed;"
        " policies of 5 nodes not fetched)"
    )
    assert lines[0] == f"Workloads ({WORKLOADS})"
    assert len(lines) == len(subtree_ids(tree))
    assert lines[-1] == f"└── sandbox ({SANDBOX})"
    assert f"│   ├── Legacy ({LEGACY}) [SUSPENDED]" not in lines  # Legacy is Prod's last child
    assert f"│   └── Legacy ({LEGACY}) [SUSPENDED]" in lines
    assert f"├── Dev/Test ({DEVTEST}) [incomplete]" in lines


def test_text_makes_escape_sequences_inert(tree: OrgTree) -> None:
    text = render(tree, WORKLOADS, "text", complete=True)
    assert "\x1b" not in text
    assert "evil\\x1b[31mred\\x1b[0m" in text
    assert all(ch == "\n" or ch >= " " for ch in text)


def test_text_says_when_the_crawl_had_not_finished(tree: OrgTree) -> None:
    done = render(tree, WORKLOADS, "text", complete=True)
    partial = render(tree, WORKLOADS, "text", complete=False)
    assert partial.startswith(done)
    assert partial[len(done) :].count("\n") == 1
    assert "not finished" in partial


# -- mermaid and dot -----------------------------------------------------------------

MERMAID_NODE = re.compile(r'^    (n_[A-Za-z0-9_]+)\["([^"]*)"\]$')
MERMAID_EDGE = re.compile(r"^    (n_[A-Za-z0-9_]+) --> (n_[A-Za-z0-9_]+)$")
DOT_STRING = r'"(?:[^"\\\n]|\\.)*"'
DOT_NODE = re.compile(rf"^    ({DOT_STRING}) \[label=({DOT_STRING}), shape=(house|folder|box)\];$")
DOT_EDGE = re.compile(rf"^    ({DOT_STRING}) -> ({DOT_STRING});$")


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    lines = text.split("\n")
    assert lines[0] == "flowchart TD"
    assert lines[-1] == ""
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if line.startswith("    %% "):
            continue
        if m := MERMAID_NODE.match(line):
            assert m.group(1) not in nodes
            nodes[m.group(1)] = m.group(2)
        elif m := MERMAID_EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            raise AssertionError(f"unexpected mermaid line {line!r}")
    return nodes, edges


def parse_dot(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    lines = text.split("\n")
    assert lines[:2] == ["digraph org {", "    rankdir=LR;"]
    assert lines[-2:] == ["}", ""]
    nodes: dict[str, tuple[str, str]] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[2:-2]:
        if line.startswith("    // "):
            continue
        if m := DOT_NODE.match(line):
            nodes[unquote_dot(m.group(1))] = (unquote_dot(m.group(2)), m.group(3))
        elif m := DOT_EDGE.match(line):
            edges.append((unquote_dot(m.group(1)), unquote_dot(m.group(2))))
        else:
            raise AssertionError(f"unexpected dot line {line!r}")
    return nodes, edges


def unquote_dot(quoted: str) -> str:
    # Undo the exporter's escaping only; `\n` (a dot line break) becomes a real newline.
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted[1:-1])


def test_mermaid_structure_and_labels(tree: OrgTree) -> None:
    nodes, edges = parse_mermaid(render(tree, WORKLOADS, "mermaid", complete=True))
    assert len(nodes) == len(subtree_ids(tree))
    assert len(edges) == len(nodes) - 1
    assert nodes["n_ou_ab12_wkl00001"] == "Workloads (4)"
    assert nodes["n_ou_ab12_prd00001"] == "Prod (2)"
    assert nodes["n_ou_ab12_dev00001"] == "Dev/Test (1) [incomplete]"
    assert nodes["n_555555555555"] == "Legacy<br/>555555555555 [SUSPENDED]"
    assert nodes["n_444444444444"] == (
        "Payments #quot;core#quot; #60;v2#62; #38; #35;1<br/>444444444444"
    )
    assert nodes["n_ou_ab12_zrh00001"] == f"{UNICODE_NAME} (1)"
    assert nodes["n_666666666666"].startswith("evil\\x1b[31mred")
    assert ("n_ou_ab12_wkl00001", "n_ou_ab12_prd00001") in edges


def test_mermaid_neutralises_directives_and_entities() -> None:
    t = OrgTree()
    t.add(Node("r-1", NodeType.ROOT, '%%{init: {"theme":"dark"}}%% #9829; `md` a:b', "arn", None))
    nodes, _ = parse_mermaid(render(t, "r-1", "mermaid", complete=True))
    (label,) = nodes.values()
    assert "%" not in label
    assert "`" not in label
    assert ":" not in label
    # Every `#` left in the label starts one of our own entity codes.
    assert re.sub(r"#(quot|\d+);", "", label).count("#") == 0


def test_mermaid_ids_never_collide() -> None:
    t = OrgTree()
    t.add(Node("r-1", NodeType.ROOT, "Root", "arn", None))
    for node_id in ("ou-a-b", "ou_a_b", "ou.a.b"):
        t.add(Node(node_id, NodeType.ORGANIZATIONAL_UNIT, node_id, "arn", "r-1"))
    nodes, edges = parse_mermaid(render(t, "r-1", "mermaid", complete=True))
    assert len(nodes) == 4
    assert len({child for _, child in edges}) == 3


def test_dot_structure_shapes_and_escaping(tree: OrgTree) -> None:
    nodes, edges = parse_dot(render(tree, ROOT, "dot", complete=True))
    assert set(nodes) == set(subtree_ids(tree, ROOT))
    assert len(edges) == len(nodes) - 1
    assert nodes[ROOT][1] == "house"
    assert nodes[WORKLOADS] == ("Workloads (4)", "folder")
    assert nodes[PAYMENTS] == (f"{QUOTED_NAME}\n{PAYMENTS}", "box")
    assert nodes[LEGACY] == (f"Legacy\n{LEGACY} [SUSPENDED]", "box")
    # The name's escape sequence survives as visible text: backslash, x, 1, b.
    assert nodes[EVIL][0].startswith("evil\\x1b[31mred")


def test_dot_backslashes_cannot_become_dot_escapes() -> None:
    t = OrgTree()
    t.add(Node("r-1", NodeType.ROOT, 'a\\nb\\"c\\', "arn", None))
    text = render(t, "r-1", "dot", complete=True)
    assert '[label="a\\\\nb\\\\\\"c\\\\ (0)"' in text
    nodes, _ = parse_dot(text)
    assert nodes["r-1"][0] == 'a\\nb\\"c\\ (0)'


# -- property: any names survive every format ----------------------------------------

any_name = st.text(max_size=20)


def tiny_tree(ou_name: str, account_name: str, tag_value: str) -> OrgTree:
    t = OrgTree(details=False)  # names are the point here, not the details' gaps
    t.add(Node("r-1", NodeType.ROOT, "Root", "arn:root", None))
    t.add(Node("ou-1", NodeType.ORGANIZATIONAL_UNIT, ou_name, "arn:ou", "r-1"))
    t.add(Node("ou-2", NodeType.ORGANIZATIONAL_UNIT, account_name, "arn:ou2", "ou-1"))
    t.add(_account("123456789012", account_name, "ou-1"))
    t.set_tags("123456789012", {account_name: tag_value})
    t.set_policies("ou-1", (Policy("p-1", ou_name),))
    return t


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(any_name, any_name, any_name)
def test_any_names_survive_every_format(ou_name: str, account_name: str, tag: str) -> None:
    t = tiny_tree(ou_name, account_name, tag)
    ids = subtree_ids(t, "r-1")
    names = {n.id: n.name for n in t.walk("r-1")}

    doc = json.loads(render(t, "r-1", "json", complete=True))
    assert {n["id"]: n["name"] for n in _nodes(doc["tree"])} == names
    assert {n["id"]: n["path"] for n in _nodes(doc["tree"])} == {i: t.path(i) for i in ids}
    acct = next(n for n in _nodes(doc["tree"]) if n["id"] == "123456789012")
    assert acct["tags"] == {account_name: tag}
    attached = [{"id": "p-1", "name": ou_name, "aws_managed": False}]
    assert doc["tree"]["children"][0]["policies"] == {
        "SERVICE_CONTROL_POLICY": {"attached": attached, "inherited": None}  # the root's unknown
    }

    rows = read_csv(render(t, "r-1", "csv", complete=True))
    assert rows[0] == CSV_HEADER
    assert [r[0] for r in rows[1:]] == ids
    assert {r[0]: r[2] for r in rows[1:]} == names
    assert {r[0]: r[4] for r in rows[1:]} == {i: t.path(i) for i in ids}
    assert json.loads(rows[ids.index("123456789012") + 1][9]) == {account_name: tag}

    for complete in (True, False):
        mermaid = render(t, "r-1", "mermaid", complete=complete)
        assert mermaid.splitlines() == mermaid.split("\n")[:-1]  # no hidden line breaks
        nodes, edges = parse_mermaid(mermaid)
        assert len(nodes) == len(ids)
        assert len(edges) == len(ids) - 1

        dot = render(t, "r-1", "dot", complete=complete)
        assert dot.splitlines() == dot.split("\n")[:-1]
        dot_nodes, dot_edges = parse_dot(dot)
        assert set(dot_nodes) == set(ids)
        assert len(dot_edges) == len(ids) - 1

        text = render(t, "r-1", "text", complete=complete)
        assert text.splitlines() == text.split("\n")[:-1]
        assert len(text.splitlines()) == len(ids) + (0 if complete else 1)
        assert not any(ord(ch) < 0x20 and ch != "\n" for ch in text)


# -- writing files -------------------------------------------------------------------


def test_write_atomic_writes_utf8_with_mode_0600(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, "héllo\r\nwörld\n", force=False)
    assert target.read_bytes() == "héllo\r\nwörld\n".encode()  # no newline translation
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["out.txt"]


def test_write_atomic_refuses_existing_file_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("original")
    with pytest.raises(ExportError, match="already exists") as info:
        write_atomic(target, "new", force=False)
    assert "\n" not in str(info.value)
    assert target.read_text() == "original"
    assert os.listdir(tmp_path) == ["out.json"]
    write_atomic(target, "new", force=True)
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_atomic_leaves_no_partial_file_when_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    target.write_text("original")

    def boom(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ExportError, match="No space left on device"):
        write_atomic(target, "new content", force=True)
    assert target.read_text() == "original"
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_atomic_cleans_up_on_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "out.json", "data", force=False)
    assert os.listdir(tmp_path) == []


def test_write_atomic_without_force_loses_no_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Someone creates the file after our check but before we publish ours.
    target = tmp_path / "out.json"
    monkeypatch.setattr(export, "check_destination", lambda path, *, force: None)
    target.write_text("theirs")
    with pytest.raises(ExportError, match="already exists"):
        write_atomic(target, "ours", force=False)
    assert target.read_text() == "theirs"
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_atomic_without_hard_links_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.json"
    write_atomic(target, "data", force=False)
    assert target.read_text() == "data"
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_atomic_replaces_a_symlinks_target_not_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new", force=True)
    assert link.is_symlink()
    assert real.read_text() == "new"


# -- check_destination ---------------------------------------------------------------


def test_missing_parent_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "out.json"
    with pytest.raises(ExportError) as info:
        check_destination(missing, force=False)
    assert str(info.value) == f"directory does not exist: {tmp_path / 'nope'}"
    with pytest.raises(ExportError, match="directory does not exist"):
        write_atomic(missing, "x", force=True)
    assert not (tmp_path / "nope").exists()


def test_destination_problems(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a directory"):
        check_destination(tmp_path, force=True)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(ExportError, match="not a directory"):
        check_destination(a_file / "out.json", force=True)
    with pytest.raises(ExportError, match="already exists"):
        check_destination(a_file, force=False)
    check_destination(a_file, force=True)
    check_destination(tmp_path / "new.json", force=False)


def test_destination_that_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="not a regular file"):
        check_destination(fifo, force=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(ExportError, match="not writable"):
            check_destination(locked / "out.json", force=False)
    finally:
        locked.chmod(0o700)


def test_unwritable_directory_reported_before_any_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same check as above, but runs under root too (root passes os.access for real).
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ExportError) as info:
        write_atomic(tmp_path / "out.json", "x", force=False)
    assert str(info.value) == f"directory is not writable: {tmp_path}"
    assert os.listdir(tmp_path) == []


def test_messages_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as info:
        check_destination(tmp_path / "no\ndir" / "x.json", force=False)
    assert "\n" not in str(info.value)
    assert "no\\x0adir" in str(info.value)


# -- export_subtree ------------------------------------------------------------------


def test_export_subtree_to_a_file(tree: OrgTree, tmp_path: Path) -> None:
    target = tmp_path / "w.json"
    result = export_subtree(tree, WORKLOADS, "json", target)
    assert result == ExportResult(path=target, ous=4, accounts=4, format="json")
    assert target.read_text(encoding="utf-8") == render(tree, WORKLOADS, "json", complete=True)
    with pytest.raises(ExportError, match="already exists"):
        export_subtree(tree, WORKLOADS, "json", target)
    export_subtree(tree, WORKLOADS, "csv", target, force=True)
    assert target.read_text(encoding="utf-8").startswith("id,type,name")


def test_export_subtree_to_a_stream_or_stdout(
    tree: OrgTree, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.StringIO()
    result = export_subtree(tree, PROD, "text", None, stream=buffer, complete=False)
    assert result == ExportResult(path=None, ous=2, accounts=2, format="text")
    assert buffer.getvalue() == render(tree, PROD, "text", complete=False)
    export_subtree(tree, SANDBOX, "text", None)
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"sandbox ({SANDBOX})",
        "(incomplete: tags of 1 node not fetched; policies of 1 node not fetched)",
    ]


def test_export_subtree_expands_home(
    tree: OrgTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = export_subtree(tree, WORKLOADS, "dot", Path("~/org.dot"))
    assert result.path == tmp_path / "org.dot"
    assert (tmp_path / "org.dot").exists()


def test_bad_requests(tree: OrgTree, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown format 'yaml'; choose one of json, csv"):
        render(tree, WORKLOADS, "yaml", complete=True)
    with pytest.raises(ExportError, match="no node 'ou-missing'"):
        export_subtree(tree, "ou-missing", "json", tmp_path / "x.json")
    with pytest.raises(ExportError):
        default_filename(tree, WORKLOADS, "pdf", date(2024, 1, 1))
    assert os.listdir(tmp_path) == []


def test_default_filename(tree: OrgTree) -> None:
    day = date(2024, 5, 1)
    assert default_filename(tree, WORKLOADS, "json", day) == "workloads-2024-05-01.json"
    assert default_filename(tree, DEVTEST, "text", day) == "dev-test-2024-05-01.txt"
    assert default_filename(tree, ZURICH, "mermaid", day) == "zurich-2024-05-01.mmd"
    assert default_filename(tree, EVIL, "dot", day) == "evil-31mred-0m-2024-05-01.dot"
    assert default_filename(tree, PAYMENTS, "csv", day) == "payments-core-v2-1-2024-05-01.csv"
    tree.add(_ou("ou-ab12-cjk00001", "生产", ROOT))
    assert default_filename(tree, "ou-ab12-cjk00001", "csv", day) == (
        "ou-ab12-cjk00001-2024-05-01.csv"
    )
    assert default_filename(tree, "gone", "json", day) == "gone-2024-05-01.json"


def test_export_module_stays_ui_free() -> None:
    # A fresh interpreter, so modules other tests imported cannot hide a stray import.
    code = (
        "import sys, orgtree_tui.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'textual')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
