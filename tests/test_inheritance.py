"""Inheritance (orgtree_tui.inheritance) against a second computation written here: each
node's inherited set is its parent's inherited set plus what the parent attaches, worked
out top-down from the parent links the test itself drew (the module walks each node's
ancestors bottom-up through the tree)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from orgtree_tui.inheritance import applied_at
from orgtree_tui.model import OrgTree
from orgtree_tui.records import DetailState, Node, NodeType, Policy

TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY")
POLICIES = {
    t: [Policy(f"p-{t[:3].lower()}{i}", f"{t[:3]} {i}", t) for i in range(4)] for t in TYPES
}


@st.composite
def orgs(draw: Any) -> tuple[dict[str, str | None], dict[str, dict[str, set[int]]], set[str]]:
    """(parent of each node, attached policy indexes per node per type, types enabled)."""
    count = draw(st.integers(min_value=1, max_value=14))
    parents: dict[str, str | None] = {"r-root": None}
    ids = ["r-root"]
    for i in range(1, count):
        parents[f"n-{i}"] = draw(st.sampled_from(ids))  # a parent made before it
        ids.append(f"n-{i}")
    enabled = draw(st.sets(st.sampled_from(TYPES)))
    attached = {
        node: {t: draw(st.sets(st.integers(0, 3), max_size=3)) for t in TYPES} for node in ids
    }
    return parents, attached, enabled


def _tree(
    parents: dict[str, str | None], attached: dict[str, dict[str, set[int]]], enabled: set[str]
) -> OrgTree:
    tree = OrgTree()
    tree.set_policy_types({t: "ENABLED" for t in enabled})
    for node_id, parent in parents.items():
        kind = NodeType.ROOT if parent is None else NodeType.ORGANIZATIONAL_UNIT
        tree.add(Node(node_id, kind, node_id, f"arn:{node_id}", parent))
        for t in TYPES:
            tree.set_policies(node_id, tuple(POLICIES[t][i] for i in attached[node_id][t]), t)
    return tree


@settings(max_examples=200, deadline=None)
@given(orgs())
def test_inherited_is_what_every_ancestor_attaches(
    org: tuple[dict[str, str | None], dict[str, dict[str, set[int]]], set[str]],
) -> None:
    parents, attached, enabled = org
    tree = _tree(parents, attached, enabled)
    # Top-down: parents come before their children in `parents`' order.
    inherited: dict[str, dict[str, set[tuple[str, str]]]] = {}
    depth: dict[str, int] = {}
    for node_id, parent in parents.items():
        if parent is None:
            inherited[node_id] = {t: set() for t in TYPES}
            depth[node_id] = 0
            continue
        depth[node_id] = depth[parent] + 1
        inherited[node_id] = {
            t: inherited[parent][t] | {(POLICIES[t][i].id, parent) for i in attached[parent][t]}
            for t in TYPES
        }
    for node_id in parents:
        got = applied_at(tree, node_id)
        assert set(got) == enabled
        for t, found in got.items():
            assert found.attached is not None and found.inherited is not None
            assert {p.id for p in found.attached} == {
                POLICIES[t][i].id for i in attached[node_id][t]
            }
            pairs = [(i.policy.id, i.from_id) for i in found.inherited]
            assert len(pairs) == len(set(pairs))  # one entry per ancestor that attaches it
            assert set(pairs) == inherited[node_id][t]
            # The chain: root first, one level per ancestor, the node last.
            assert len(found.chain) == depth[node_id] + 1
            assert found.chain[0].node_id == "r-root" and found.chain[-1].node_id == node_id
            assert found.authorization is (t != "TAG_POLICY")


def test_an_ancestor_not_known_makes_inherited_unknown_not_empty() -> None:
    parents: dict[str, str | None] = {"r-root": None, "n-1": "r-root", "n-2": "n-1"}
    attached = {n: {t: {0} for t in TYPES} for n in parents}
    tree = _tree(parents, attached, {"SERVICE_CONTROL_POLICY"})
    tree.set_policies_state("n-1", DetailState.DENIED, "SERVICE_CONTROL_POLICY")
    found = applied_at(tree, "n-2")["SERVICE_CONTROL_POLICY"]
    assert found.attached == (POLICIES["SERVICE_CONTROL_POLICY"][0],)
    assert found.inherited is None
    assert [lv.attached is None for lv in found.chain] == [False, True, False]
