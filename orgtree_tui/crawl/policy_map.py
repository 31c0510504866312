"""`PolicyMap`: which policies of each type are attached to which node, fetched by policy.

The policy types fetched are those ListRoots says are ENABLED on the root (every type, SCPs,
RCPs, tag, backup, AI-services opt-out and whatever botocore's model lists next; none in a
consolidated-billing organization). Each type has its own `TypeMap`, so one type that is
refused or fails leaves the others whole.

Attachments are fetched by policy (ListPolicies for the type, then ListTargetsForPolicy per
policy), which costs a few calls per policy instead of one call per node on a 5/s bucket; a
node the user selects before its type's map is complete gets its own ListPoliciesForTarget
for that type at top priority.

Attachments arrive page by page (ListTargetsForPolicy for FullAWSAccess is N/20 calls in a
chain): each page is published at once on POLICY_TARGETS, so the model shows what is known
so far. A node's list of a type is final (POLICIES) once ListPolicies and every
ListTargetsForPolicy chain of that type have ended, since any policy may be attached to any
node, or as soon as its own ListPoliciesForTarget answered. A chain that fails flags its
policy (BRANCH_ERROR, part "policy_targets") and the other policies' attachments stay.

How a type's map is fetched is its `Strategy`: by policy (a whole organization), per target
(one ListPoliciesForTarget per node: a small subtree), or the cheaper of the two for what was
asked (`per_target_is_cheaper`), decided once ListPolicies has said how many there are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from enum import StrEnum
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.task import POLICIES, URGENT, CallError, Task
from orgtree_tui.records import SCP, Policy

Submit = Callable[[Task], bool]
Forget = Callable[[Hashable], None]
DetailFailed = Callable[[str, str, bool], None]  # node id, policy type, denied
BranchFailed = Callable[[str, str, CallError], None]  # node, policy or type id, part, error


class Strategy(StrEnum):
    BY_POLICY = "by policy"  # ListPolicies, then ListTargetsForPolicy per policy
    PER_TARGET = "per target"  # ListPoliciesForTarget per node
    CHEAPEST = "cheapest"  # per target while `per_target_is_cheaper`, then by policy


def per_target_is_cheaper(nodes: int, policies: int) -> bool:
    """Whether one ListPoliciesForTarget per node (`nodes`, those asked for) costs no more
    calls than fetching by policy could. By policy costs at least one ListTargetsForPolicy
    call per policy, and at least one per 20 nodes: AWS keeps an SCP on every node (it refuses
    to detach the last), so the chains list each node at least once. Per target costs one call
    a node (a second page only past 20 SCPs on one node; AWS allows 5). Both bounds are lower
    bounds, so a crawl that goes per target while this holds and by policy after it never
    makes more than twice the calls of the cheaper way."""
    return nodes <= max(policies, -(-nodes // 20))


class PolicyMap:
    """Every enabled type's `TypeMap`, started once the organization (`start`) and the
    root's policy types (POLICY_TYPES) are both known."""

    def __init__(
        self,
        publisher: Publisher,
        submit: Submit,
        *,
        known: Collection[str],
        forget: Forget,
        detail_failed: DetailFailed,
        branch_failed: BranchFailed,
        strategy: Strategy = Strategy.BY_POLICY,
    ) -> None:
        self.publisher = publisher
        self.submit = submit
        self._known = known
        self._forget = forget
        self._detail_failed = detail_failed
        self._branch_failed = branch_failed
        self.strategy = strategy
        self.types: dict[str, TypeMap] = {}
        self._wanted = False  # start() was called: the crawl fetches details
        self._enabled: list[str] | None = None  # None until ListRoots answered
        publisher.subscribe(self.on_policy_types, topics.POLICY_TYPES)

    def _make(self, policy_type: str) -> TypeMap:
        return TypeMap(
            policy_type,
            self.publisher,
            self.submit,
            known=self._known,
            forget=self._forget,
            detail_failed=self._detail_failed,
            branch_failed=self._branch_failed,
            strategy=self.strategy,
        )

    def start(self) -> None:
        self._wanted = True
        self._start_types()

    def on_policy_types(self, root_id: str, policy_types: dict[str, str]) -> None:
        enabled = sorted(t for t, status in policy_types.items() if status == "ENABLED")
        self._enabled = sorted({*(self._enabled or ()), *enabled})
        self._start_types()

    def _start_types(self) -> None:
        if not self._wanted or self._enabled is None:
            return
        for policy_type in self._enabled:
            if policy_type not in self.types:
                self.types[policy_type] = type_map = self._make(policy_type)
                type_map.start()

    def node_found(self, node_id: str) -> None:
        for type_map in self.types.values():
            type_map.node_found(node_id)

    def fetch_for(self, node_id: str) -> None:
        """Policies of one node right now, every type, without waiting for the maps; SCPs
        alone while the root's types are not known (what the tree asks for meanwhile)."""
        if self._enabled is None:
            self.types.get(SCP, self._make(SCP)).fetch_for(node_id)
            return
        for policy_type in self._enabled:
            self.types.get(policy_type, self._make(policy_type)).fetch_for(node_id)


