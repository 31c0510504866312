"""Several organizations read as one tree: each organization's roots side by side.

The TUI shows every `--profile`'s organization in one tree widget and one details pane,
which read an `OrgTree`; a Forest answers those reads by asking the organization that holds
the node. Ids never clash across organizations (AWS ids are global), and when the same
organization is reached twice its nodes are answered by the first.

Read-only: each organization's own OrgTree is what its crawler writes to. A Forest is no
OrgTree: both answer `tree_view.TreeView`, which is what readers take.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from orgtree_tui.gaps import KINDS, Gaps, Missing
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts, Details, Node, Organization, OrgFacts, PolicyDocument

_EMPTY = OrgTree()


class Forest:
    """A `TreeView` over several OrgTrees; it has no writes (each tree's crawl writes)."""

    def __init__(self, trees: Sequence[OrgTree]) -> None:
        self.trees = list(trees)

    def owner(self, node_id: str) -> OrgTree:
        """The organization's tree holding the node (an empty tree if none does)."""
        for tree in self.trees:
            if node_id in tree:
                return tree
        return _EMPTY

    # -- reads -----------------------------------------------------------------------------

    @property
    def organization(self) -> Organization | None:
        """The first organization's record (each root's own is `owner(root).organization`)."""
        return next((t.organization for t in self.trees if t.organization), None)

    @property
    def version(self) -> int:
        return sum(t.version for t in self.trees)

    def __len__(self) -> int:
        return sum(len(t) for t in self.trees)

    def __contains__(self, node_id: object) -> bool:
        return any(node_id in t for t in self.trees)

    def get(self, node_id: str) -> Node | None:
        return self.owner(node_id).get(node_id)

    def nodes(self) -> list[Node]:
        return [n for t in self.trees for n in t.nodes()]

    def roots(self) -> list[Node]:
        """In the order the organizations were given (`--profile` order), not by name."""
        return [r for t in self.trees for r in t.roots()]

    def children(self, node_id: str) -> list[Node]:
        return self.owner(node_id).children(node_id)

    def child_ids(self, node_id: str) -> list[str]:
        return self.owner(node_id).child_ids(node_id)

    def parent(self, node_id: str) -> Node | None:
        return self.owner(node_id).parent(node_id)

    def ancestors(self, node_id: str) -> list[Node]:
        return self.owner(node_id).ancestors(node_id)

    def path(self, node_id: str) -> str:
        tree = self.owner(node_id)
        if tree is _EMPTY:
            raise KeyError(node_id)
        return tree.path(node_id)

    def walk(self, node_id: str) -> Iterator[Node]:
        return self.owner(node_id).walk(node_id)

    def find(self, ref: str) -> Node | None:
        return next((n for t in self.trees if (n := t.find(ref)) is not None), None)

    def counts(self, node_id: str) -> Counts:
        return self.owner(node_id).counts(node_id)

    def direct_accounts(self, node_id: str) -> int:
        return self.owner(node_id).direct_accounts(node_id)

    def details(self, node_id: str) -> Details:
        return self.owner(node_id).details(node_id)

    def details_of(self, node_ids: Iterable[str]) -> dict[str, Details]:
        out: dict[str, Details] = {}
        for node_id in node_ids:
            out.update(self.owner(node_id).details_of([node_id]))
        return out

    def incomplete(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for tree in reversed(self.trees):
            merged.update(tree.incomplete())
        return merged

    def is_incomplete(self, node_id: str) -> bool:
        return self.owner(node_id).is_incomplete(node_id)

    def incomplete_under(self, node_id: str) -> list[str]:
        return self.owner(node_id).incomplete_under(node_id)

    # -- gaps: each organization answers for its own nodes ------------------------------------

    @property
    def details_wanted(self) -> bool:
        return any(t.details_wanted for t in self.trees)

    def incomplete_causes(self) -> dict[str, Missing]:
        merged: dict[str, Missing] = {}
        for tree in reversed(self.trees):
            merged.update(tree.incomplete_causes())
        return merged

    def policy_targets_missing(self) -> dict[str, Missing]:
        merged: dict[str, Missing] = {}
        for tree in reversed(self.trees):
            merged.update(tree.policy_targets_missing())
        return dict(sorted(merged.items()))

    def detail_gaps(self, node_id: str) -> tuple[Missing | None, Missing | None]:
        return self.owner(node_id).detail_gaps(node_id)

    def policy_documents(self) -> dict[str, PolicyDocument]:
        merged: dict[str, PolicyDocument] = {}
        for tree in reversed(self.trees):
            merged.update(tree.policy_documents())
        return dict(sorted(merged.items()))

    def facts_for(self, node_id: str) -> OrgFacts:
        return self.owner(node_id).facts()

    def gaps(self, node_id: str | None = None) -> Gaps:
        if node_id is not None:
            return self.owner(node_id).gaps(node_id)
        every = [t.gaps() for t in self.trees]
        return Gaps(*({k: v for g in every for k, v in getattr(g, kind).items()} for kind in KINDS))

    def totals(self) -> Counts:
        counts = [t.totals() for t in self.trees]
        return Counts(sum(c.ous for c in counts), sum(c.accounts for c in counts))
