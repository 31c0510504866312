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
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
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

    def start(self) -> None:
        self._state = "loading"
        self._list_policies(None)

    def node_found(self, node_id: str) -> None:
        """A node just found gets what is known of its policies, or is told they failed."""
        if self._state == "ready":
            self._publish_policies(node_id)
        elif self._state == "loading":
            self._publish_partial_policies(node_id)
        elif self._state in ("denied", "failed") and node_id not in self._final:
            self._detail_failed(node_id, "policies", self._state == "denied")

    def fetch_for(self, node_id: str) -> None:
        """Policies of one node right now, without waiting for the map."""
        if node_id in self._final:
            return
        self._fetch_target_page(node_id, None, [])

    def _fetch_target_page(
        self, node_id: str, token: str | None, found_so_far: list[Policy]
    ) -> None:
        params: dict[str, Any] = {"TargetId": node_id, "Filter": SCP}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            found_so_far.extend(parse.policy(p) for p in response.get("Policies", []))
            if response.get("NextToken"):
                self._fetch_target_page(node_id, response["NextToken"], found_so_far)
            elif node_id not in self._final:
                self._final.add(node_id)
                self.publisher.sendMessage(
                    topics.POLICIES, node_id=node_id, policies=tuple(found_so_far)
                )

        def failed(error: CallError) -> None:
            self._forget(("policies-for", node_id))  # asked again: start over
            if node_id not in self._final:
                self._detail_failed(node_id, "policies", error.kind is ErrorKind.DENIED)

        key = ("policies-for", node_id) if token is None else None
        self.submit(Task("ListPoliciesForTarget", params, URGENT, found, failed, key=key))

    def _list_policies(self, token: str | None) -> None:
        params: dict[str, Any] = {"Filter": SCP}
        if token:
            params["NextToken"] = token
        self._listings += 1

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Policies", []):
                self._list_targets(parse.policy(record), None)
            if response.get("NextToken"):
                self._list_policies(response["NextToken"])
            self._listing_done()

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
        if self._listings == 0 and self._state == "loading":
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
