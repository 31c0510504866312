"""Exports that the tools people pipe them into accept, proven with those tools: jq, the csv
module, Graphviz's dot, networkx (GraphML), and a strict Mermaid flowchart grammar."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgtree_tui.aws import READ_ONLY_OPERATIONS
from orgtree_tui.export import Part, render, render_grouped
from orgtree_tui.exporters.as_graphml import GRAPH_KEYS, KEYS, NAMESPACE
from orgtree_tui.identity import STS_OPERATIONS
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType, Organization
from orgtree_tui.sim.server import SimServer

from orgs import Built, OrgBuilder

README = Path(__file__).parent.parent / "README.md"
SVG = "{http://www.w3.org/2000/svg}"


def org_tree(org_id: str, prefix: str, names: tuple[str, str, str]) -> OrgTree:
    """Root > OU > (account, OU > account), names chosen by the caller."""
    ou_name, account_name, inner_name = names
    t = OrgTree()
    t.set_organization(
        Organization(org_id, f"arn:aws:organizations::{prefix * 12}:organization/{org_id}", "1")
    )
    root, ou, inner = f"r-{prefix}", f"ou-{prefix}-1", f"ou-{prefix}-2"
    t.add(Node(root, NodeType.ROOT, "Root", f"arn:aws:organizations::1:root/{org_id}/r", None))
    t.add(Node(ou, NodeType.ORGANIZATIONAL_UNIT, ou_name, "arn:aws:ou", root))
    t.add(Node(inner, NodeType.ORGANIZATIONAL_UNIT, inner_name, "arn:aws:ou2", ou))
    for n, parent in ((1, ou), (2, inner)):
        account = f"{prefix * 11}{n}"
        t.add(Node(account, NodeType.ACCOUNT, account_name, "arn:aws:acct", parent, state="ACTIVE"))
    return t


SAMPLE = org_tree("o-aaaaaaaaaa", "1", ("Workloads", 'Payments "core" <v2> & #1', "Zürich 生产"))
OTHER = org_tree("o-bbbbbbbbbb", "2", ("Workloads", "evil\x1b[31mred%%{init}%%", "a:b`c"))
GROUPED = [Part(SAMPLE, "r-1"), Part(OTHER, "r-2")]


def sample(fmt: str, *, grouped: bool) -> str:
    """Two organizations grouped in one document, or the first alone."""
    return render_grouped(GROUPED, fmt) if grouped else render(SAMPLE, "r-1", fmt, complete=True)


# -- jq: the README's recipe, run as written ------------------------------------------


def readme_block(marker: str) -> str:
    """The fenced block after `<!-- marker -->` in the README."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->") + 1
    assert lines[start].startswith("```")
    end = lines.index("```", start + 1)
    return "\n".join(lines[start + 1 : end])


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Built]]:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        org = OrgBuilder(sim.admin_client())
        workloads = org.ou("Workloads")
        prod = org.ou("Prod", workloads)
        org.account("payments", prod)
        org.account("search", prod)
        org.account("tooling", workloads)
        org.account("sandbox-ana", org.ou("Sandbox"))
        yield sim.endpoint_url, org.built


def test_readme_iam_policy_lists_exactly_what_the_app_calls() -> None:
    policy = json.loads(readme_block("iam-policy"))
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    expected = {f"organizations:{op}" for op in READ_ONLY_OPERATIONS} | {"sts:GetCallerIdentity"}
    assert set(statement["Action"]) == expected
    assert {"GetCallerIdentity", "AssumeRole"} == STS_OPERATIONS  # the README names both


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (apt-get install jq)")
def test_readme_jq_recipe_lists_the_account_ids_under_an_ou(
    endpoint: tuple[str, Built], tmp_path: Path
) -> None:
    url, built = endpoint
    recipe = readme_block("jq-recipe")
    assert recipe.startswith("orgtree-tui export --subtree /Root/Workloads") and "| jq" in recipe
    # The recipe names the installed command; this shim is that command from this checkout.
    shim = tmp_path / "bin" / "orgtree-tui"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m orgtree_tui "$@"\n')
    shim.chmod(0o755)
    env = os.environ | {
        "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        "AWS_ENDPOINT_URL": url,
        "PYTHONPATH": str(README.parent),
    }
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", recipe],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = {built.accounts[name] for name in ("payments", "search", "tooling")}
    assert sorted(result.stdout.split()) == sorted(expected)


