# mypy: disable-error-code="no-untyped-def,misc"
"""The pypubsub topic tree of a crawl and its message data specs, in one place.

Every crawl gets its own `Publisher`, so two crawls (or two tests) never hear each other.
Topics are strict: publishing or subscribing to an undeclared topic raises at once. A
listener that raises is logged and the publish goes on to the other listeners: one broken
subscriber (a progress display, say) must not starve the model or stop the crawl.
"""

# pypubsub reads the tree from nested classes; names are lower_case on purpose.

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pubsub.core.listener import IListenerExcHandler
from pubsub.core.publisher import Publisher
from pubsub.core.topicdefnprovider import TOPIC_TREE_FROM_CLASS

ORGANIZATION = "crawl.organization"
ROOT = "crawl.root"
ORGANIZATIONAL_UNIT = "crawl.organizational_unit"
ACCOUNT = "crawl.account"
PARENTAGE = "crawl.parentage"
TAGS = "crawl.tags"
POLICIES = "crawl.policies"
POLICY_TARGETS = "crawl.policy_targets"
POLICY_TYPES = "crawl.policy_types"
DELEGATED_ADMINISTRATORS = "crawl.delegated_administrators"
TRUSTED_SERVICES = "crawl.trusted_services"
POLICY_DOCUMENT = "crawl.policy_document"
DETAIL_STATE = "crawl.detail_state"
BRANCH_ERROR = "crawl.branch_error"
PROGRESS = "crawl.progress"
FINISHED = "crawl.finished"


@dataclass(frozen=True, slots=True)
class BranchError:
    """Part of the organization that could not be fetched."""

    node_id: str
    # "structure", "tags", "policies" (ListPolicies of some type: node_id ""),
    # "policy_targets" (ListTargetsForPolicy of the policy whose id is node_id) or
    # "organization" (node_id "delegated_administrators" or "trusted_services")
    part: str
    operation: str
    code: str
    message: str
    denied: bool


ALL_TOPICS = (
    ORGANIZATION,
    ROOT,
    ORGANIZATIONAL_UNIT,
    ACCOUNT,
    PARENTAGE,
    TAGS,
    POLICIES,
    POLICY_TARGETS,
    POLICY_TYPES,
    DELEGATED_ADMINISTRATORS,
    TRUSTED_SERVICES,
    POLICY_DOCUMENT,
    DETAIL_STATE,
    BRANCH_ERROR,
    PROGRESS,
    FINISHED,
)


class TopicTree:
    """The holder pypubsub reads topic definitions from."""

    class crawl:
        """Everything one crawl finds."""

        def msgDataSpec():
            """No data of its own: the parent of every crawl topic."""

        class organization:
            """DescribeOrganization answered."""

            def msgDataSpec(organization):
                """- organization: records.Organization"""

        class root:
            """A root was listed."""

            def msgDataSpec(node):
                """- node: records.Node of type ROOT"""

        class organizational_unit:
            """An OU was listed under its parent."""

            def msgDataSpec(node):
                """- node: records.Node of type ORGANIZATIONAL_UNIT"""

        class account:
            """An account was listed under its parent."""

            def msgDataSpec(node):
                """- node: records.Node of type ACCOUNT"""

        class parentage:
            """Every page of one child listing of a parent has arrived."""

            def msgDataSpec(parent_id, child_type, child_ids):
                """
                - parent_id: the root or OU listed
                - child_type: records.NodeType of the children (OU or ACCOUNT)
                - child_ids: tuple of every child id, in the order AWS gave them
                """

        class tags:
            """The tags of a node arrived."""

            def msgDataSpec(node_id, tags):
                """
                - node_id: root, OU or account id
                - tags: dict of key -> value
                """

        class policies:
            """The policies of one type attached to a node are known."""

            def msgDataSpec(node_id, policies, policy_type):
                """
                - node_id: root, OU or account id
                - policies: tuple of records.Policy
                - policy_type: the type (SERVICE_CONTROL_POLICY, TAG_POLICY, ...)
                """

        class policy_targets:
            """One page of a policy's targets arrived: each has this policy attached. Not
            final: those nodes' policy lists are complete only when crawl.policies says so."""

            def msgDataSpec(policy, target_ids):
                """
                - policy: records.Policy
                - target_ids: tuple of root, OU and account ids on that page
                """

        class policy_types:
            """ListRoots gave a root's policy types: the types the crawl fetches."""

            def msgDataSpec(root_id, policy_types):
                """
                - root_id: the root
                - policy_types: dict of type -> status (ENABLED, PENDING_ENABLE...)
                """

        class delegated_administrators:
            """The organization's delegated administrators, each with its services."""

            def msgDataSpec(admins, state):
                """
                - admins: tuple of records.DelegatedAdministrator, None when refused/failed
                - state: records.DetailState
                """

        class trusted_services:
            """The services with trusted access to the organization."""

            def msgDataSpec(services, state):
                """
                - services: tuple of service principals, None when refused/failed
                - state: records.DetailState
                """

        class policy_document:
            """DescribePolicy answered (asked for on demand), or was refused or failed."""

            def msgDataSpec(policy_id, policy, content, state):
                """
                - policy_id: the policy asked for
                - policy: records.Policy, None when the call did not succeed
                - content: the document (JSON text), None when the call did not succeed
                - state: records.DetailState
                """

        class detail_state:
            """A detail of a node could not be fetched (denied or failed)."""

            def msgDataSpec(node_id, detail, state):
                """
                - node_id: the node
                - detail: "tags", or the policy type whose attachments are missing
                - state: records.DetailState
                """

        class branch_error:
            """A call failed for good; the crawl goes on without that part."""

            def msgDataSpec(error):
                """- error: topics.BranchError"""

        class progress:
            """A snapshot of the task loop's counters."""

            def msgDataSpec(stats):
                """- stats: stats.CrawlStats"""

        class finished:
            """The crawl ended: complete, incomplete, cancelled or failed."""

            def msgDataSpec(outcome):
                """- outcome: crawler.CrawlOutcome"""


log = logging.getLogger(__name__)


class LogListenerError(IListenerExcHandler):
    """pypubsub's listener exception handler: called inside the `except`, so the log gets
    the traceback; returning lets the publish go on to the other listeners."""

    def __call__(self, listenerID: str, topicObj: Any) -> None:
        name = getattr(topicObj, "getName", lambda: "?")()
        log.exception("listener %s of %s failed", listenerID, name)


def new_publisher() -> Publisher:
    """A private publisher that knows exactly the topics above."""
    publisher = Publisher()
    publisher.setListenerExcHandler(LogListenerError())
    publisher.getTopicMgr().addDefnProvider(TopicTree, TOPIC_TREE_FROM_CLASS)
    publisher.setTopicUnspecifiedFatal(True)
    for name in ALL_TOPICS:
        publisher.getTopicMgr().getOrCreateTopic(name)
    return publisher
