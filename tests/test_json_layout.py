"""The JSON exporter writes its layout by hand for speed; it must stay exactly what
`json.dumps(document, indent=2, ensure_ascii=False)` would write, for any tree."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

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