class TypeMap:
    """The attachments of one policy type to the nodes found so far (`known`, the
    planner's), by policy."""

    def __init__(
        self,
        policy_type: str,
        publisher: Publisher,
        submit: Submit,
        *,
        known: Collection[str],
        forget: Forget,
        detail_failed: DetailFailed,
        branch_failed: BranchFailed,
        strategy: Strategy = Strategy.BY_POLICY,
    ) -> None:
        self.policy_type = policy_type
        self.publisher = publisher
        self.submit = submit
        self._known = known
        self._forget = forget  # lets a failed chain's first page be asked for again
        self._detail_failed = detail_failed
        self._branch_failed = branch_failed
        self._attachments: dict[str, list[Policy]] = {}
        self._final: set[str] = set()  # nodes whose POLICIES (the final list) went out
        self._listings = 0  # ListPolicies + ListTargetsForPolicy chains still running
        self._state: str = "unknown"  # unknown -> loading -> ready | denied | failed
        self.strategy = strategy
        # How the map is being fetched now: CHEAPEST starts "undecided", may go "per target"
        # and then "by policy", never back.
        self.mode = {Strategy.BY_POLICY: "by policy", Strategy.PER_TARGET: "per target"}.get(
            strategy, "undecided"
        )
        self._policies: list[Policy] = []  # listed, targets not yet (not by policy yet)
        self._listed = False  # every ListPolicies page is in
        self._asked: set[str] = set()  # nodes given their own ListPoliciesForTarget

    def start(self) -> None:
        self._state = "loading"
        if self.mode == "per target":
            self._choose()
        else:
            self._list_policies(None)

    def node_found(self, node_id: str) -> None:
        """A node just found gets what is known of its policies, or is told they failed."""
        if self._state in ("denied", "failed"):
            if node_id not in self._final:
                self._detail_failed(node_id, self.policy_type, self._state == "denied")
            return
        if self.mode == "undecided" or self._state == "unknown":
            return  # `_choose` takes every node found so far once it can
        if self.mode == "per target":
            if self._still_per_target():
                self._ask(node_id)
            else:
                self._go_by_policy()
        elif self._state == "ready":
            self._publish_policies(node_id)
        elif self._state == "loading":
            self._publish_partial_policies(node_id)

    def fetch_for(self, node_id: str) -> None:
        """Policies of this type of one node right now, without waiting for the map."""
        if node_id in self._final:
            return
        self._fetch_target_page(node_id, None, [], URGENT)

    def _choose(self) -> None:
        """Per target for the nodes found so far, while that is the cheaper way (always, for
        PER_TARGET); else by policy. Called once ListPolicies is in (or at the start)."""
        if self._state != "loading" or self.mode == "by policy":
            return
        if self.mode == "undecided" and not self._listed:
            return  # how many SCPs there are decides; ListPolicies has not said yet
        if not self._still_per_target():
            self._go_by_policy()
            return
        self.mode = "per target"
        for node_id in list(self._known):
            self._ask(node_id)

    def _still_per_target(self) -> bool:
        if self.strategy is not Strategy.CHEAPEST:
            return True
        return per_target_is_cheaper(len(self._known), len(self._policies))

    def _go_by_policy(self) -> None:
        self.mode = "by policy"
        # Nodes already asked for keep their own answers (`_final` keeps the first list).
        for policy in self._policies:
            self._list_targets(policy, None)
        if self._listings == 0:
            self._ready()  # no SCPs at all: every node's list is the empty one

    def _ask(self, node_id: str) -> None:
        if node_id not in self._asked and node_id not in self._final:
            self._asked.add(node_id)
            self._fetch_target_page(node_id, None, [], POLICIES)

    def _fetch_target_page(
        self, node_id: str, token: str | None, found_so_far: list[Policy], priority: int
    ) -> None:
        params: dict[str, Any] = {"TargetId": node_id, "Filter": self.policy_type}
        if token:
            params["NextToken"] = token
        key_first = ("policies-for", self.policy_type, node_id)

        def found(response: dict[str, Any]) -> None:
            found_so_far.extend(
                parse.policy(p, self.policy_type) for p in response.get("Policies", [])
            )
            if response.get("NextToken"):
                self._fetch_target_page(node_id, response["NextToken"], found_so_far, priority)
            elif node_id not in self._final:
                self._final.add(node_id)
                self._send_policies(node_id, tuple(found_so_far))

        def failed(error: CallError) -> None:
            self._forget(key_first)  # asked again: start over
            self._asked.discard(node_id)
            if node_id not in self._final:
                self._detail_failed(node_id, self.policy_type, error.kind is ErrorKind.DENIED)

        key = key_first if token is None else None
        self.submit(Task("ListPoliciesForTarget", params, priority, found, failed, key=key))

    def _list_policies(self, token: str | None) -> None:
        params: dict[str, Any] = {"Filter": self.policy_type}
        if token:
            params["NextToken"] = token
        self._listings += 1

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Policies", []):
                policy = parse.policy(record, self.policy_type)
                if self.mode == "by policy":
                    self._list_targets(policy, None)
                else:
                    self._policies.append(policy)
            if response.get("NextToken"):
                self._list_policies(response["NextToken"])
            else:
                self._listed = True
            self._listing_done()
            self._choose()

        self.submit(Task("ListPolicies", params, POLICIES, found, self._map_failed))

    def _list_targets(self, policy: Policy, token: str | None) -> None:
        params: dict[str, Any] = {"PolicyId": policy.id}
        if token:
            params["NextToken"] = token
        self._listings += 1

        def found(response: dict[str, Any]) -> None:
            targets = tuple(str(t["TargetId"]) for t in response.get("Targets", []))
            for target_id in targets:
                self._attachments.setdefault(target_id, []).append(policy)
            if self._state == "loading":
                # Nodes not found yet get theirs when they are (`node_found`).
                fresh = tuple(t for t in targets if t in self._known and t not in self._final)
                if fresh:
                    self.publisher.sendMessage(
                        topics.POLICY_TARGETS, policy=policy, target_ids=fresh
                    )
            if response.get("NextToken"):
                self._list_targets(policy, response["NextToken"])
            self._listing_done()

        def failed(error: CallError) -> None:
            # Only this policy's attachments are unknown: flag it, keep everyone else's.
            if self._state == "loading":
                self._branch_failed(policy.id, "policy_targets", error)
            self._listing_done()

        self.submit(Task("ListTargetsForPolicy", params, POLICIES, found, failed))

    def _listing_done(self) -> None:
        self._listings -= 1
        if self._listings == 0 and self._state == "loading" and self.mode == "by policy":
            self._ready()

    def _ready(self) -> None:
        self._state = "ready"
        for node_id in list(self._known):
            self._publish_policies(node_id)

    def _map_failed(self, error: CallError) -> None:
        self._listings -= 1
        if self._state != "loading":
            return
        denied = error.kind is ErrorKind.DENIED
        self._state = "denied" if denied else "failed"
        for node_id in list(self._known):
            if node_id not in self._final:
                self._detail_failed(node_id, self.policy_type, denied)
        self._branch_failed("", "policies", error)  # every node says which type (DETAIL_STATE)

    def _publish_policies(self, node_id: str) -> None:
        if node_id in self._final:
            return
        self._final.add(node_id)
        self._send_policies(node_id, tuple(self._attachments.get(node_id, ())))

    def _send_policies(self, node_id: str, policies: tuple[Policy, ...]) -> None:
        self.publisher.sendMessage(
            topics.POLICIES, node_id=node_id, policies=policies, policy_type=self.policy_type
        )

    def _publish_partial_policies(self, node_id: str) -> None:
        """A node found while the map is loading gets the attachments known so far."""
        for policy in self._attachments.get(node_id, ()):
            self.publisher.sendMessage(topics.POLICY_TARGETS, policy=policy, target_ids=(node_id,))
