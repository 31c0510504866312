"""A frozen copy of one subtree, taken once per export.

The crawl keeps writing while an export runs. Rendering from one copy keeps the tree, its
paths, counts and incomplete flags describing the same moment, and lets the renderers
walk the subtree as often as they like without taking the tree's lock again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from orgtree_tui.details import worst_state
from orgtree_tui.gaps import Gaps, find_gaps

# The model's own segment escaping, so a derived path is byte-for-byte `OrgTree.path`.
from orgtree_tui.paths import escape_segment
from orgtree_tui.records import (
    Details,
    DetailState,
    Node,
    NodeType,
    Organization,
    OrgFacts,
    PolicyDocument,
)
from orgtree_tui.tree_view import TreeView


@dataclass(frozen=True, slots=True)
class Entry:
    node: Node
    path: str
    details: Details
    incomplete: bool
    children: tuple[str, ...]
    accounts_below: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    root_id: str
    organization: Organization | None
    # Insertion order is the export order: depth first, OUs before accounts, by name.
    entries: dict[str, Entry]
    crawl_complete: bool
    gaps: Gaps = field(default_factory=Gaps)  # what this subtree lacks (orgtree_tui.gaps)
    facts: OrgFacts = field(default_factory=OrgFacts)  # the organization's policy types...
    # The subtree root's ancestors, root first, and their details: what it inherits from.
    above: tuple[str, ...] = ()
    above_details: dict[str, Details] = field(default_factory=dict)
    above_names: dict[str, str] = field(default_factory=dict)  # "inherited from <name>"
    # With `--policy-documents`: every policy that applies in the subtree (attached in it or
    # above it) -> its document (PENDING when never fetched); None when not asked for.
    documents: dict[str, PolicyDocument] | None = None
    # A filtered export (exporters.selection): its criteria and how many nodes matched.
    filter: dict[str, Any] | None = None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def root(self) -> Entry:
        return self.entries[self.root_id]

    def children(self, node_id: str) -> list[Entry]:
        return [self.entries[c] for c in self.entries[node_id].children]

    @property
    def incomplete_branches(self) -> list[str]:
        return [e.node.id for e in self if e.incomplete]

    @property
    def complete(self) -> bool:
        """Finished crawl, and nothing it was asked for is missing from this subtree: every
        branch listed, every node's tags and SCPs and every SCP's targets (with details)."""
        return self.crawl_complete and not self.incomplete_branches and not self.gaps

    def gaps_line(self) -> str:
        """What is missing, in one line ("" when nothing is): the diagram formats' note."""
        return f"incomplete: {self.gaps.summary()}" if self.gaps else ""

    def filter_line(self) -> str:
        """A filtered export's note ("" when not filtered): fixed words and a number, so it
        is inert in any format's comment (the criteria are in JSON's "filter")."""
        if self.filter is None:
            return ""
        matches = self.filter["matches"]
        said = "1 match and its" if matches == 1 else f"{matches} matches and their"
        return f"filtered: {said} ancestors"

    def count(self, node_type: NodeType) -> int:
        return sum(1 for e in self if e.node.type is node_type)


def matches_of(snaps: Sequence[Snapshot]) -> int | None:
    """How many nodes matched the filters of these snapshots (None: none is filtered)."""
    said = [s.filter["matches"] for s in snaps if s.filter is not None]
    return sum(said) if said else None


def take_snapshot(
    tree: TreeView, root_id: str, *, complete: bool, documents: bool = False
) -> Snapshot:
    """Raises KeyError when root_id is not in the tree."""
    # walk() copies the subtree under the tree's lock, so the structure is consistent even
    # if the crawl moves or removes nodes before we finish; paths and counts are derived
    # from this one copy instead of asking the live tree again.
    nodes = list(tree.walk(root_id))
    if not nodes:
        raise KeyError(root_id)
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    paths = {root_id: tree.path(root_id)}
    for node in nodes[1:]:
        # walk() reaches every node through its parent, so the parent is already here.
        assert node.parent_id is not None
        children[node.parent_id].append(node.id)
        paths[node.id] = f"{paths[node.parent_id]}/{escape_segment(node.name)}"

    is_account = {n.id: n.type is NodeType.ACCOUNT for n in nodes}
    below: dict[str, int] = {}
    # Reversed walk order visits every child before its parent.
    for node in reversed(nodes):
        below[node.id] = sum(below[c] + is_account[c] for c in children[node.id])
    incomplete = tree.incomplete()
    ancestors = tree.ancestors(root_id)
    above = tuple(a.id for a in ancestors)
    every = tree.details_of([*above, *paths])
    details = {i: every[i] for i in paths}
    facts = tree.facts_for(root_id)
    states = {i: (d.tags_state, worst_state(d.by_type)) for i, d in details.items()}
    gaps = find_gaps(
        paths,  # export order
        states,
        {i: cause for i, cause in tree.incomplete_causes().items() if i in incomplete},
        tree.policy_targets_missing(),
        details_wanted=tree.details_wanted,
        # The organization's facts are written in every export, so their gaps are too.
        facts=facts,
    )
    entries = {
        n.id: Entry(
            node=n,
            path=paths[n.id],
            details=details[n.id],
            incomplete=n.id in incomplete,
            children=tuple(children[n.id]),
            accounts_below=below[n.id],
        )
        for n in nodes
    }
    return Snapshot(
        root_id,
        tree.organization,
        entries,
        crawl_complete=complete,
        gaps=gaps,
        facts=facts,
        above=above,
        above_details={i: every[i] for i in above},
        above_names={a.id: a.name for a in ancestors},
        documents=_documents(tree, every) if documents else None,
    )


def _documents(tree: TreeView, details: dict[str, Details]) -> dict[str, PolicyDocument]:
    known = tree.policy_documents()
    applying = {
        p.id: p
        for d in details.values()
        for found in d.by_type.values()
        for p in found.policies or ()
    }
    return {
        i: known.get(i) or PolicyDocument(i, p, None, DetailState.PENDING)
        for i, p in sorted(applying.items())
    }
