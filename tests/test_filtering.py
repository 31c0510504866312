"""The filter's index against a from-scratch answer: a plain loop over the nodes, written here.

The oracle keeps its own dicts of what was added, tagged and removed, and answers each query
by walking down from the roots (so nodes whose parent is missing, or caught in a cycle, are
not in the tree and do not match), checking every field of every node.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgtree_tui import filtering
from orgtree_tui.filtering import FilterIndex
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType

ROOTS = ["r-1", "r-2"]
OUS = [f"ou-{i}" for i in range(4)]
ACCOUNTS = [f"{i:012d}" for i in range(5)]
PARENTS = ROOTS + OUS
# Few letters, so queries match often; a case pair, an accent and a character whose
# casefold is longer than itself (ß -> ss).
LETTERS = "abAB-ßé1"
TYPE_RANK = {NodeType.ROOT: 0, NodeType.ORGANIZATIONAL_UNIT: 1, NodeType.ACCOUNT: 2}


@dataclass
class Oracle:
    nodes: dict[str, Node] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)

    def remove(self, node_id: str) -> None:
        if node_id not in self.nodes:
            return
        gone, grew = {node_id}, True
        while grew:  # everything whose parent chain reaches the removed node
            below = {i for i, n in self.nodes.items() if n.parent_id in gone} - gone
            grew = bool(below)
            gone |= below
        for i in gone:
            self.nodes.pop(i, None)
            self.tags.pop(i, None)

    def order(self) -> list[str]:
        """Every node reachable from a root, depth first, OUs before accounts, by name."""

        def key(n: Node) -> tuple[int, str, str]:
            return (TYPE_RANK[n.type], n.name.casefold(), n.id)

        roots = sorted((n for n in self.nodes.values() if n.parent_id is None), key=key)
        out: list[str] = []
        stack = [r.id for r in reversed(roots)]
        while stack:
            node_id = stack.pop()
            out.append(node_id)
            kids = sorted((n for n in self.nodes.values() if n.parent_id == node_id), key=key)
            stack.extend(k.id for k in reversed(kids))
        return out

    def matches(self, query: str) -> list[str]:
        needle = query.strip().casefold()
        if not needle:
            return []
        found = []
        for node_id in self.order():
            node = self.nodes[node_id]
            fields = [node.name, node.id, node.email or "", *self.tags.get(node_id, {}).values()]
            if any(needle in f.casefold() for f in fields):
                found.append(node_id)
        return found

    def shown(self, ids: list[str]) -> set[str]:
        out = set()
        for node_id in ids:
            current: str | None = node_id
            while current is not None and current in self.nodes:
                out.add(current)
                current = self.nodes[current].parent_id
        return out


text = st.text(LETTERS, max_size=6)


@st.composite
def nodes(draw: st.DrawFn) -> Node:
    node_id = draw(st.sampled_from(ROOTS + OUS + ACCOUNTS))
    name = draw(text)
    if node_id in ROOTS:
        return Node(node_id, NodeType.ROOT, name, f"arn:{node_id}", None)
    parent = draw(st.sampled_from([p for p in PARENTS if p != node_id]))
    if node_id in OUS:
        return Node(node_id, NodeType.ORGANIZATIONAL_UNIT, name, f"arn:{node_id}", parent)
    email = draw(st.none() | text.map(lambda t: f"{t}@ex.com"))
    return Node(node_id, NodeType.ACCOUNT, name, f"arn:{node_id}", parent, email=email)


tag_values = st.dictionaries(st.sampled_from(["Owner", "Env"]), text, max_size=2)
ops = st.one_of(
    st.tuples(st.just("add"), nodes()),
    st.tuples(st.just("tags"), st.sampled_from(ROOTS + OUS + ACCOUNTS), tag_values),
    st.tuples(st.just("rename"), st.sampled_from(ROOTS + OUS + ACCOUNTS), text),
    st.tuples(st.just("remove"), st.sampled_from(OUS + ACCOUNTS)),
    # A word and each of its prefixes, as typed: the index narrows from the previous one.
    st.tuples(st.just("type"), st.text(LETTERS + " ", min_size=1, max_size=4)),
)


def check(index: FilterIndex, oracle: Oracle, query: str) -> None:
    result = index.query(query)
    expected = oracle.matches(query)
    assert result.first(2) == expected[:2]  # before `ordered`, which it would reuse
    assert result.ordered() == expected
    assert sorted(result.ids) == sorted(expected)
    assert result.shown() == oracle.shown(expected)


# Each way of answering (a find per match, one sweep over every text, re-testing the
# previous matches) forced in turn, and the index's own choice.
STRATEGIES = {
    "chosen": {},
    "find": {"SWEEP_UP_TO": 0, "REFINE": False},
    "sweep": {"SWEEP_UP_TO": 99, "REFINE": False},
    "narrow": {"SWEEP_UP_TO": 0, "REFINE": True},
}


@pytest.mark.parametrize("strategy", STRATEGIES)
@settings(max_examples=400, deadline=None)
@given(steps=st.lists(ops, min_size=5, max_size=60))
def test_index_answers_as_a_plain_loop_between_adds_tags_renames_and_removals(
    strategy: str, steps: list[tuple[object, ...]]
) -> None:
    with ExitStack() as stack:
        for name, value in STRATEGIES[strategy].items():
            stack.enter_context(mock.patch.object(filtering, name, value))
        run_steps(steps)


def run_steps(steps: list[tuple[object, ...]]) -> None:
    index, oracle = FilterIndex(), Oracle()
    for step in steps:
        match step:
            case ("add", Node() as node):
                index.add(node)
                oracle.nodes[node.id] = node
            case ("tags", str(node_id), dict(tags)):
                index.set_tags(node_id, tags)
                oracle.tags[node_id] = dict(tags)
            case ("rename", str(node_id), str(name)) if node_id in oracle.nodes:
                renamed = replace(oracle.nodes[node_id], name=name)
                index.add(renamed)
                oracle.nodes[node_id] = renamed
            case ("remove", str(node_id)):
                index.remove(node_id)
                oracle.remove(node_id)
            case ("type", str(word)):
                for end in range(1, len(word) + 1):
                    check(index, oracle, word[:end])
        # Every root and OU id holds "-", every account id "0": each step's effect is seen.
        check(index, oracle, "-")
        check(index, oracle, "0")
    for query in ["a", "b", "ß", "ss", "@", "ou-", "0", "-", "é"]:
        check(index, oracle, query)


@settings(max_examples=100, deadline=None)
@given(st.lists(nodes(), max_size=25), st.dictionaries(st.sampled_from(ACCOUNTS), tag_values))
def test_index_of_a_tree_answers_as_a_plain_loop(found: list[Node], tags: dict) -> None:
    tree, oracle = OrgTree(), Oracle()
    for node in found:
        tree.add(node)
        oracle.nodes[node.id] = node
    for node_id, values in tags.items():
        tree.set_tags(node_id, values)
        if node_id in oracle.nodes:
            oracle.tags[node_id] = values
    index = FilterIndex.of(tree)
    for query in ["a", "A", "b-", "ss", "@ex", "ou", "00", "é1"]:
        check(index, oracle, query)


def test_hand_written_matches() -> None:
    """Literal answers, for a reader who does not want to trust either loop."""
    index = FilterIndex()
    index.add(Node("r-1", NodeType.ROOT, "Root", "arn:r", None))
    index.add(Node("ou-1", NodeType.ORGANIZATIONAL_UNIT, "Security", "arn:o", "r-1"))
    index.add(Node("111", NodeType.ACCOUNT, "Audit", "arn:a", "ou-1", email="sec@corp.io"))
    index.add(Node("222", NodeType.ACCOUNT, "Straße", "arn:b", "r-1", email="b@corp.io"))
    index.add(Node("333", NodeType.ACCOUNT, "lost", "arn:c", "ou-missing"))  # not in the tree
    index.set_tags("222", {"Owner": "Payments"})
    assert index.query("  AUDIT ").ordered() == ["111"]
    assert index.query("sec").ordered() == ["ou-1", "111"]  # name and email
    assert index.query("strasse").ordered() == ["222"]  # casefolded
    assert index.query("payments").ordered() == ["222"]  # a tag value
    assert index.query("corp").ordered() == ["111", "222"]  # OUs first, then accounts
    assert index.query("lost").ordered() == []
    assert index.query("").ordered() == []
    assert index.query("t\x00a").ordered() == []  # a separator never joins two fields
    assert index.query("audit").shown() == {"r-1", "ou-1", "111"}
    index.set_tags("222", {"Owner": "Platform"})
    assert index.query("payments").ordered() == []
    index.remove("ou-1")
    assert index.query("corp").ordered() == ["222"]


def test_a_query_typed_on_after_the_tree_changed_sees_the_change() -> None:
    # "ro" then "roc": the second narrows the first's matches, unless the tree changed.
    index = FilterIndex()
    index.add(Node("r-1", NodeType.ROOT, "Root", "arn:r", None))
    index.add(Node("111", NodeType.ACCOUNT, "robot", "arn:a", "r-1"))
    assert index.query("ro").ordered() == ["r-1", "111"]
    index.add(Node("222", NodeType.ACCOUNT, "Rocket", "arn:b", "r-1"))
    index.add(Node("111", NodeType.ACCOUNT, "rock", "arn:a", "r-1"))  # renamed
    assert sorted(index.query("roc").ids) == ["111", "222"]
    index.set_tags("222", {"Team": "rocks"})
    index.add(Node("222", NodeType.ACCOUNT, "Rocket", "arn:b", "r-1"))
    assert sorted(index.query("rock").ids) == ["111", "222"]  # a name, a tag
    index.add(Node("333", NodeType.ACCOUNT, "roadie", "arn:c", "r-1"))
    index.set_tags("333", {"Team": "rockers"})
    assert sorted(index.query("rocke").ids) == ["222", "333"]
