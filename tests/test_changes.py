"""What changed between two crawls: added, removed, moved, renamed, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from orgtree_tui.cache import store
from orgtree_tui.changes import Changes, diff
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType

ROOT = "r-root"


def node(node_id: str, name: str, parent: str | None, kind: NodeType) -> Node:
    return Node(node_id, kind, name, f"arn:aws:organizations::1:{node_id}", parent)


def build(ous: dict[str, tuple[str, str]], accounts: dict[str, tuple[str, str]]) -> OrgTree:
    """ous and accounts map id -> (name, parent id)."""
    tree = OrgTree()
    tree.add(node(ROOT, "Root", None, NodeType.ROOT))
    for node_id, (name, parent) in ous.items():
        tree.add(node(node_id, name, parent, NodeType.ORGANIZATIONAL_UNIT))
    for node_id, (name, parent) in accounts.items():
        tree.add(node(node_id, name, parent, NodeType.ACCOUNT))
    return tree


OUS = {"ou-a": ("Apps", ROOT), "ou-b": ("Security", ROOT), "ou-c": ("Prod", "ou-a")}
ACCOUNTS = {
    "111": ("web", "ou-c"),
    "222": ("audit", "ou-b"),
    "333": ("legacy", "ou-a"),
    "444": ("sandbox", ROOT),
}


def test_a_move_a_rename_an_addition_and_a_removal_are_reported_exactly() -> None:
    old = build(OUS, ACCOUNTS)
    new_ous = {**OUS, "ou-b": ("SecOps", ROOT)}
    new_accounts = {k: v for k, v in ACCOUNTS.items() if k != "333"}
    new_accounts["111"] = ("web", "ou-b")
    new_accounts["555"] = ("data", "ou-c")

    changes = diff(old, build(new_ous, new_accounts))

    assert changes.added == ("555",)
    assert changes.removed == ("333",)
    assert dict(changes.moved) == {"111": ("ou-c", "ou-b")}
    assert dict(changes.renamed) == {"ou-b": ("Security", "SecOps")}
    assert changes.summary() == "1 added, 1 removed, 1 moved, 1 renamed"
    assert changes.highlight == {"555", "111", "ou-b"}
    assert not changes.is_empty


def test_the_same_tree_has_no_changes() -> None:
    tree = build(OUS, ACCOUNTS)
    changes = diff(tree, tree)
    assert changes == Changes()
    assert changes.is_empty
    assert changes.summary() == "no changes"
    assert changes.highlight == frozenset()


def test_other_field_changes_are_not_moves_or_renames() -> None:
    old = build(OUS, ACCOUNTS)
    new = build(OUS, ACCOUNTS)
    new.add(Node("444", NodeType.ACCOUNT, "sandbox", "arn:other", ROOT, state="SUSPENDED"))
    assert diff(old, new).is_empty


def test_a_node_can_be_moved_and_renamed_at_once() -> None:
    old = build(OUS, ACCOUNTS)
    new = build(OUS, {**ACCOUNTS, "222": ("audit-2", "ou-c")})
    changes = diff(old, new)
    assert dict(changes.moved) == {"222": ("ou-b", "ou-c")}
    assert dict(changes.renamed) == {"222": ("audit", "audit-2")}
    assert changes.summary() == "1 moved, 1 renamed"


def test_removing_an_ou_removes_everything_below_it() -> None:
    old = build(OUS, ACCOUNTS)
    new = build(OUS, ACCOUNTS)
    new.remove("ou-a")
    changes = diff(old, new)
    assert changes.removed == ("111", "333", "ou-a", "ou-c")
    assert changes.summary() == "4 removed"


def test_summary_uses_thousands_separators() -> None:
    changes = Changes(added=tuple(str(i) for i in range(1200)))
    assert changes.summary() == "1,200 added"


def test_a_tree_and_its_cached_copy_do_not_differ(tmp_path: Path) -> None:
    tree = build(OUS, ACCOUNTS)
    path = store.save(
        tree, source="profile x", complete=True, crawled_at=datetime.now(UTC), path=tmp_path / "c"
    )
    loaded = store.load("profile x", path=path).cached
    assert loaded is not None
    assert diff(tree, loaded.tree).is_empty


def test_diff_of_fifty_thousand_accounts_finds_the_one_change() -> None:
    # How fast: bench/core_bench.py (a duration asserted here failed on busy machines).
    ous = {f"ou-{i}": (f"OU {i}", ROOT if i < 20 else f"ou-{i // 20 - 1}") for i in range(2000)}
    accounts = {f"{i:012d}": (f"acct {i}", f"ou-{i % 2000}") for i in range(50_000)}
    old = build(ous, accounts)
    accounts["000000000007"] = ("moved", "ou-5")
    new = build(ous, accounts)
    changes = diff(old, new)
    assert changes.summary() == "1 moved, 1 renamed"
    assert changes.moved == {"000000000007": ("ou-7", "ou-5")}
    assert changes.renamed == {"000000000007": ("acct 7", "moved")}


# -- properties ---------------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    n_ous = draw(st.integers(0, 8))
    ous: dict[str, tuple[str, str]] = {}
    for i in range(n_ous):
        # Parents come from earlier OUs only, so the structure is always a tree.
        parent = draw(st.sampled_from([ROOT, *ous]))
        ous[f"ou-{i}"] = (draw(st.text(max_size=6)), parent)
    parents = [ROOT, *ous]
    n_accounts = draw(st.integers(0, 15))
    accounts = {
        f"{i:012d}": (draw(st.text(max_size=6)), draw(st.sampled_from(parents)))
        for i in range(n_accounts)
    }
    return ous, accounts


@given(trees())
def test_a_tree_never_differs_from_itself_or_an_identical_rebuild(
    shape: tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]],
) -> None:
    tree = build(*shape)
    assert diff(tree, tree).is_empty
    assert diff(tree, build(*shape)).is_empty


@settings(max_examples=200)
@given(trees(), st.data())
def test_random_mutations_are_reported_exactly(
    shape: tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]], data: st.DataObject
) -> None:
    ous, accounts = shape
    parents = [ROOT, *ous]
    # Each account gets at most one mutation, so the expected answer is easy to state.
    fate = {
        a: data.draw(st.sampled_from(["keep", "remove", "move", "rename", "both"]), label=a)
        for a in accounts
    }
    renamed_ous = data.draw(st.sets(st.sampled_from(sorted(ous))) if ous else st.just(set()))
    n_new = data.draw(st.integers(0, 5), label="new accounts")

    new_ous = {k: (f"{name}~" if k in renamed_ous else name, p) for k, (name, p) in ous.items()}
    new_accounts: dict[str, tuple[str, str]] = {}
    expected_moved: dict[str, tuple[str | None, str | None]] = {}
    expected_renamed = {k: (ous[k][0], new_ous[k][0]) for k in renamed_ous}
    for account_id, (name, parent) in accounts.items():
        what = fate[account_id]
        if what == "remove":
            continue
        if what in ("move", "both") and len(parents) > 1:
            other = [p for p in parents if p != parent]
            new_parent = data.draw(st.sampled_from(other), label=f"{account_id} to")
            expected_moved[account_id] = (parent, new_parent)
            parent = new_parent
        if what in ("rename", "both"):
            expected_renamed[account_id] = (name, name + "~")
            name += "~"
        new_accounts[account_id] = (name, parent)
    added = [f"new-{i}" for i in range(n_new)]
    for account_id in added:
        new_accounts[account_id] = ("new", data.draw(st.sampled_from(parents)))

    changes = diff(build(ous, accounts), build(new_ous, new_accounts))

    assert changes.added == tuple(sorted(added))
    assert changes.removed == tuple(sorted(a for a, f in fate.items() if f == "remove"))
    assert dict(changes.moved) == expected_moved
    assert dict(changes.renamed) == expected_renamed
    assert changes.is_empty == (
        not (
            added or expected_moved or expected_renamed or any(f == "remove" for f in fate.values())
        )
    )
