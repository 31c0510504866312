"""`ModelWriter`: the one listener that turns a crawl's topics into its OrgTree."""

from __future__ import annotations

from pubsub.core.publisher import Publisher

from orgtree_tui.crawl import topics
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.gaps import Missing
from orgtree_tui.model import OrgTree
from orgtree_tui.records import (
    DelegatedAdministrator,
    DetailState,
    Node,
    Organization,
    Policy,
    PolicyDocument,
)


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
        publisher.subscribe(self.on_policy_types, topics.POLICY_TYPES)
        publisher.subscribe(self.on_delegated_administrators, topics.DELEGATED_ADMINISTRATORS)
        publisher.subscribe(self.on_trusted_services, topics.TRUSTED_SERVICES)
        publisher.subscribe(self.on_policy_document, topics.POLICY_DOCUMENT)
        publisher.subscribe(self.on_detail_state, topics.DETAIL_STATE)
        publisher.subscribe(self.on_branch_error, topics.BRANCH_ERROR)

    def on_organization(self, organization: Organization) -> None:
        self.tree.set_organization(organization)

    def on_node(self, node: Node) -> None:
        self.tree.add(node)

    def on_tags(self, node_id: str, tags: dict[str, str]) -> None:
        self.tree.set_tags(node_id, tags)

    def on_policies(self, node_id: str, policies: tuple[Policy, ...], policy_type: str) -> None:
        self.tree.set_policies(node_id, policies, policy_type)

    def on_policy_targets(self, policy: Policy, target_ids: tuple[str, ...]) -> None:
        self.tree.add_policy_attachments(policy, target_ids)

    def on_policy_types(self, root_id: str, policy_types: dict[str, str]) -> None:
        self.tree.set_policy_types(policy_types)

    def on_delegated_administrators(
        self, admins: tuple[DelegatedAdministrator, ...] | None, state: DetailState
    ) -> None:
        self.tree.set_delegated_administrators(admins, state)

    def on_trusted_services(self, services: tuple[str, ...] | None, state: DetailState) -> None:
        self.tree.set_trusted_services(services, state)

    def on_policy_document(
        self, policy_id: str, policy: Policy | None, content: str | None, state: DetailState
    ) -> None:
        self.tree.set_policy_document(PolicyDocument(policy_id, policy, content, state))

    def on_detail_state(self, node_id: str, detail: str, state: DetailState) -> None:
        if detail == "tags":
            self.tree.set_tags_state(node_id, state)
        else:
            self.tree.set_policies_state(node_id, state, detail)

    def on_branch_error(self, error: BranchError) -> None:
        cause = Missing.DENIED if error.denied else Missing.FAILED
        if error.part == "structure":
            reason = f"{error.operation}: {error.code}"
            self.tree.mark_incomplete(error.node_id, reason, cause=cause)
        elif error.part == "policy_targets":
            # One policy's ListTargetsForPolicy failed: the other attachments stand, and
            # every node's SCP list may lack this one, which the exports must say.
            self.tree.mark_policy_targets_missing(error.node_id, cause)
