"""What the policy screen shows, worked out in its thread workers: a policy's reach (from
the tree, no calls) and its document (DescribePolicy on demand, ahead of the queued work,
through the crawler). UI-free and blocking: only ever called off the UI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.exporters.as_reach import reach
from orgtree_tui.exporters.snapshot import take_snapshot
from orgtree_tui.records import DetailState, NodeType, Policy, PolicyDocument
from orgtree_tui.tree_view import TreeView

DOCUMENT_WAIT = 120.0  # seconds: a bound for a throttled or stuck endpoint, not a speed
_POLL = 0.2  # seconds between looks at whether the screen was closed


@dataclass(frozen=True, slots=True)
class ReachFound:
    attached_to: tuple[tuple[str, str], ...]  # (id, path) of each node it is attached to
    applies_to: tuple[str, ...]  # every node it applies to, directly or inherited
    accounts: int  # how many of those are accounts


@dataclass(frozen=True, slots=True)
class DocumentFound:
    document: PolicyDocument | None  # None: no answer (`reason` says why)
    reason: str = ""


def reach_of(tree: TreeView, policy: Policy, node_id: str) -> ReachFound:
    """The policy's reach in the organization `node_id` is in (a node it applies to)."""
    ancestors = tree.ancestors(node_id)
    root_id = ancestors[0].id if ancestors else node_id
    snap = take_snapshot(tree, root_id, complete=True)
    found = reach(snap, policy)
    attached = tuple((i, snap.entries[i].path) for i in found.attached_to)
    applies = tuple(e.node.id for e, _ in found.applies_to)
    accounts = sum(1 for e, _ in found.applies_to if e.node.type is NodeType.ACCOUNT)
    return ReachFound(attached, applies, accounts)


def document_of(
    tree: TreeView,
    crawler: Crawler | None,
    policy_id: str,
    cancelled: Callable[[], bool],
    wait: float = DOCUMENT_WAIT,
) -> DocumentFound | None:
    """The document: the one the tree (or its cache) holds, else asked of the crawler and
    waited for. None: `cancelled()` turned true first (the screen was closed)."""
    known = tree.policy_documents().get(policy_id)
    if known is not None and known.state is DetailState.LOADED:
        return DocumentFound(known)
    if crawler is None:
        return DocumentFound(None, "not fetched: no crawl is running to fetch it (r crawls)")
    answered = threading.Event()
    box: list[PolicyDocument] = []

    # pypubsub calls listeners by the topic's argument names, and holds them weakly: this
    # one lives as long as this call does.
    def listener(
        policy_id: str, policy: Policy | None, content: str | None, state: DetailState
    ) -> None:
        if policy_id == wanted:
            box.append(PolicyDocument(policy_id, policy, content, state))
            answered.set()

    wanted = policy_id
    crawler.publisher.subscribe(listener, topics.POLICY_DOCUMENT)
    try:
        # Subscribed first: an answer landing between this look and the request is heard.
        held = crawler.tree.policy_document(policy_id)
        if held.state is DetailState.LOADED:
            return DocumentFound(held)
        crawler.request_policy_document(policy_id)
        deadline = time.monotonic() + wait
        while not answered.wait(_POLL):
            if cancelled():
                return None
            if time.monotonic() > deadline:
                return DocumentFound(None, f"no answer from DescribePolicy in {wait:g} s")
    finally:
        crawler.publisher.unsubscribe(listener, topics.POLICY_DOCUMENT)
    document = box[0]
    if document.state is DetailState.LOADED:
        return DocumentFound(document)
    why = {
        DetailState.DENIED: "not permitted: DescribePolicy was refused",
        DetailState.FAILED: "failed: DescribePolicy did not answer (try again with a)",
    }
    return DocumentFound(None, why.get(document.state, document.state.value))
