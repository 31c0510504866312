"""What each topic triggers.

`ModelWriter` turns topics into the org model. `Planner` turns what was found into follow-up
tasks: a root or OU found -> list its OUs and its accounts (every page) and fetch its tags; an
account found -> fetch its tags. SCP attachments are fetched by policy (ListPolicies, then
ListTargetsForPolicy per policy), which costs a few calls per policy instead of one call per
node on a 5/s bucket; a node the user selects before that map is complete gets its own
ListPoliciesForTarget at top priority.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.accounts import AccountPlacer
from orgtree_tui.crawl.engine import DETAILS, POLICIES, STRUCTURE, URGENT, CallError, Task
from orgtree_tui.gaps import Missing
from orgtree_tui.model import DetailState, Node, NodeType, Organization, OrgTree, Policy

SCP = "SERVICE_CONTROL_POLICY"


@dataclass(frozen=True, slots=True)
class BranchError:
    """Part of the organization that could not be fetched."""

    node_id: str
    # "structure", "tags", "policies" (ListPolicies: node_id "") or "policy_targets"
    # (ListTargetsForPolicy of the policy whose id is node_id)
    part: str
    operation: str
    code: str
    message: str
    denied: bool


class ModelWriter:
    """Keeps an OrgTree in step with the topics. Subscribe it before anyone else."""

    def __init__(self, tree: OrgTree, publisher: Publisher) -> None:
        self.tree = tree
        # pypubsub keeps weak references: the bound methods live as long as this object.
        publisher.subscribe(self.on_organization, topics.ORGANIZATION)
        publisher.subscribe(self.on_node, topics.ROOT)
        publisher.subscribe(self.on_node, topics.ORGANIZATIONAL_UNIT)
        publisher.subscribe(self.on_node, topics.ACCOUNT)
        publisher.subscribe(self.on_tags, topics.TAGS)
        publisher.subscribe(self.on_policies, topics.POLICIES)
        publisher.subscribe(self.on_policy_targets, topics.POLICY_TARGETS)
        publisher.subscribe(self.on_detail_state, topics.DETAIL_STATE)
        publisher.subscribe(self.on_branch_error, topics.BRANCH_ERROR)

    def on_organization(self, organization: Organization) -> None:
        self.tree.set_organization(organization)

    def on_node(self, node: Node) -> None:
        self.tree.add(node)

    def on_tags(self, node_id: str, tags: dict[str, str]) -> None:
        self.tree.set_tags(node_id, tags)

    def on_policies(self, node_id: str, policies: tuple[Policy, ...]) -> None:
        self.tree.set_policies(node_id, policies)

    def on_policy_targets(self, policy: Policy, target_ids: tuple[str, ...]) -> None:
        self.tree.add_policy_attachments(policy, target_ids)

    def on_detail_state(self, node_id: str, detail: str, state: DetailState) -> None:
        if detail == "tags":
            self.tree.set_tags_state(node_id, state)
        else:
            self.tree.set_policies_state(node_id, state)

    def on_branch_error(self, error: BranchError) -> None:
        cause = Missing.DENIED if error.denied else Missing.FAILED
        if error.part == "structure":
            reason = f"{error.operation}: {error.code}"
            self.tree.mark_incomplete(error.node_id, reason, cause=cause)
        elif error.part == "policy_targets":
            # One policy's ListTargetsForPolicy failed: the other attachments stand, and
            # every node's SCP list may lack this one, which the exports must say.
            self.tree.mark_policy_targets_missing(error.node_id, cause)


Submit = Callable[[Task], bool]
Forget = Callable[[Hashable], None]


class Planner:
    """Queues the calls that what was just found makes necessary."""

    def __init__(
        self,
        publisher: Publisher,
        submit: Submit,
        *,
        details: bool,
        forget: Forget = lambda key: None,
    ) -> None:
        self.publisher = publisher
        self.submit = submit
        self._forget = forget  # lets a failed chain's first page be asked for again
        self.details = details
        self._known: dict[str, NodeType] = {}
        self._attachments: dict[str, list[Policy]] = {}
        self._final: set[str] = set()  # nodes whose POLICIES (the final list) went out
        self._policy_listings = 0  # ListPolicies + ListTargetsForPolicy chains still running
        self._policy_map: str = "unknown"  # unknown -> loading -> ready | denied | failed
        self._accounts = AccountPlacer(
            publisher,
            submit,
            lambda parent_id, error: self._branch_error(parent_id, "structure", error),
        )
        publisher.subscribe(self.on_parent, topics.ROOT)
        publisher.subscribe(self.on_parent, topics.ORGANIZATIONAL_UNIT)
        publisher.subscribe(self.on_account, topics.ACCOUNT)

    # -- start ------------------------------------------------------------------------------

    def start(self) -> None:
        # Roots and the account stream do not depend on the organization record: ask at once.
        self._list_roots(None)
        self._accounts.start_stream()
        self.submit(
            Task(
                "DescribeOrganization",
                {},
                STRUCTURE,
                self._organization_found,
                key=("organization",),
                fatal=True,
                # The first call is where a wrong endpoint shows: say so in a second, not 15.
                transient_attempts=3,
            )
        )

    def _organization_found(self, response: dict[str, Any]) -> None:
        self.publisher.sendMessage(
            topics.ORGANIZATION, organization=parse.organization(response["Organization"])
        )
        if self.details:
            self._policy_map = "loading"
            self._list_policies(None)

    def _list_roots(self, token: str | None) -> None:
        params = {"NextToken": token} if token else {}

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Roots", []):
                self.publisher.sendMessage(topics.ROOT, node=parse.root(record))
            if response.get("NextToken"):
                self._list_roots(response["NextToken"])

        self.submit(Task("ListRoots", params, STRUCTURE, found, fatal=True))

    # -- structure ----------------------------------------------------------------------

    def on_parent(self, node: Node) -> None:
        if node.id in self._known:
            return
        self._known[node.id] = node.type
        self._list_ous(node.id, None, [])
        self._accounts.list_parent(node.id)
        self._node_found(node)

    def on_account(self, node: Node) -> None:
        if node.id in self._known:
            return
        self._known[node.id] = node.type
        self._node_found(node)

    def _node_found(self, node: Node) -> None:
        if not self.details:
            return
        self.fetch_tags(node.id, DETAILS)
        if self._policy_map == "ready":
            self._publish_policies(node.id)
        elif self._policy_map == "loading":
            self._publish_partial_policies(node.id)
        elif self._policy_map in ("denied", "failed") and node.id not in self._final:
            self._detail_failed(node.id, "policies", self._policy_map == "denied")

    def _list_ous(self, parent_id: str, token: str | None, seen: list[str]) -> None:
        params: dict[str, Any] = {"ParentId": parent_id}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            for record in response.get("OrganizationalUnits", []):
                node = parse.organizational_unit(record, parent_id)
                seen.append(node.id)
                self.publisher.sendMessage(topics.ORGANIZATIONAL_UNIT, node=node)
            # A page can be empty and still carry a NextToken: always follow it.
            if response.get("NextToken"):
                self._list_ous(parent_id, response["NextToken"], seen)
            else:
                self.publisher.sendMessage(
                    topics.PARENTAGE,
                    parent_id=parent_id,
                    child_type=NodeType.ORGANIZATIONAL_UNIT,
                    child_ids=tuple(seen),
                )

        def failed(error: CallError) -> None:
            self._branch_error(parent_id, "structure", error)

        self.submit(Task("ListOrganizationalUnitsForParent", params, STRUCTURE, found, failed))

    # -- tags ---------------------------------------------------------------------------

    def fetch_tags(self, node_id: str, priority: int) -> None:
        self._fetch_tags_page(node_id, priority, None, {})

    def _fetch_tags_page(
        self, node_id: str, priority: int, token: str | None, tags: dict[str, str]
    ) -> None:
        params: dict[str, Any] = {"ResourceId": node_id}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            tags.update(parse.tags(response.get("Tags", [])))
            if response.get("NextToken"):
                self._fetch_tags_page(node_id, priority, response["NextToken"], tags)
            else:
                self.publisher.sendMessage(topics.TAGS, node_id=node_id, tags=dict(tags))

        def failed(error: CallError) -> None:
            self._forget(("tags", node_id))  # selected again: the chain starts over
            self._detail_failed(node_id, "tags", error.kind is ErrorKind.DENIED)
            self._branch_error(node_id, "tags", error)

        # Only the first page is keyed (that is what a repeat request would resubmit); a
        # later page is queued once, by the page before it, and needs no key to forget.
        key = ("tags", node_id) if token is None else None
        self.submit(Task("ListTagsForResource", params, priority, found, failed, key=key))

    # -- policies -----------------------------------------------------------------------
    #
    # Attachments arrive page by page (ListTargetsForPolicy for FullAWSAccess is N/20 calls
    # in a chain): each page is published at once on POLICY_TARGETS, so the model shows what
    # is known so far. A node's list is final (POLICIES) once ListPolicies and every
    # ListTargetsForPolicy chain have ended, since any policy may be attached to any node,
    # or as soon as its own ListPoliciesForTarget answered. A chain that fails flags its
    # policy (BRANCH_ERROR, part "policy_targets") and the other policies' attachments stay.

    def fetch_policies_for(self, node_id: str) -> None:
        """Policies of one node right now, without waiting for the policy map."""
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
        self._policy_listings += 1

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Policies", []):
                self._list_targets(parse.policy(record), None)
            if response.get("NextToken"):
                self._list_policies(response["NextToken"])
            self._policy_listing_done()

        self.submit(Task("ListPolicies", params, POLICIES, found, self._policy_map_failed))

    def _list_targets(self, policy: Policy, token: str | None) -> None:
        params: dict[str, Any] = {"PolicyId": policy.id}
        if token:
            params["NextToken"] = token
        self._policy_listings += 1

        def found(response: dict[str, Any]) -> None:
            targets = tuple(str(t["TargetId"]) for t in response.get("Targets", []))
            for target_id in targets:
                self._attachments.setdefault(target_id, []).append(policy)
            if self._policy_map == "loading":
                # Nodes not found yet get theirs when they are (`_node_found`).
                fresh = tuple(t for t in targets if t in self._known and t not in self._final)
                if fresh:
                    self.publisher.sendMessage(
                        topics.POLICY_TARGETS, policy=policy, target_ids=fresh
                    )
            if response.get("NextToken"):
                self._list_targets(policy, response["NextToken"])
            self._policy_listing_done()

        def failed(error: CallError) -> None:
            # Only this policy's attachments are unknown: flag it, keep everyone else's.
            if self._policy_map == "loading":
                self._branch_error(policy.id, "policy_targets", error)
            self._policy_listing_done()

        self.submit(Task("ListTargetsForPolicy", params, POLICIES, found, failed))

    def _policy_listing_done(self) -> None:
        self._policy_listings -= 1
        if self._policy_listings == 0 and self._policy_map == "loading":
            self._policy_map = "ready"
            for node_id in list(self._known):
                self._publish_policies(node_id)

    def _policy_map_failed(self, error: CallError) -> None:
        self._policy_listings -= 1
        if self._policy_map != "loading":
            return
        denied = error.kind is ErrorKind.DENIED
        self._policy_map = "denied" if denied else "failed"
        for node_id in list(self._known):
            if node_id not in self._final:
                self._detail_failed(node_id, "policies", denied)
        self._branch_error("", "policies", error)

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

    # -- errors -------------------------------------------------------------------------

    def _structure_failed(self, parent_id: str, error: CallError) -> None:
        self._branch_error(parent_id, "structure", error)

    def _detail_failed(self, node_id: str, detail: str, denied: bool) -> None:
        state = DetailState.DENIED if denied else DetailState.FAILED
        self.publisher.sendMessage(topics.DETAIL_STATE, node_id=node_id, detail=detail, state=state)

    def _branch_error(self, node_id: str, part: str, error: CallError) -> None:
        branch = BranchError(
            node_id=node_id,
            part=part,
            operation=error.operation,
            code=error.code,
            message=error.message,
            denied=error.kind is ErrorKind.DENIED,
        )
        self.publisher.sendMessage(topics.BRANCH_ERROR, error=branch)
