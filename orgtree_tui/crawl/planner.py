"""`Planner`: what each node found makes necessary, queued as tasks.

A root or OU found -> list its OUs and its accounts (every page, see `accounts`) and fetch
its tags; an account found -> fetch its tags. SCPs are the `PolicyMap`'s, which the planner
starts once the organization is known and tells of every node found.

With a scope (`--subtree`), the crawl starts from the node the `ScopeResolver` finds instead of
ListRoots: its ancestors are placed (their names make its path) but not listed or detailed,
and only the node and what is below it are crawled. No ListAccounts stream then (it lists the
whole organization's accounts), and SCPs the cheaper way for what was asked.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.accounts import AccountPlacer
from orgtree_tui.crawl.org_services import OrgServices
from orgtree_tui.crawl.policy_map import PolicyMap, Strategy
from orgtree_tui.crawl.scope import ScopeResolver
from orgtree_tui.crawl.task import DETAILS, STRUCTURE, CallError, Task
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.records import DetailState, Node, NodeType, Organization

Submit = Callable[[Task], bool]
Forget = Callable[[Hashable], None]

_TOPICS = {
    NodeType.ROOT: topics.ROOT,
    NodeType.ORGANIZATIONAL_UNIT: topics.ORGANIZATIONAL_UNIT,
    NodeType.ACCOUNT: topics.ACCOUNT,
}


class Planner:
    """Queues the calls that what was just found makes necessary."""

    def __init__(
        self,
        publisher: Publisher,
        submit: Submit,
        *,
        details: bool,
        forget: Forget = lambda key: None,
        scope: str | None = None,
        scp_strategy: Strategy | None = None,
    ) -> None:
        self.publisher = publisher
        self.submit = submit
        self._forget = forget  # lets a failed chain's first page be asked for again
        # Tag chains past their first page: the next token and the tags so far, by node.
        self._tags_next: dict[str, tuple[str, dict[str, str], int]] = {}
        self._tag_chains: dict[str, int] = {}  # how many times each node's chain started
        self.details = details
        self._known: dict[str, NodeType] = {}
        # The node the crawl starts from (None: the whole organization, from ListRoots).
        self.scope = (
            ScopeResolver(submit, scope, self._scope_found, self._roots_listed) if scope else None
        )
        self.scope_id: str | None = None
        self._organization: Organization | None = None
        self._policies_started = False
        if scp_strategy is None:
            scp_strategy = Strategy.BY_POLICY if scope is None else Strategy.CHEAPEST
        self.policies = PolicyMap(
            publisher,
            submit,
            known=self._known,
            forget=forget,
            detail_failed=self._detail_failed,
            branch_failed=self._branch_error,
            strategy=scp_strategy,
        )
        self.services = OrgServices(publisher, submit, self._branch_error)
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
        if self.scope is None:
            self._list_roots(None)
            self._accounts.start_stream()
        else:
            self.scope.start()
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
        organization = parse.organization(response["Organization"])
        self.publisher.sendMessage(topics.ORGANIZATION, organization=organization)
        self._organization = organization
        self._start_policies()

    def _start_policies(self) -> None:
        # With a scope, only once the node is found: a typo then costs no policy calls.
        if self._policies_started or not self.details or self._organization is None:
            return
        if self.scope is None or self.scope_id is not None:
            self._policies_started = True
            self.policies.start()
            self.services.start(self._organization.feature_set)

    def _scope_found(self, chain: list[Node]) -> None:
        """Place the chain, root first; `_in_scope` then lets only its last node through."""
        self.scope_id = chain[-1].id
        for node in chain:
            self.publisher.sendMessage(_TOPICS[node.type], node=node)
        self._start_policies()
        if self.details:
            # What the subtree inherits is attached above it: a call per ancestor and type.
            for ancestor in chain[:-1]:
                self.policies.fetch_for(ancestor.id)

    def _in_scope(self, node: Node) -> bool:
        return self.scope is None or node.id == self.scope_id or node.parent_id in self._known

    def _roots_listed(self, records: list[dict[str, Any]]) -> None:
        """The policy types enabled on each root: the policy map starts on them."""
        for record in records:
            types = parse.policy_types(record)
            self.publisher.sendMessage(
                topics.POLICY_TYPES, root_id=record["Id"], policy_types=types
            )

    def _list_roots(self, token: str | None) -> None:
        params = {"NextToken": token} if token else {}

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Roots", []):
                # The types first: the policy map starts on them, before the root's children.
                self._roots_listed([record])
                self.publisher.sendMessage(topics.ROOT, node=parse.root(record))
            if response.get("NextToken"):
                self._list_roots(response["NextToken"])

        self.submit(Task("ListRoots", params, STRUCTURE, found, fatal=True))

    # -- structure ----------------------------------------------------------------------

    def on_parent(self, node: Node) -> None:
        if node.id in self._known or not self._in_scope(node):
            return
        self._known[node.id] = node.type
        self._list_ous(node.id, None, [])
        self._accounts.list_parent(node.id)
        self._node_found(node)

    def on_account(self, node: Node) -> None:
        if node.id in self._known or not self._in_scope(node):
            return
        self._known[node.id] = node.type
        self._node_found(node)

    def _node_found(self, node: Node) -> None:
        if not self.details:
            return
        self.fetch_tags(node.id, DETAILS)
        self.policies.node_found(node.id)

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
        """Queue a node's tags at `priority`, or raise its chain there if it is under way: a
        later page (an empty page with a NextToken is common on AWS) would otherwise wait
        at the priority the chain started with."""
        under_way = self._tags_next.get(node_id)
        if under_way is not None:
            self._fetch_tags_page(node_id, priority, *under_way)
        else:
            # A chain started again (after a failure) keys its later pages apart from the
            # first chain's, which the loop remembers as done.
            chain = self._tag_chains[node_id] = self._tag_chains.get(node_id, 0) + 1
            self._fetch_tags_page(node_id, priority, None, {}, chain)

    def _fetch_tags_page(
        self, node_id: str, priority: int, token: str | None, tags: dict[str, str], chain: int
    ) -> None:
        params: dict[str, Any] = {"ResourceId": node_id}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            tags.update(parse.tags(response.get("Tags", [])))
            if response.get("NextToken"):
                self._tags_next[node_id] = (response["NextToken"], tags, chain)
                # At this page's priority now: raised if the node was selected meanwhile.
                page = task.priority
                self._fetch_tags_page(node_id, page, response["NextToken"], tags, chain)
            else:
                self._tags_next.pop(node_id, None)
                self.publisher.sendMessage(topics.TAGS, node_id=node_id, tags=dict(tags))

        def failed(error: CallError) -> None:
            self._tags_next.pop(node_id, None)
            self._forget(("tags", node_id))  # selected again: the chain starts over
            self._detail_failed(node_id, "tags", error.kind is ErrorKind.DENIED)
            self._branch_error(node_id, "tags", error)

        # A later page's key names its token: asking again for the same page only raises it;
        # the loop drops a failed task's key itself, so a restart is never blocked.
        key = ("tags", node_id) if token is None else ("tags", node_id, chain, token)
        task = Task("ListTagsForResource", params, priority, found, failed, key=key)
        self.submit(task)

    # -- policies: the PolicyMap's ------------------------------------------------------

    def fetch_policies_for(self, node_id: str) -> None:
        """Policies of one node right now, without waiting for the policy map."""
        self.policies.fetch_for(node_id)

    # -- errors -------------------------------------------------------------------------

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
