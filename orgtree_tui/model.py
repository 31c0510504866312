"""The organization tree: a thread-safe index of the records the crawl found (see records).

The crawl writes from its dispatcher thread while the UI and exporters read from theirs, so
every public method takes the tree's lock and returns immutable values or fresh copies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from orgtree_tui.counts import SubtreeCounts
from orgtree_tui.details import DetailTable
from orgtree_tui.gaps import MISSING_DETAIL, Gaps, Missing, find_gaps
from orgtree_tui.paths import escape_segment, split_path
from orgtree_tui.records import (
    SCP,
    Counts,
    DelegatedAdministrator,
    Details,
    DetailState,
    Node,
    NodeType,
    Organization,
    OrgFacts,
    Policy,
    PolicyDocument,
    sort_key,
)


@dataclass
class _Children:
    ids: set[str] = field(default_factory=set)
    ordered: list[str] | None = None


class OrgTree:
    """Every node the crawl has placed, indexed by id and by parent."""

    def __init__(self, *, details: bool = True) -> None:
        self._lock = threading.RLock()
        # Whether the crawl was asked for tags and SCPs: a `--no-details` tree lacks them
        # on purpose, which is not a gap.
        self._details_wanted = details
        self._incomplete_cause: dict[str, Missing] = {}
        self._policy_targets_missing: dict[str, Missing] = {}
        self.organization: Organization | None = None
        self._facts = OrgFacts()
        self._documents: dict[str, PolicyDocument] = {}
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, _Children] = {}
        self._roots: list[str] = []
        self._details = DetailTable()
        self._incomplete: dict[str, str] = {}
        self._version = 0
        self._counts = SubtreeCounts(self._nodes)

    # -- writes -------------------------------------------------------------------------

    def set_organization(self, organization: Organization) -> None:
        with self._lock:
            self.organization = organization

    def set_policy_types(self, types: dict[str, str]) -> None:
        """The policy types on the root (type -> status, as ListRoots gives them)."""
        with self._lock:
            self._facts = replace(self._facts, policy_types=dict(types))
            self._version += 1

    def set_delegated_administrators(
        self, admins: tuple[DelegatedAdministrator, ...] | None, state: DetailState
    ) -> None:
        with self._lock:
            self._facts = replace(
                self._facts, delegated_administrators=admins, delegated_administrators_state=state
            )

    def set_trusted_services(self, services: tuple[str, ...] | None, state: DetailState) -> None:
        with self._lock:
            self._facts = replace(
                self._facts, trusted_services=services, trusted_services_state=state
            )

    def set_policy_document(self, document: PolicyDocument) -> None:
        """A document that arrived; a failure never replaces one that had (it is kept)."""
        with self._lock:
            old = self._documents.get(document.policy_id)
            if document.content is None and old is not None and old.content is not None:
                return
            self._documents[document.policy_id] = document

    def policy_document(self, policy_id: str) -> PolicyDocument:
        with self._lock:
            found = self._documents.get(policy_id)
            return found or PolicyDocument(policy_id, None, None, DetailState.PENDING)

    def policy_documents(self) -> dict[str, PolicyDocument]:
        """Every document asked for, by policy id (what the cache keeps)."""
        with self._lock:
            return dict(sorted(self._documents.items()))

    def set_facts(self, facts: OrgFacts) -> None:
        with self._lock:
            self._facts = facts

    def add(self, node: Node) -> bool:
        """Place a node; a node seen again under another parent moves. True if it changed."""
        with self._lock:
            old = self._nodes.get(node.id)
            if old == node:
                return False
            moved = old is not None and old.parent_id != node.parent_id
            if old is not None and moved:
                self._counts.detach(old)
                self._unlink(old)
            if old is None:
                self._counts.created(node)
            self._nodes[node.id] = node
            if old is None or moved:
                self._counts.attach(node)
            if node.parent_id is None:
                if node.id not in self._roots:
                    self._roots.append(node.id)
            else:
                kids = self._children.setdefault(node.parent_id, _Children())
                kids.ids.add(node.id)
                kids.ordered = None
            self._version += 1
            return True

    def add_many(self, nodes: Iterable[Node]) -> None:
        """`add` for a batch (a tree read from the cache): one lock, and the counts are
        worked out once at the end instead of up the ancestors at every node."""
        with self._lock:
            for node in nodes:
                old = self._nodes.get(node.id)
                if old == node:
                    continue
                if old is not None and old.parent_id != node.parent_id:
                    self._unlink(old)
                self._nodes[node.id] = node
                if node.parent_id is None:
                    if node.id not in self._roots:
                        self._roots.append(node.id)
                else:
                    kids = self._children.setdefault(node.parent_id, _Children())
                    kids.ids.add(node.id)
                    kids.ordered = None
            self._version += 1
            self._counts.recount(self._roots, {p: k.ids for p, k in self._children.items()})

    def remove(self, node_id: str) -> None:
        """Drop a node and everything under it."""
        with self._lock:
            node = self._nodes.get(node_id)
            if node is None:
                return
            self._counts.detach(node)
            for gone in list(self._walk_ids(node_id)):
                self._counts.deleted(self._nodes[gone])
                self._nodes.pop(gone, None)
                self._children.pop(gone, None)
                self._details.forget(gone)
                self._incomplete.pop(gone, None)
                self._incomplete_cause.pop(gone, None)
            self._unlink(node)
            self._version += 1

    def _unlink(self, node: Node) -> None:
        if node.parent_id is None:
            if node.id in self._roots:
                self._roots.remove(node.id)
            return
        kids = self._children.get(node.parent_id)
        if kids is not None:
            kids.ids.discard(node.id)
            kids.ordered = None

    def set_tags(self, node_id: str, tags: dict[str, str]) -> None:
        with self._lock:
            self._details.set_tags(node_id, tags)

    def set_tags_state(self, node_id: str, state: DetailState) -> None:
        with self._lock:
            self._details.set_tags_state(node_id, state)

    def set_policies(
        self, node_id: str, policies: tuple[Policy, ...], policy_type: str = SCP
    ) -> None:
        with self._lock:
            self._details.set_policies(node_id, policies, policy_type)

    def add_policy_attachments(self, policy: Policy, node_ids: Iterable[str]) -> None:
        """One page of a policy's targets: add it to each node's list so far. The state is
        left alone (PENDING until `set_policies` gives the final list)."""
        with self._lock:
            self._details.add_policy_attachments(policy, node_ids)

    def set_policies_state(self, node_id: str, state: DetailState, policy_type: str = SCP) -> None:
        with self._lock:
            self._details.set_policies_state(node_id, state, policy_type)

    def set_details_many(
        self,
        tags: dict[str, dict[str, str]],
        policies: dict[str, tuple[Policy, ...]],
        states: dict[str, tuple[DetailState | None, DetailState | None]],
        typed: dict[str, dict[str, tuple[Policy, ...]]] | None = None,
        typed_states: dict[str, dict[str, DetailState]] | None = None,
    ) -> None:
        """set_tags, set_policies and the states (tags, SCPs; None: leave) of many nodes
        under one lock; `typed`/`typed_states` (type -> node -> ...) for any policy type."""
        with self._lock:
            self._details.set_many(tags, policies, states, typed, typed_states)

    def mark_incomplete(
        self, node_id: str, reason: str, *, cause: Missing = Missing.FAILED
    ) -> None:
        """The children of this node could not all be listed: `reason` for people (the
        call and the error), `cause` for the exports."""
        with self._lock:
            self._incomplete[node_id] = reason
            self._incomplete_cause[node_id] = cause
            self._version += 1

    def clear_incomplete(self, node_id: str) -> None:
        with self._lock:
            self._incomplete_cause.pop(node_id, None)
            if self._incomplete.pop(node_id, None) is not None:
                self._version += 1

    # -- what is missing beyond the branches (see orgtree_tui.gaps) -------------------------

    def set_details_wanted(self, wanted: bool) -> None:
        with self._lock:
            self._details_wanted = wanted

    def mark_policy_targets_missing(self, policy_id: str, reason: Missing) -> None:
        """The targets of this policy could not all be listed: any node's SCPs may lack it."""
        with self._lock:
            self._policy_targets_missing[policy_id] = reason

    def clear_policy_targets_missing(self, policy_id: str) -> None:
        with self._lock:
            self._policy_targets_missing.pop(policy_id, None)

    # -- reads --------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """Bumped by every structural change; lets readers cache derived values."""
        return self._version

    def __len__(self) -> int:
        with self._lock:
            return len(self._nodes)

    def __contains__(self, node_id: object) -> bool:
        with self._lock:
            return node_id in self._nodes

    def get(self, node_id: str) -> Node | None:
        with self._lock:
            return self._nodes.get(node_id)

    def nodes(self) -> list[Node]:
        with self._lock:
            return list(self._nodes.values())

    def roots(self) -> list[Node]:
        with self._lock:
            return sorted((self._nodes[r] for r in self._roots), key=sort_key)

    def children(self, node_id: str) -> list[Node]:
        """Children in export order: OUs first, then accounts, each by name."""
        with self._lock:
            return [self._nodes[c] for c in self._ordered_children(node_id)]

    def child_ids(self, node_id: str) -> list[str]:
        with self._lock:
            return list(self._ordered_children(node_id))

    def _ordered_children(self, node_id: str) -> list[str]:
        kids = self._children.get(node_id)
        if kids is None:
            return []
        if kids.ordered is None:
            kids.ordered = sorted(kids.ids, key=lambda c: sort_key(self._nodes[c]))
        return kids.ordered

    def parent(self, node_id: str) -> Node | None:
        with self._lock:
            node = self._nodes.get(node_id)
            if node is None or node.parent_id is None:
                return None
            return self._nodes.get(node.parent_id)

    def ancestors(self, node_id: str) -> list[Node]:
        """From the root down to, not including, the node."""
        with self._lock:
            chain: list[Node] = []
            node = self._nodes.get(node_id)
            while node is not None and node.parent_id is not None:
                node = self._nodes.get(node.parent_id)
                if node is not None:
                    chain.append(node)
            chain.reverse()
            return chain

    def path(self, node_id: str) -> str:
        """The name path from the root, e.g. `/Root/Workloads/Prod`."""
        with self._lock:
            node = self._nodes.get(node_id)
            if node is None:
                raise KeyError(node_id)
            names = [a.name for a in self.ancestors(node_id)] + [node.name]
            return "/" + "/".join(escape_segment(n) for n in names)

    def walk(self, node_id: str) -> Iterator[Node]:
        """The node and all below it, depth first, in export order."""
        with self._lock:
            ids = list(self._walk_ids(node_id))
            return iter([self._nodes[i] for i in ids])

    def _walk_ids(self, node_id: str) -> Iterator[str]:
        if node_id not in self._nodes:
            return
        stack = [node_id]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(self._ordered_children(current)))

    def find(self, ref: str) -> Node | None:
        """A node by id, or by name path from the root (`/Root/Security/Audit`)."""
        with self._lock:
            if not ref.startswith("/"):
                return self._nodes.get(ref)
            segments = split_path(ref)
            if not segments:
                return None
            level = [self._nodes[r] for r in self._roots]
            found: Node | None = None
            for segment in segments:
                found = next((n for n in sorted(level, key=sort_key) if n.name == segment), None)
                if found is None:
                    return None
                level = [self._nodes[c] for c in self._ordered_children(found.id)]
            return found

    def counts(self, node_id: str) -> Counts:
        """OUs and accounts below the node, at every depth."""
        with self._lock:
            return self._counts.of(node_id)

    def direct_accounts(self, node_id: str) -> int:
        with self._lock:
            kids = self._children.get(node_id)
            if kids is None:
                return 0
            return sum(1 for c in kids.ids if self._nodes[c].type is NodeType.ACCOUNT)

    def facts(self) -> OrgFacts:
        """The organization's policy types, delegated administrators, trusted services."""
        with self._lock:
            return self._facts

    def facts_for(self, node_id: str) -> OrgFacts:
        """`facts`: one tree is one organization (the TreeView reading of it)."""
        return self.facts()

    def policy_types_known(self) -> list[str]:
        """Every policy type some node has word of, enabled or not (what the cache keeps)."""
        with self._lock:
            return self._details.known_types()

    def raw_policies(
        self, policy_type: str
    ) -> tuple[dict[str, tuple[Policy, ...]], dict[str, DetailState]]:
        """One type's attachments and states as stored, enabled or not (for the cache)."""
        with self._lock:
            return self._details.raw(policy_type)

    def details(self, node_id: str) -> Details:
        with self._lock:
            return self._details.of(node_id, self._facts.enabled_types())

    def details_of(self, node_ids: Iterable[str]) -> dict[str, Details]:
        """`details` of many nodes under one lock: one consistent moment, and an export of
        50,000 nodes does not take the lock 50,000 times."""
        with self._lock:
            return self._details.of_many(node_ids, self._facts.enabled_types())

    def incomplete(self) -> dict[str, str]:
        """Nodes whose children could not all be listed, with the reason."""
        with self._lock:
            return dict(self._incomplete)

    def is_incomplete(self, node_id: str) -> bool:
        with self._lock:
            return node_id in self._incomplete

    def incomplete_under(self, node_id: str) -> list[str]:
        with self._lock:
            return [i for i in self._walk_ids(node_id) if i in self._incomplete]

    def totals(self) -> Counts:
        with self._lock:
            return self._counts.totals()

    @property
    def details_wanted(self) -> bool:
        return self._details_wanted

    def incomplete_causes(self) -> dict[str, Missing]:
        """Why each incomplete branch is incomplete (FAILED where no cause was given)."""
        with self._lock:
            causes = self._incomplete_cause
            return {i: causes.get(i, Missing.FAILED) for i in self._incomplete}

    def policy_targets_missing(self) -> dict[str, Missing]:
        with self._lock:
            return dict(sorted(self._policy_targets_missing.items()))

    def detail_gaps(self, node_id: str) -> tuple[Missing | None, Missing | None]:
        """Why this node's tags and SCPs are missing (None: they arrived, or were not asked
        for). Cheap: labels ask it for every node shown."""
        with self._lock:
            if not self._details_wanted:
                return (None, None)
            tags, policies = self._details.states(node_id, self._facts.enabled_types())
            return (MISSING_DETAIL.get(tags), MISSING_DETAIL.get(policies))

    def gaps(self, node_id: str | None = None) -> Gaps:
        """What is missing under this node (None: the whole tree), by kind."""
        with self._lock:
            if node_id is None:
                ids = [i for r in self._roots for i in self._walk_ids(r)]
            else:
                ids = list(self._walk_ids(node_id))
            # The states alone: no copy of 50,000 nodes' tags at the end of every crawl.
            return find_gaps(
                ids,
                self._details.states_of(ids, self._facts.enabled_types()),
                self.incomplete_causes(),
                self.policy_targets_missing(),
                details_wanted=self._details_wanted,
                facts=self._facts if node_id is None or node_id in self._roots else None,
            )
