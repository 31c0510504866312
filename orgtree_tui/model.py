"""The organization tree: frozen node records and a thread-safe index of what the crawl found.

The crawl writes from its dispatcher thread while the UI and exporters read from theirs, so
every public method takes the tree's lock and returns immutable values or fresh copies.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum

from orgtree_tui.gaps import Gaps, Missing


class NodeType(StrEnum):
    ROOT = "ROOT"
    ORGANIZATIONAL_UNIT = "ORGANIZATIONAL_UNIT"
    ACCOUNT = "ACCOUNT"


# Children sort OUs first, then accounts; roots never appear as children.
_TYPE_ORDER = {NodeType.ROOT: 0, NodeType.ORGANIZATIONAL_UNIT: 1, NodeType.ACCOUNT: 2}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: NodeType
    name: str
    arn: str
    parent_id: str | None
    email: str | None = None
    state: str | None = None
    joined_method: str | None = None
    joined_timestamp: datetime | None = None

    @property
    def is_account(self) -> bool:
        return self.type is NodeType.ACCOUNT


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    arn: str
    management_account_id: str
    management_account_email: str = ""
    feature_set: str = ""


class DetailState(Enum):
    """Where a node's tags or policies stand."""

    PENDING = "pending"
    LOADED = "loaded"
    DENIED = "not permitted"
    FAILED = "failed"


_MISSING_DETAIL = {
    DetailState.PENDING: Missing.NOT_FETCHED,
    DetailState.DENIED: Missing.DENIED,
    DetailState.FAILED: Missing.FAILED,
}


@dataclass(frozen=True, slots=True)
class Details:
    tags: dict[str, str] | None
    tags_state: DetailState
    policies: tuple[Policy, ...] | None
    policies_state: DetailState


@dataclass(frozen=True, slots=True)
class Counts:
    ous: int
    accounts: int


