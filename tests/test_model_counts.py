"""Subtree counts are kept up to date on every change; they must always equal a count made
from scratch, whatever order nodes arrive in (children before parents), move or go."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts, Node, NodeType

IDS = [f"n{i}" for i in range(10)]

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("add"),
            st.sampled_from(IDS),
            st.sampled_from([NodeType.ORGANIZATIONAL_UNIT, NodeType.ACCOUNT]),
            st.none() | st.sampled_from(IDS),
            st.sampled_from(["a", "b"]),
        ),
        st.tuples(st.just("remove"), st.sampled_from(IDS)),
    ),
    max_size=40,
)


def from_scratch(tree: OrgTree) -> dict[str, Counts]:
    """Every id that is some present node's parent (present or not), counted by walking
    up each node's parent chain: what "below" means."""
    nodes = {n.id: n for n in tree.nodes()}
    totals: dict[str, list[int]] = {}
    for node in nodes.values():
        parent, seen = node.parent_id, set()
        while parent is not None and parent not in seen:
            seen.add(parent)
            entry = totals.setdefault(parent, [0, 0])
            entry[0] += node.type is NodeType.ORGANIZATIONAL_UNIT
            entry[1] += node.type is NodeType.ACCOUNT
            above = nodes.get(parent)
            parent = above.parent_id if above is not None else None
    return {k: Counts(*v) for k, v in totals.items()}


@settings(max_examples=300, deadline=None)
@given(operations)
def test_counts_match_a_count_from_scratch(ops: list[tuple[object, ...]]) -> None:
    tree = OrgTree()
    types: dict[str, NodeType] = {}
    for op in ops:
        if op[0] == "add":
            _, node_id, kind, parent, name = op
            assert isinstance(node_id, str) and isinstance(kind, NodeType)
            kind = types.setdefault(node_id, kind)  # a node keeps its type
            # A node is never its own ancestor in AWS: skip moves that would make a cycle.
            if parent is not None and (parent == node_id or _under(tree, str(parent), node_id)):
                continue
            tree.add(Node(node_id, kind, str(name), "arn", parent))  # type: ignore[arg-type]
        else:
            tree.remove(str(op[1]))
    expected = from_scratch(tree)
    for node_id in {*IDS, *expected}:
        assert tree.counts(node_id) == expected.get(node_id, Counts(0, 0)), node_id
    nodes = tree.nodes()
    assert tree.totals() == Counts(
        sum(n.type is NodeType.ORGANIZATIONAL_UNIT for n in nodes),
        sum(n.type is NodeType.ACCOUNT for n in nodes),
    )


def _under(tree: OrgTree, node_id: str, ancestor: str) -> bool:
    seen: set[str] = set()
    current = tree.get(node_id)
    while current is not None and current.parent_id is not None and current.id not in seen:
        seen.add(current.id)
        if current.parent_id == ancestor:
            return True
        current = tree.get(current.parent_id)
    return False


@settings(max_examples=300, deadline=None)
@given(operations)
def test_add_many_counts_like_adding_one_by_one(ops: list[tuple[object, ...]]) -> None:
    one_by_one, types = OrgTree(), {}
    batch: list[Node] = []
    for op in ops:
        if op[0] != "add":
            continue
        _, node_id, kind, parent, name = op
        kind = types.setdefault(str(node_id), kind)  # type: ignore[arg-type]
        if parent is not None and (
            parent == node_id or _under(one_by_one, str(parent), str(node_id))
        ):
            continue  # no cycles: AWS has none
        node = Node(str(node_id), kind, str(name), "arn", parent)  # type: ignore[arg-type]
        one_by_one.add(node)
        batch.append(node)
    at_once = OrgTree()
    at_once.add_many(batch)
    expected = from_scratch(one_by_one)
    assert from_scratch(at_once) == expected
    for node_id in {*IDS, *expected}:
        assert at_once.counts(node_id) == one_by_one.counts(node_id), node_id
    assert at_once.totals() == one_by_one.totals()