# -- csv ----------------------------------------------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
def test_csv_reads_back_through_the_csv_module_with_a_spreadsheet_header(grouped: bool) -> None:
    text = sample("csv", grouped=grouped)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    # Excel takes a file starting with "ID" for SYLK and refuses it.
    assert not text.startswith("ID")
    assert len(set(header)) == len(header)
    assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in header)
    assert all(len(row) == len(header) for row in rows)
    records = list(csv.DictReader(io.StringIO(text, newline="")))
    trees = [SAMPLE, OTHER] if grouped else [SAMPLE]
    assert len(records) == sum(len(t) for t in trees)
    names = {n.id: n.name for t in trees for n in t.nodes()}
    assert {r["id"]: r["name"] for r in records} == names
    if grouped:
        assert header[0] == "organization_id"
        assert {r["organization_id"] for r in records} == {"o-aaaaaaaaaa", "o-bbbbbbbbbb"}
    else:
        assert "organization_id" not in header


# -- dot ----------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot (apt-get install graphviz)"
)
@pytest.mark.parametrize("grouped", [False, True])
def test_graphviz_renders_the_dot_export_to_svg(grouped: bool) -> None:
    text = sample("dot", grouped=grouped)
    result = subprocess.run(
        ["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Warning" not in result.stderr and b"Error" not in result.stderr, result.stderr
    svg = ET.fromstring(result.stdout)
    assert svg.tag == f"{SVG}svg"
    groups = list(svg.iter(f"{SVG}g"))
    node_titles = {g.findtext(f"{SVG}title") for g in groups if g.get("class") == "node"}
    trees = [SAMPLE, OTHER] if grouped else [SAMPLE]
    assert node_titles == {n.id for t in trees for n in t.nodes()}
    edges = [g for g in groups if g.get("class") == "edge"]
    assert len(edges) == sum(len(t) - 1 for t in trees)
    clusters = [g for g in groups if g.get("class") == "cluster"]
    assert len(clusters) == (2 if grouped else 0)
    labels = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "Zürich 生产" in labels and 'Payments "core" <v2> & #1' in labels


# -- mermaid: a strict reading of the flowchart grammar we emit ------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"((?:[^"#<>&%:`]|#(?:quot|\d+);|<br/>)*)"'
_NODE = re.compile(rf"\s+({_ID})\[{_LABEL}\]")
_EDGE = re.compile(rf"\s+({_ID}) --> ({_ID})")
_SUBGRAPH = re.compile(rf"\s+subgraph ({_ID})\[{_LABEL}\]")
_COMMENT = re.compile(r"\s+%% (?!\{)[^%{}]*")
# `--policies`: the one class we define, and the nodes given it (ids declared before).
_CLASSDEF = re.compile(r"    classDef unknown stroke-dasharray: 5 5")
_CLASS = re.compile(rf"\s+class ({_ID}(?:,{_ID})*) unknown")
_KEYWORDS = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click"}


def check_mermaid(text: str) -> tuple[set[str], list[tuple[str, str]], int]:
    """Nodes, edges and subgraph count; fails on anything the grammar would misread."""
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert lines[0] == "flowchart TD"
    nodes: set[str] = set()
    edges: list[tuple[str, str]] = []
    groups, depth = 0, 0
    classed: list[str] = []
    for line in lines[1:]:
        if m := _NODE.fullmatch(line):
            assert m.group(1) not in nodes | _KEYWORDS, f"duplicate or reserved id: {line}"
            nodes.add(m.group(1))
        elif m := _EDGE.fullmatch(line):
            edges.append((m.group(1), m.group(2)))
        elif m := _SUBGRAPH.fullmatch(line):
            assert depth == 0, "nested subgraph"
            groups, depth = groups + 1, 1
        elif _CLASSDEF.fullmatch(line):
            assert not nodes, "classDef after the nodes"
        elif m := _CLASS.fullmatch(line):
            classed.extend(m.group(1).split(","))
            assert "classDef unknown" in text, "a class that is not defined"
        elif line.strip() == "end":
            assert depth == 1, "end without subgraph"
            depth = 0
        else:
            assert _COMMENT.fullmatch(line), f"not flowchart syntax: {line!r}"
    assert depth == 0, "subgraph not closed"
    assert all(a in nodes and b in nodes for a, b in edges), "edge to an undeclared node"
    assert set(classed) <= nodes, "class given to an undeclared node"
    return nodes, edges, groups


@pytest.mark.parametrize("grouped", [False, True])
def test_mermaid_is_valid_flowchart_syntax(grouped: bool) -> None:
    text = sample("mermaid", grouped=grouped)
    nodes, edges, groups = check_mermaid(text)
    trees = [SAMPLE, OTHER] if grouped else [SAMPLE]
    assert len(nodes) == sum(len(t) for t in trees)
    assert len(edges) == sum(len(t) - 1 for t in trees)
    assert groups == (2 if grouped else 0)


def test_mermaid_checker_rejects_what_mermaid_would_misread() -> None:
    good = 'flowchart TD\n    n_a["A"]\n    n_b["B"]\n    n_a --> n_b\n'
    check_mermaid(good)
    for bad in (
        'flowchart TD\n    n_a["say "hi""]\n',  # a quote ends the label early
        'flowchart TD\n    n-a["A"]\n',  # a dash in an id is an edge
        "flowchart TD\n    %%{init: {}}%%\n",  # a directive, not a comment
        'flowchart TD\n    n_a["A"]\n    n_a --> n_b\n',  # edge to nowhere
        'flowchart TD\n    subgraph g["G"]\n',  # unclosed
    ):
        with pytest.raises(AssertionError):
            check_mermaid(bad)


# -- graphml ------------------------------------------------------------------------


@pytest.mark.parametrize("grouped", [False, True])
def test_networkx_reads_the_graphml_export(grouped: bool) -> None:
    text = sample("graphml", grouped=grouped)
    graph = nx.parse_graphml(text)
    assert graph.is_directed()
    trees = [SAMPLE, OTHER] if grouped else [SAMPLE]
    expected = {n.id: n for t in trees for n in t.nodes()}
    assert set(graph.nodes) == set(expected)
    assert set(graph.edges) == {(n.parent_id, i) for i, n in expected.items() if n.parent_id}
    for node_id, data in graph.nodes(data=True):
        node = expected[node_id]
        assert data["name"] == node.name.replace("\x1b", "\\x1b")
        assert data["type"] == node.type.value
        assert data["organization_id"].startswith("o-")
    assert nx.is_forest(graph)


def test_graphml_follows_the_graphml_structure() -> None:
    root = ET.fromstring(render_grouped(GROUPED, "graphml").encode())
    ns = {"g": NAMESPACE}
    assert root.tag == f"{{{NAMESPACE}}}graphml"
    keys = root.findall("g:key", ns)
    # Node keys, then two per policy type on the roots (SCPs alone: types not read), then
    # the graph's own (complete, missing: what an incomplete export lacks; organizations).
    per_type = ["service_control_policy_attached", "service_control_policy_inherited"]
    assert [k.get("id") for k in keys] == [
        *(k for k, _ in KEYS),
        *per_type,
        *(k for k, _ in GRAPH_KEYS),
    ]
    assert all(k.get("attr.name") == k.get("id") for k in keys)
    assert [k.get("for") for k in keys] == ["node"] * (len(KEYS) + 2) + ["graph"] * len(GRAPH_KEYS)
    (graph,) = root.findall("g:graph", ns)
    assert graph.get("edgedefault") == "directed"
    declared = {k.get("id") for k in keys if k.get("for") == "node"}
    for node in graph.findall("g:node", ns):
        assert {d.get("key") for d in node.findall("g:data", ns)} <= declared
    assert {d.get("key") for d in graph.findall("g:data", ns)} <= {k for k, _ in GRAPH_KEYS}
    # Keys first, then the graph: the order the GraphML schema requires.
    all_keys = len(KEYS) + len(per_type) + len(GRAPH_KEYS)
    assert [child.tag.split("}")[1] for child in root] == ["key"] * all_keys + ["graph"]


names = st.text(max_size=16)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(names, names, names)
def test_any_names_give_valid_mermaid_dot_and_graphml(a: str, b: str, c: str) -> None:
    tree = org_tree("o-cccccccccc", "3", (a, b, c))
    parts = [Part(tree, "r-3"), Part(SAMPLE, "r-1")]
    check_mermaid(render(tree, "r-3", "mermaid", complete=True))
    check_mermaid(render_grouped(parts, "mermaid"))
    graph = nx.parse_graphml(render_grouped(parts, "graphml"))
    assert graph.number_of_nodes() == len(tree) + len(SAMPLE)
    dot = render_grouped(parts, "dot")
    assert dot.splitlines() == dot.split("\n")[:-1]
    assert json.loads(render_grouped(parts, "json"))["organizations"][0]["tree"]["id"] == "r-3"