def sort_key(node: Node) -> tuple[int, str, str]:
    return (_TYPE_ORDER[node.type], node.name.casefold(), node.id)


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
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, _Children] = {}
        self._roots: list[str] = []
        self._tags: dict[str, dict[str, str]] = {}
        self._tags_state: dict[str, DetailState] = {}
        self._policies: dict[str, tuple[Policy, ...]] = {}
        self._policies_state: dict[str, DetailState] = {}
        self._incomplete: dict[str, str] = {}
        self._version = 0
        # Subtree counts kept up to date on every change, not recomputed: while a crawl
        # streams 50,000 accounts, every label and details render asks for them.
        self._below: dict[str, list[int]] = {}  # id -> [OUs, accounts] at every depth below
        self._total = [0, 0]  # [OUs, accounts] in the whole tree

    # -- writes -------------------------------------------------------------------------

    def set_organization(self, organization: Organization) -> None:
        with self._lock:
            self.organization = organization

    def add(self, node: Node) -> bool:
        """Place a node; a node seen again under another parent moves. True if it changed."""
        with self._lock:
            old = self._nodes.get(node.id)
            if old == node:
                return False
            moved = old is not None and old.parent_id != node.parent_id
            if old is not None and moved:
                self._count_under(old.parent_id, self._weight(old), -1)
                self._unlink(old)
            if old is None:
                ous, accounts = _own_weight(node)
                self._total[0] += ous
                self._total[1] += accounts
            self._nodes[node.id] = node
            if old is None or moved:
                self._count_under(node.parent_id, self._weight(node), 1)
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
            self._recount()

    def _recount(self) -> None:
        """All counts from scratch, children before parents: one step per node."""
        nodes, children = self._nodes, self._children
        # Every parent id, present or not, from the top down (parents that have not
        # arrived yet hold what was counted under them, like the incremental count).
        order = [*self._roots, *(p for p in children if p not in nodes)]
        for parent_id in order:  # grows while it is read: a breadth-first walk
            kids = children.get(parent_id)
            if kids is not None:
                order.extend(kids.ids)
        if len(order) < len(nodes) + sum(1 for p in children if p not in nodes):
            self._recount_slowly()  # a cycle (bad data) hides nodes from the walk
            return
        below: dict[str, list[int]] = {}
        total = [0, 0]
        for node_id in reversed(order):
            node = nodes.get(node_id)
            mine = below.get(node_id)
            if node is None:
                continue
            ous, accounts = _own_weight(node)
            total[0] += ous
            total[1] += accounts
            if node.parent_id is not None:
                up = below.setdefault(node.parent_id, [0, 0])
                up[0] += ous + (mine[0] if mine else 0)
                up[1] += accounts + (mine[1] if mine else 0)
        self._below, self._total = below, total

    def _recount_slowly(self) -> None:
        self._below, self._total = {}, [0, 0]
        for node in self._nodes.values():
            ous, accounts = _own_weight(node)
            self._total[0] += ous
            self._total[1] += accounts
            self._count_under(node.parent_id, (ous, accounts), 1)

    def remove(self, node_id: str) -> None:
        """Drop a node and everything under it."""
        with self._lock:
            node = self._nodes.get(node_id)
            if node is None:
                return
            self._count_under(node.parent_id, self._weight(node), -1)
            for gone in list(self._walk_ids(node_id)):
                ous, accounts = _own_weight(self._nodes[gone])
                self._total[0] -= ous
                self._total[1] -= accounts
                self._below.pop(gone, None)
                self._nodes.pop(gone, None)
                self._children.pop(gone, None)
                for table in (self._tags, self._tags_state, self._policies, self._policies_state):
                    table.pop(gone, None)
                self._incomplete.pop(gone, None)
                self._incomplete_cause.pop(gone, None)
            self._unlink(node)
            self._version += 1

    def _weight(self, node: Node) -> tuple[int, int]:
        """What the node brings to its ancestors' counts: itself and all below it."""
        ous, accounts = _own_weight(node)
        below = self._below.get(node.id)
        return (ous + below[0], accounts + below[1]) if below else (ous, accounts)

    def _count_under(self, parent_id: str | None, weight: tuple[int, int], sign: int) -> None:
        # Up the parent chain as far as it is known; a parent that arrives later brings
        # what was counted under it. The bound stops a cycle from a bad move.
        steps = 0
        while parent_id is not None and steps <= len(self._nodes):
            entry = self._below.setdefault(parent_id, [0, 0])
            entry[0] += sign * weight[0]
            entry[1] += sign * weight[1]
            parent = self._nodes.get(parent_id)
            parent_id = parent.parent_id if parent is not None else None
            steps += 1

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
            self._tags[node_id] = dict(tags)
            self._tags_state[node_id] = DetailState.LOADED

    def set_tags_state(self, node_id: str, state: DetailState) -> None:
        with self._lock:
            self._tags_state[node_id] = state

    def set_policies(self, node_id: str, policies: tuple[Policy, ...]) -> None:
        with self._lock:
            self._policies[node_id] = tuple(sorted(policies, key=lambda p: (p.name, p.id)))
            self._policies_state[node_id] = DetailState.LOADED

    def add_policy_attachments(self, policy: Policy, node_ids: Iterable[str]) -> None:
        """One page of a policy's targets: add it to each node's list so far. The state is
        left alone (PENDING until `set_policies` gives the final list)."""
        with self._lock:
            for node_id in node_ids:
                attached = self._policies.get(node_id, ())
                if policy not in attached:
                    self._policies[node_id] = tuple(
                        sorted((*attached, policy), key=lambda p: (p.name, p.id))
                    )

    def set_policies_state(self, node_id: str, state: DetailState) -> None:
        with self._lock:
            self._policies_state[node_id] = state

    def set_details_many(
        self,
        tags: dict[str, dict[str, str]],
        policies: dict[str, tuple[Policy, ...]],
        states: dict[str, tuple[DetailState | None, DetailState | None]],
    ) -> None:
        """set_tags, set_policies and the states (tags, policies; None: leave) of many
        nodes under one lock."""
        with self._lock:
            for node_id, found in tags.items():
                self._tags[node_id] = dict(found)
                self._tags_state[node_id] = DetailState.LOADED
            for node_id, attached in policies.items():
                self._policies[node_id] = tuple(sorted(attached, key=lambda p: (p.name, p.id)))
                self._policies_state[node_id] = DetailState.LOADED
            for node_id, (tags_state, policies_state) in states.items():
                if tags_state is not None:
                    self._tags_state[node_id] = tags_state
                if policies_state is not None:
                    self._policies_state[node_id] = policies_state

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
            return "/" + "/".join(_escape_segment(n) for n in names)

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
            segments = _split_path(ref)
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
            below = self._below.get(node_id)
            return Counts(below[0], below[1]) if below else Counts(0, 0)

    def direct_accounts(self, node_id: str) -> int:
        with self._lock:
            kids = self._children.get(node_id)
            if kids is None:
                return 0
            return sum(1 for c in kids.ids if self._nodes[c].type is NodeType.ACCOUNT)

    def details(self, node_id: str) -> Details:
        with self._lock:
            tags = self._tags.get(node_id)
            policies = self._policies.get(node_id)
            return Details(
                tags=dict(tags) if tags is not None else None,
                tags_state=self._tags_state.get(node_id, DetailState.PENDING),
                policies=policies,
                policies_state=self._policies_state.get(node_id, DetailState.PENDING),
            )

    def details_of(self, node_ids: Iterable[str]) -> dict[str, Details]:
        """`details` of many nodes under one lock: one consistent moment, and an export of
        50,000 nodes does not take the lock 50,000 times."""
        pending = DetailState.PENDING
        with self._lock:
            tags, tags_state = self._tags, self._tags_state
            policies, policies_state = self._policies, self._policies_state
            out: dict[str, Details] = {}
            for node_id in node_ids:
                found = tags.get(node_id)
                out[node_id] = Details(
                    tags=dict(found) if found is not None else None,
                    tags_state=tags_state.get(node_id, pending),
                    policies=policies.get(node_id),
                    policies_state=policies_state.get(node_id, pending),
                )
            return out

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
            return Counts(self._total[0], self._total[1])

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
            tags = self._tags_state.get(node_id, DetailState.PENDING)
            policies = self._policies_state.get(node_id, DetailState.PENDING)
            return (_MISSING_DETAIL.get(tags), _MISSING_DETAIL.get(policies))

    def gaps(self, node_id: str | None = None) -> Gaps:
        """What is missing under this node (None: the whole tree), by kind."""
        with self._lock:
            if node_id is None:
                ids = [i for r in self._roots for i in self._walk_ids(r)]
            else:
                ids = list(self._walk_ids(node_id))
            # The states alone: no copy of 50,000 nodes' tags at the end of every crawl.
            pending = DetailState.PENDING
            tags, policies = self._tags_state, self._policies_state
            states = {i: (tags.get(i, pending), policies.get(i, pending)) for i in ids}
            return find_gaps(
                ids,
                states,
                self.incomplete_causes(),
                self.policy_targets_missing(),
                details_wanted=self._details_wanted,
            )


