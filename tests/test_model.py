"""OrgTree: placement, ordering, paths, counts, incomplete flags and concurrent writers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgtree_tui.forest import Forest
from orgtree_tui.gaps import Missing
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts, DetailState, Node, NodeType, Policy

ROOT = "r-ab12"


def root() -> Node:
    return Node(ROOT, NodeType.ROOT, "Root", f"arn:aws:organizations::1:root/o-x/{ROOT}", None)


def ou(node_id: str, name: str, parent: str = ROOT) -> Node:
    return Node(node_id, NodeType.ORGANIZATIONAL_UNIT, name, f"arn:ou/{node_id}", parent)


def account(node_id: str, name: str, parent: str = ROOT, state: str = "ACTIVE") -> Node:
    return Node(
        node_id,
        NodeType.ACCOUNT,
        name,
        f"arn:account/{node_id}",
        parent,
        email=f"{node_id}@example.com",
        state=state,
        joined_method="CREATED",
        joined_timestamp=datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


@pytest.fixture
def tree() -> OrgTree:
    t = OrgTree()
    t.add(root())
    t.add(ou("ou-sec", "Security"))
    t.add(ou("ou-wkl", "Workloads"))
    t.add(ou("ou-prd", "Prod", "ou-wkl"))
    t.add(account("111", "Management"))
    t.add(account("222", "Audit", "ou-sec"))
    t.add(account("333", "App", "ou-prd"))
    t.add(account("444", "Batch", "ou-prd"))
    return t


def ids(nodes: list[Node]) -> list[str]:
    return [n.id for n in nodes]


# -- add / move / remove ------------------------------------------------------------


def test_add_reports_change_only_when_something_changed(tree: OrgTree) -> None:
    assert tree.add(account("555", "New", "ou-sec")) is True
    assert tree.add(account("555", "New", "ou-sec")) is False
    assert tree.add(account("555", "Renamed", "ou-sec")) is True
    assert tree.get("555") is not None
    assert tree.get("555").name == "Renamed"  # type: ignore[union-attr]
    assert len(tree) == 9


def test_version_bumps_on_structural_change_only(tree: OrgTree) -> None:
    v = tree.version
    tree.add(account("222", "Audit", "ou-sec"))  # identical: no change
    assert tree.version == v
    tree.add(account("555", "New", "ou-sec"))
    assert tree.version > v


def test_node_seen_under_another_parent_moves(tree: OrgTree) -> None:
    before = tree.counts("ou-wkl")
    tree.add(account("222", "Audit", "ou-wkl"))
    assert "222" not in tree.child_ids("ou-sec")
    assert "222" in tree.child_ids("ou-wkl")
    assert tree.parent("222") == tree.get("ou-wkl")
    assert tree.counts("ou-sec") == Counts(0, 0)
    assert tree.counts("ou-wkl") == Counts(before.ous, before.accounts + 1)


def test_moving_an_ou_carries_its_subtree(tree: OrgTree) -> None:
    tree.add(ou("ou-prd", "Prod", "ou-sec"))
    assert ids(list(tree.walk("ou-sec"))) == ["ou-sec", "ou-prd", "333", "444", "222"]
    assert tree.path("333") == "/Root/Security/Prod/App"
    assert tree.counts("ou-wkl") == Counts(0, 0)


def test_remove_drops_subtree_and_its_details(tree: OrgTree) -> None:
    tree.set_tags("333", {"a": "b"})
    tree.mark_incomplete("ou-prd", "AccessDenied")
    tree.remove("ou-wkl")
    for gone in ("ou-wkl", "ou-prd", "333", "444"):
        assert gone not in tree
    assert tree.details("333").tags is None
    assert tree.details("333").tags_state is DetailState.PENDING
    assert tree.incomplete() == {}
    assert ids(tree.children(ROOT)) == ["ou-sec", "111"]
    assert len(tree) == 4
    tree.remove("does-not-exist")  # no error
    assert len(tree) == 4


def test_removing_a_root_clears_roots(tree: OrgTree) -> None:
    tree.remove(ROOT)
    assert tree.roots() == []
    assert len(tree) == 0


# -- ordering -----------------------------------------------------------------------


def test_children_put_ous_first_then_accounts_each_by_casefolded_name() -> None:
    t = OrgTree()
    t.add(root())
    t.add(account("a1", "aardvark"))
    t.add(ou("ou-b", "beta"))
    t.add(account("a2", "Zebra"))
    t.add(ou("ou-a", "Alpha"))
    t.add(ou("ou-c", "ALPHA2"))
    t.add(account("a3", "Ärger"))  # casefold, not locale: sorts after ASCII letters
    t.add(account("a4", "STRASSE"))
    t.add(account("a5", "straße"))  # casefolds to "strasse": tie broken by id
    assert ids(t.children(ROOT)) == ["ou-a", "ou-c", "ou-b", "a1", "a4", "a5", "a2", "a3"]


def test_order_updates_after_rename(tree: OrgTree) -> None:
    assert ids(tree.children("ou-prd")) == ["333", "444"]
    tree.add(account("333", "Zulu", "ou-prd"))
    assert ids(tree.children("ou-prd")) == ["444", "333"]


def test_walk_is_depth_first_in_export_order(tree: OrgTree) -> None:
    assert ids(list(tree.walk(ROOT))) == [
        ROOT,
        "ou-sec",
        "222",
        "ou-wkl",
        "ou-prd",
        "333",
        "444",
        "111",
    ]
    assert list(tree.walk("missing")) == []


# -- paths ---------------------------------------------------------------------------


def test_path_escapes_slash_and_backslash_and_find_round_trips() -> None:
    t = OrgTree()
    t.add(root())
    t.add(ou("ou-1", "Dev/Test"))
    t.add(ou("ou-2", "back\\slash", "ou-1"))
    t.add(account("123", "a/b\\c/", "ou-2"))
    assert t.path("ou-1") == "/Root/Dev\\/Test"
    assert t.path("123") == "/Root/Dev\\/Test/back\\\\slash/a\\/b\\\\c\\/"
    for node_id in ("ou-1", "ou-2", "123", ROOT):
        assert t.find(t.path(node_id)) == t.get(node_id)
    # The unescaped form names a different (missing) path.
    assert t.find("/Root/Dev/Test") is None


def test_find_by_id_and_misses(tree: OrgTree) -> None:
    assert tree.find("333") == tree.get("333")
    assert tree.find("/Root/Workloads/Prod/App") == tree.get("333")
    assert tree.find("/Root/Workloads/Nope") is None
    assert tree.find("/") is None
    assert tree.find("nope") is None
    with pytest.raises(KeyError):
        tree.path("nope")


def test_ancestors_run_from_root_down(tree: OrgTree) -> None:
    assert ids(tree.ancestors("333")) == [ROOT, "ou-wkl", "ou-prd"]
    assert tree.ancestors(ROOT) == []


names = st.text(min_size=1, max_size=12)


@given(st.lists(names, min_size=1, max_size=4))
def test_any_names_path_find_round_trip(chain: list[str]) -> None:
    t = OrgTree()
    t.add(root())
    parent = ROOT
    for i, name in enumerate(chain):
        t.add(ou(f"ou-{i}", name, parent))
        parent = f"ou-{i}"
    t.add(account("999", chain[-1], parent))
    for node in t.walk(ROOT):
        assert t.find(t.path(node.id)) == node


# -- counts --------------------------------------------------------------------------


def test_counts_are_totals_below_and_direct_accounts_are_direct(tree: OrgTree) -> None:
    assert tree.counts(ROOT) == Counts(ous=3, accounts=4)
    assert tree.counts("ou-wkl") == Counts(ous=1, accounts=2)
    assert tree.counts("ou-prd") == Counts(ous=0, accounts=2)
    assert tree.counts("333") == Counts(0, 0)
    assert tree.direct_accounts(ROOT) == 1
    assert tree.direct_accounts("ou-wkl") == 0
    assert tree.direct_accounts("ou-prd") == 2
    assert tree.totals() == Counts(ous=3, accounts=4)


def test_counts_follow_changes(tree: OrgTree) -> None:
    assert tree.counts(ROOT).accounts == 4
    tree.add(account("555", "More", "ou-prd"))
    assert tree.counts(ROOT).accounts == 5
    assert tree.counts("ou-wkl").accounts == 3
    tree.remove("ou-prd")
    assert tree.counts(ROOT) == Counts(ous=2, accounts=2)


# -- details and incomplete flags ----------------------------------------------------


def test_details_default_pending_and_are_copies(tree: OrgTree) -> None:
    d = tree.details("333")
    assert (d.tags, d.tags_state, d.policies, d.policies_state) == (
        None,
        DetailState.PENDING,
        None,
        DetailState.PENDING,
    )
    source = {"team": "a"}
    tree.set_tags("333", source)
    source["team"] = "changed"
    got = tree.details("333").tags
    assert got == {"team": "a"}
    assert got is not None
    got["team"] = "mutated"
    assert tree.details("333").tags == {"team": "a"}
    tree.set_tags_state("444", DetailState.DENIED)
    assert tree.details("444").tags_state is DetailState.DENIED


def test_policies_are_sorted_by_name(tree: OrgTree) -> None:
    tree.set_policies("ou-wkl", (Policy("p-2", "Zeta"), Policy("p-1", "Alpha")))
    d = tree.details("ou-wkl")
    assert d.policies == (Policy("p-1", "Alpha"), Policy("p-2", "Zeta"))
    assert d.policies_state is DetailState.LOADED


def test_incomplete_flags(tree: OrgTree) -> None:
    v = tree.version
    tree.mark_incomplete("ou-prd", "throttled")
    tree.mark_incomplete("ou-sec", "AccessDenied")
    assert tree.version > v
    assert tree.is_incomplete("ou-prd")
    assert not tree.is_incomplete("ou-wkl")
    assert tree.incomplete() == {"ou-prd": "throttled", "ou-sec": "AccessDenied"}
    assert tree.incomplete_under(ROOT) == ["ou-sec", "ou-prd"]  # walk order
    assert tree.incomplete_under("ou-wkl") == ["ou-prd"]
    assert tree.incomplete_under("333") == []
    tree.clear_incomplete("ou-prd")
    tree.clear_incomplete("ou-prd")  # twice is fine
    assert tree.incomplete_under(ROOT) == ["ou-sec"]


# -- concurrency ---------------------------------------------------------------------


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    # Switch threads far more often than the default 5 ms so unlocked dict/set iteration
    # in the tree would actually collide with writers in a short test.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("fast_thread_switching")
def test_concurrent_writers_and_readers_keep_invariants() -> None:
    t = OrgTree()
    t.add(root())
    writers, ous_each, accounts_each = 8, 10, 5
    errors: list[BaseException] = []
    start = threading.Barrier(writers + 2)
    done = threading.Event()

    def write(w: int) -> None:
        try:
            start.wait()
            for i in range(ous_each):
                ou_id = f"ou-{w}-{i}"
                # Alternate parents so writers interleave on shared child lists.
                parent = ROOT if i % 2 == 0 else f"ou-{(w + 1) % writers}-{i - 1}"
                t.add(ou(ou_id, f"OU {w} {i}", parent))
                for a in range(accounts_each):
                    t.add(account(f"{w:02d}{i:02d}{a:02d}", f"acct {a}", ou_id))
                t.set_tags(ou_id, {"w": str(w)})
                if i == 3:
                    t.mark_incomplete(ou_id, "test")
        except BaseException as e:
            errors.append(e)

    def read() -> None:
        try:
            start.wait()
            while not done.is_set():
                walked = list(t.walk(ROOT))
                assert len({n.id for n in walked}) == len(walked)
                t.counts(ROOT)
                t.totals()
                t.nodes()
                for n in walked[:20]:
                    t.path(n.id)
                    t.children(n.id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    readers = [threading.Thread(target=read) for _ in range(2)]
    for th in threads + readers:
        th.start()
    for th in threads:
        th.join()
    done.set()
    for th in readers:
        th.join()
    assert errors == []

    expected_ous = writers * ous_each
    expected_accounts = expected_ous * accounts_each
    assert len(t) == 1 + expected_ous + expected_accounts
    assert t.totals() == Counts(expected_ous, expected_accounts)
    # Every node is reachable from the root exactly once, and agrees with its parent link.
    walked = list(t.walk(ROOT))
    assert len(walked) == len(t)
    for node in walked:
        for child in t.children(node.id):
            assert child.parent_id == node.id
    assert t.counts(ROOT) == Counts(expected_ous, expected_accounts)
    for w in range(writers):
        assert t.direct_accounts(f"ou-{w}-0") == accounts_each
        assert t.details(f"ou-{w}-0").tags == {"w": str(w)}
    assert len(t.incomplete_under(ROOT)) == writers


# -- gaps: what a tree lacks, by kind ---------------------------------------------------------


def _gap_tree(*, details: bool = True) -> OrgTree:
    t = OrgTree(details=details)
    t.add(Node("r-1", NodeType.ROOT, "Root", "arn:r", None))
    t.add(Node("ou-1", NodeType.ORGANIZATIONAL_UNIT, "A", "arn:a", "r-1"))
    t.add(Node("ou-2", NodeType.ORGANIZATIONAL_UNIT, "B", "arn:b", "r-1"))
    t.add(Node("111111111111", NodeType.ACCOUNT, "x", "arn:x", "ou-1"))
    for node_id in ("r-1", "ou-1", "ou-2", "111111111111"):
        t.set_tags(node_id, {})
        t.set_policies(node_id, ())
    t.set_tags_state("111111111111", DetailState.FAILED)
    t.set_policies_state("ou-2", DetailState.DENIED)
    return t


def test_gaps_by_kind_and_subtree() -> None:
    t = _gap_tree()
    assert not t.gaps("r-1").structure
    t.mark_incomplete("ou-1", "ListChildren: AccessDeniedException", cause=Missing.DENIED)
    t.mark_policy_targets_missing("p-2", Missing.FAILED)
    whole = t.gaps()
    assert whole.structure == {"ou-1": Missing.DENIED}
    assert whole.tags == {"111111111111": Missing.FAILED}
    assert whole.policies == {"ou-2": Missing.DENIED}
    assert whole.policy_targets == {"p-2": Missing.FAILED}
    assert whole.summary() == (
        "children of 1 branch not permitted; tags of 1 node failed;"
        " policies of 1 node not permitted; targets of 1 policy failed"
    )
    under = t.gaps("ou-1")
    assert (under.structure, under.tags, under.policies) == (
        {"ou-1": Missing.DENIED},
        {"111111111111": Missing.FAILED},
        {},
    )
    assert under.policy_targets == {"p-2": Missing.FAILED}  # may touch any node
    t.remove("ou-1")
    t.clear_policy_targets_missing("p-2")
    assert t.incomplete_causes() == {} and t.gaps().tags == {}


def test_a_structure_only_tree_has_only_structure_gaps() -> None:
    t = _gap_tree(details=False)
    assert not t.gaps()
    t.mark_incomplete("ou-2", "ListAccountsForParent: ServiceException")
    assert t.gaps().by_kind() == {
        "structure": {"ou-2": Missing.FAILED},
        "tags": {},
        "policies": {},
        "policy_targets": {},
    }


def test_a_forest_answers_gaps_from_each_organization() -> None:
    a, b = _gap_tree(), OrgTree()
    b.add(Node("r-2", NodeType.ROOT, "Root", "arn:r2", None))  # nothing fetched: all missing
    forest = Forest([a, b])
    assert forest.gaps("r-2").tags == {"r-2": Missing.NOT_FETCHED}
    assert forest.gaps().tags == {"111111111111": Missing.FAILED, "r-2": Missing.NOT_FETCHED}
    assert forest.detail_gaps("ou-2") == (None, Missing.DENIED)
    with pytest.raises(AttributeError):  # a Forest has no writers (was: TypeError stubs)
        forest.mark_policy_targets_missing("p-1", Missing.DENIED)  # type: ignore[attr-defined]


# Every writer of OrgTree, written out by hand.
ORGTREE_WRITERS = [
    "set_organization",
    "add",
    "add_many",
    "remove",
    "set_tags",
    "set_tags_state",
    "set_policies",
    "add_policy_attachments",
    "set_policies_state",
    "set_details_many",
    "mark_incomplete",
    "clear_incomplete",
    "set_details_wanted",
    "mark_policy_targets_missing",
    "clear_policy_targets_missing",
]


def test_a_forest_is_a_read_only_view_not_an_orgtree() -> None:
    # Forest used to subclass OrgTree without its constructor: add_many([]) ran OrgTree's
    # and failed on a lock the Forest never made. Now it shares the read-only TreeView.
    forest = Forest([OrgTree(), OrgTree()])
    assert not isinstance(forest, OrgTree)
    assert all(callable(getattr(OrgTree, name)) for name in ORGTREE_WRITERS)
    assert [name for name in ORGTREE_WRITERS if hasattr(forest, name)] == []
