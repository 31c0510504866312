"""What applies to a node, and where it comes from: computed from the tree and the
attachments alone, no calls.

For every policy type enabled on the root a node has the policies attached to it directly
and those it inherits, each with the ancestor it is attached to (one entry per ancestor that
attaches it: a policy attached at the root and again at an OU appears twice). For SCPs and
RCPs (authorization policies: an action must be allowed at every level from the root down,
as AWS evaluates them) the `chain` gives the levels one by one, root first, the node last;
for the management types (tag, backup, AI-services opt-out...) the same levels are what
AWS merges, which orgtree-tui does not (DescribeEffectivePolicy does).

UI-free: the details pane, the exporters and `export --policy` read the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orgtree_tui.records import AUTHORIZATION_TYPES, Details, DetailState, Policy
from orgtree_tui.tree_view import TreeView


@dataclass(frozen=True, slots=True)
class Inherited:
    policy: Policy
    from_id: str  # the ancestor the policy is attached to


@dataclass(frozen=True, slots=True)
class Level:
    """One level of the chain: a node and what is attached to it (None: not known)."""

    node_id: str
    attached: tuple[Policy, ...] | None


@dataclass(frozen=True, slots=True)
class Applied:
    """One type's policies at one node. `attached` None: the node's own attachments are not
    known; `inherited` None: some ancestor's are not (the ones known are in `chain`)."""

    policy_type: str
    attached: tuple[Policy, ...] | None
    inherited: tuple[Inherited, ...] | None
    chain: tuple[Level, ...]  # root first, the node itself last

    @property
    def authorization(self) -> bool:
        """SCPs and RCPs: allowed only if allowed at every level of `chain`."""
        return self.policy_type in AUTHORIZATION_TYPES

    @property
    def known(self) -> bool:
        return self.attached is not None and self.inherited is not None


def _attached(details: Details | None, policy_type: str) -> tuple[Policy, ...] | None:
    if details is None:
        return None
    found = details.by_type.get(policy_type)
    if found is None or found.state is not DetailState.LOADED:
        return None
    return found.policies or ()


def applied(path: Sequence[str], details: Mapping[str, Details], policy_type: str) -> Applied:
    """`path`: node ids from the root down to the node; `details`: at least theirs."""
    chain = tuple(Level(i, _attached(details.get(i), policy_type)) for i in path)
    above = chain[:-1]
    inherited: tuple[Inherited, ...] | None = None
    if all(level.attached is not None for level in above):
        inherited = tuple(Inherited(p, lv.node_id) for lv in above for p in lv.attached or ())
    return Applied(policy_type, chain[-1].attached, inherited, chain)


def types_at(details: Details) -> list[str]:
    """The types a node must have (those enabled on the root), in a stable order."""
    return sorted(details.by_type)


def applied_at(tree: TreeView, node_id: str) -> dict[str, Applied]:
    """Every enabled type's `Applied` at one node of a tree."""
    path = [a.id for a in tree.ancestors(node_id)] + [node_id]
    details = tree.details_of(path)
    return {t: applied(path, details, t) for t in types_at(details[node_id])}


def policies_in(tree: TreeView) -> list[str]:
    """The id of every policy attached anywhere in the tree, any type."""
    every = tree.details_of([n.id for n in tree.nodes()])
    return sorted(
        {p.id for d in every.values() for s in d.by_type.values() for p in s.policies or ()}
    )