def find_gaps(
    ids: Iterable[str],
    states: Mapping[str, tuple[DetailState, DetailState]],
    causes: Mapping[str, Missing],
    policy_targets: Mapping[str, Missing],
    *,
    details_wanted: bool,
) -> Gaps:
    """The gaps of the nodes `ids` (in the order given), from their (tags, policies)
    states; the exporters' snapshot calls it on its own copy so a file is one moment."""
    ids = list(ids)
    structure = {i: causes[i] for i in ids if i in causes}
    if not details_wanted:
        return Gaps(structure=structure)
    tags: dict[str, Missing] = {}
    policies: dict[str, Missing] = {}
    for node_id in ids:
        tags_state, policies_state = states[node_id]
        why = _MISSING_DETAIL.get(tags_state)
        if why is not None:
            tags[node_id] = why
        why = _MISSING_DETAIL.get(policies_state)
        if why is not None:
            policies[node_id] = why
    return Gaps(structure, tags, policies, dict(sorted(policy_targets.items())))


def _own_weight(node: Node) -> tuple[int, int]:
    return (int(node.type is NodeType.ORGANIZATIONAL_UNIT), int(node.type is NodeType.ACCOUNT))


def _escape_segment(name: str) -> str:
    # A "/" inside a name would split the path; AWS allows it in account names.
    return name.replace("\\", "\\\\").replace("/", "\\/")


def _split_path(ref: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    chars = iter(ref.lstrip("/"))
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, ""))
        elif ch == "/":
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        segments.append("".join(current))
    return [s for s in segments if s != ""]
