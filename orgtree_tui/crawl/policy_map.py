"""`PolicyMap`: which SCPs are attached to which node, fetched by policy.

SCP attachments are fetched by policy (ListPolicies, then ListTargetsForPolicy per policy),
which costs a few calls per policy instead of one call per node on a 5/s bucket; a node the
user selects before the map is complete gets its own ListPoliciesForTarget at top priority.

Attachments arrive page by page (ListTargetsForPolicy for FullAWSAccess is N/20 calls in a
chain): each page is published at once on POLICY_TARGETS, so the model shows what is known
so far. A node's list is final (POLICIES) once ListPolicies and every ListTargetsForPolicy
chain have ended, since any policy may be attached to any node, or as soon as its own
ListPoliciesForTarget answered. A chain that fails flags its policy (BRANCH_ERROR, part
"policy_targets") and the other policies' attachments stay.

How the map is fetched is its `Strategy`: by policy (a whole organization), per target (one
ListPoliciesForTarget per node: a small subtree), or the cheaper of the two for what was asked
(`per_target_is_cheaper`), decided once ListPolicies has said how many SCPs there are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from enum import StrEnum
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.task import POLICIES, URGENT, CallError, Task
from orgtree_tui.records import Policy

SCP = "SERVICE_CONTROL_POLICY"

Submit = Callable[[Task], bool]
Forget = Callable[[Hashable], None]
DetailFailed = Callable[[str, str, bool], None]  # node id, "policies", denied
BranchFailed = Callable[[str, str, CallError], None]  # node or policy id, part, error


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
    """The SCP attachments of the nodes found so far (`known`, the planner's), by policy."""

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
                self._detail_failed(node_id, "policies", self._state == "denied")
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
        """Policies of one node right now, without waiting for the map."""
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
        params: dict[str, Any] = {"TargetId": node_id, "Filter": SCP}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            found_so_far.extend(parse.policy(p) for p in response.get("Policies", []))
            if response.get("NextToken"):
                self._fetch_target_page(node_id, response["NextToken"], found_so_far, priority)
            elif node_id not in self._final:
                self._final.add(node_id)
                self.publisher.sendMessage(
                    topics.POLICIES, node_id=node_id, policies=tuple(found_so_far)
                )

        def failed(error: CallError) -> None:
            self._forget(("policies-for", node_id))  # asked again: start over
            self._asked.discard(node_id)
            if node_id not in self._final:
                self._detail_failed(node_id, "policies", error.kind is ErrorKind.DENIED)

        key = ("policies-for", node_id) if token is None else None
        self.submit(Task("ListPoliciesForTarget", params, priority, found, failed, key=key))

    def _list_policies(self, token: str | None) -> None:
        params: dict[str, Any] = {"Filter": SCP}
        if token:
            params["NextToken"] = token
        self._listings += 1

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Policies", []):
                if self.mode == "by policy":
                    self._list_targets(parse.policy(record), None)
                else:
                    self._policies.append(parse.policy(record))
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
                self._detail_failed(node_id, "policies", denied)
        self._branch_failed("", "policies", error)

    def _publish_policies(self, node_id: str) -> None:
        if node_id in self._final:
            return
        self._final.add(node_id)
        policies = tuple(self._attachments.get(node_id, ()))
        self.publisher.sendMessage(topics.POLICIES, node_id=node_id, policies=policies)

    def _publish_partial_policies(self, node_id: str) -> None:
        """A node found while the map is loading gets the attachments known so far."""
        for policy in self._attachments.get(node_id, ()):
            self.publisher.sendMessage(topics.POLICY_TARGETS, policy=policy, target_ids=(node_id,))
