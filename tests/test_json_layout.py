"""The JSON exporter writes its layout by hand for speed; it must stay exactly what
`json.dumps(document, indent=2, ensure_ascii=False)` would write, for any tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgtree_tui import export as export_module
from orgtree_tui.export import Part, export_grouped, export_subtree
from orgtree_tui.exporters import as_json
from orgtree_tui.exporters.snapshot import take_snapshot
from orgtree_tui.model import OrgTree
from orgtree_tui.records import DetailState, Node, NodeType, Organization, Policy

names = st.text(min_size=0, max_size=12)  # any unicode, control characters, quotes
maybe = st.none() | names


@st.composite
def trees(draw: st.DrawFn) -> OrgTree:
    tree = OrgTree()
    if draw(st.booleans()):
        tree.set_organization(Organization("o-x", "arn:o", draw(names)))
    tree.add(Node("r-1", NodeType.ROOT, draw(names), draw(names), None))
    parents = ["r-1"]
    for i in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from([NodeType.ORGANIZATIONAL_UNIT, NodeType.ACCOUNT]))
        parent = draw(st.sampled_from(parents))
        node_id = f"n-{i}"
        when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC) if draw(st.booleans()) else None
        tree.add(
            Node(
                node_id,
                kind,
                draw(names),
                draw(names),
                parent,
                email=draw(maybe),
                state=draw(maybe),
                joined_method=draw(maybe),
                joined_timestamp=when,
            )
        )
        if kind is NodeType.ORGANIZATIONAL_UNIT:
            parents.append(node_id)
    for node in tree.nodes():
        tags = draw(st.none() | st.dictionaries(names, names, max_size=3))
        if tags is not None:
            tree.set_tags(node.id, tags)
        elif draw(st.booleans()):
            tree.set_tags_state(node.id, DetailState.DENIED)
        policies = draw(st.none() | st.lists(st.tuples(names, names), max_size=2))
        if policies is not None:
            tree.set_policies(node.id, tuple(Policy(i, n) for i, n in policies))
        if draw(st.booleans()) and not node.is_account:
            tree.mark_incomplete(node.id, "denied")
    return tree


@settings(max_examples=150, deadline=None)
@given(trees(), st.booleans())
def test_render_is_json_dumps_with_indent_two(tree: OrgTree, complete: bool) -> None:
    snap = take_snapshot(tree, "r-1", complete=complete)
    expected = json.dumps(as_json.document(snap), indent=2, ensure_ascii=False) + "\n"
    assert as_json.render(snap) == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(trees(), min_size=0, max_size=3))
def test_render_many_is_json_dumps_with_indent_two(forest: list[OrgTree]) -> None:
    snaps = [take_snapshot(t, "r-1", complete=True) for t in forest]
    expected = {
        "format": as_json.FORMAT_TAG,
        "complete": all(s.complete for s in snaps),
        "organizations": [as_json.document(s) for s in snaps],
    }
    text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
    assert as_json.render_many(snaps) == text


def big_tree(accounts: int) -> OrgTree:
    tree = OrgTree()
    tree.add(Node("r-1", NodeType.ROOT, "Root", "arn:r", None))
    for i in range(accounts):
        tree.add(Node(f"{i:012d}", NodeType.ACCOUNT, f'acct "{i}" é', f"arn:{i}", "r-1"))
        tree.set_tags(f"{i:012d}", {"team": f"t{i % 7}"})
    return tree


def test_a_json_file_is_written_as_it_is_rendered_and_holds_the_same_bytes(tmp_path: Path) -> None:
    # 3,000 accounts: well over one flush of fragments, so the file is written in pieces.
    tree = big_tree(3000)
    path = tmp_path / "org.json"
    export_subtree(tree, "r-1", "json", path)
    snap = take_snapshot(tree, "r-1", complete=True)
    expected = json.dumps(as_json.document(snap), indent=2, ensure_ascii=False) + "\n"
    assert path.read_text(encoding="utf-8") == expected
    grouped = tmp_path / "orgs.json"
    export_grouped([Part(tree, "r-1"), Part(big_tree(5), "r-1")], "json", grouped)
    snaps = [snap, take_snapshot(big_tree(5), "r-1", complete=True)]
    document = {
        "format": as_json.FORMAT_TAG,
        "complete": all(s.complete for s in snaps),
        "organizations": [as_json.document(s) for s in snaps],
    }
    assert (
        grouped.read_text(encoding="utf-8")
        == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    )


def test_a_json_file_whose_rendering_fails_halfway_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_then_fail(snap: object, write: Callable[[str], object]) -> None:
        write('{\n  "format": ')
        raise RuntimeError("renderer bug")

    monkeypatch.setitem(export_module._STREAMED, "json", half_then_fail)
    path = tmp_path / "org.json"
    path.write_text("the old export", encoding="utf-8")
    with pytest.raises(RuntimeError):
        export_subtree(big_tree(3), "r-1", "json", path, force=True)
    assert path.read_text(encoding="utf-8") == "the old export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["org.json"]  # no temp file left
