"""One crawl of one organization: a private publisher, the task loop, the model, the planner.

Anyone (the CLI exporter, the TUI bridge, a test) subscribes to `crawler.publisher` before
calling `run()`, which blocks its thread until the crawl ends; `cancel()` and
`request_details()` may be called from any other thread.

`CrawlOptions.subtree` scopes the crawl to one node and what is below it (see `scope`): the
outcome then speaks of that subtree only ("complete": the subtree and its details arrived),
and a node that is not in the organization ends the crawl NOT_FOUND with the line to say so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from orgtree_tui.aws_errors import explain
from orgtree_tui.connection import Connection
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.documents import PolicyDocuments
from orgtree_tui.crawl.engine import DEFAULT_DEADLINE, DEFAULT_WORKERS, LoopState, TaskLoop
from orgtree_tui.crawl.model_writer import ModelWriter
from orgtree_tui.crawl.planner import Planner
from orgtree_tui.crawl.policy_map import Strategy
from orgtree_tui.crawl.ratelimit import RateLimiter
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.crawl.task import ON_SCREEN, URGENT, CallError, Client
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.gaps import Gaps, Missing
from orgtree_tui.model import OrgTree
from orgtree_tui.quotas import Quota
from orgtree_tui.records import DetailState

LISTING_OPERATIONS = frozenset(
    {"ListOrganizationalUnitsForParent", "ListAccountsForParent", "ListChildren"}
)


class CrawlState(StrEnum):
    CRAWLING = "crawling"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # finished, but something asked for is missing (see `gaps`)
    CANCELLED = "cancelled"
    FAILED = "failed"  # stopped by an error that leaves nothing useful to fetch
    NOT_FOUND = "not found"  # the subtree asked for is not in this organization (`message`)


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    workers: int = DEFAULT_WORKERS
    details: bool = True
    deadline: float = DEFAULT_DEADLINE
    quotas: dict[str, Quota] | None = None
    # A name path or id: crawl that node and what is below it (None: the organization).
    subtree: str | None = None
    # How SCP attachments are fetched (None: by policy for an organization, the cheaper
    # way for a subtree).
    scp_strategy: Strategy | None = None


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    state: CrawlState
    stats: CrawlStats
    message: str = ""  # what went wrong and what to do, for FAILED
    error_code: str = ""
    incomplete: dict[str, str] = field(default_factory=dict)  # branches not listed
    detail_errors: int = 0
    gaps: Gaps = field(default_factory=Gaps)  # everything missing, branches included

    @property
    def complete(self) -> bool:
        return self.state is CrawlState.COMPLETE


class Crawler:
    def __init__(
        self,
        client: Client,
        options: CrawlOptions | None = None,
        *,
        connection: Connection | None = None,
        cancel_event: threading.Event | None = None,
    ) -> None:
        self.options = options or CrawlOptions()
        self.connection = connection
        self.publisher = topics.new_publisher()
        self.tree = OrgTree(details=self.options.details)
        self.loop = TaskLoop(
            client,
            workers=self.options.workers,
            limiter=RateLimiter(self.options.quotas),
            deadline=self.options.deadline,
            cancel_event=cancel_event,
            on_progress=self._publish_progress,
        )
        # Order matters: the model hears every message before any other listener.
        self._writer = ModelWriter(self.tree, self.publisher)
        self._planner = Planner(
            self.publisher,
            self.loop.submit,
            details=self.options.details,
            forget=self.loop.forget,
            scope=self.options.subtree,
            scp_strategy=self.options.scp_strategy,
        )
        self._documents = PolicyDocuments(self.publisher, self.loop.submit, self.loop.forget)
        self._detail_errors = 0
        self.publisher.subscribe(self._count_branch_error, topics.BRANCH_ERROR)
        self.outcome: CrawlOutcome | None = None
        self._lifecycle = threading.Lock()
        self._stopped_marks: list[str] = []  # parents marked incomplete when the crawl stopped
        self._stopped_policies: list[str] = []  # policies whose targets a stop left unlisted

    def run(self) -> CrawlOutcome:
        self._planner.start()
        state = self.loop.run()
        with self._lifecycle:
            self.outcome = self._outcome(state)
        self.publisher.sendMessage(topics.FINISHED, outcome=self.outcome)
        return self.outcome

    def resume(self) -> CrawlOutcome:
        """Carry on after a cancel or a failure (say, expired credentials after a new login),
        keeping everything found so far and every call that was still to be made."""
        if self.outcome is None:
            return self.run()
        self.outcome = None
        for node_id in self._stopped_marks:
            self.tree.clear_incomplete(node_id)
        self._stopped_marks = []
        state = self.loop.resume()
        with self._lifecycle:
            self.outcome = self._outcome(state)
        self.publisher.sendMessage(topics.FINISHED, outcome=self.outcome)
        return self.outcome

    @property
    def resumable(self) -> bool:
        return self.outcome is not None and self.outcome.state in (
            CrawlState.CANCELLED,
            CrawlState.FAILED,
        )

    def cancel(self) -> None:
        self.loop.cancel()

    @property
    def scope_id(self) -> str | None:
        """The node a scoped crawl started from, once found (None: the organization)."""
        return self._planner.scope_id

    @property
    def cancel_event(self) -> threading.Event:
        return self.loop.cancel_event

    def request_details(self, node_id: str) -> None:
        """Fetch this node's tags and policies now, ahead of everything else queued. A detail
        that failed or was refused is asked for again (a failed task's key is forgotten)."""
        # Safe from any thread: these only build tasks and submit them, and the loop
        # deduplicates by task key under its own lock.
        details = self.tree.details(node_id)
        if details.tags_state is not DetailState.LOADED:
            self._planner.fetch_tags(node_id, URGENT)
        if any(p.state is not DetailState.LOADED for p in details.by_type.values()):
            self._planner.fetch_policies_for(node_id)
        # What it inherits is shown too: ancestors' policies never fetched are (a
        # structure-only crawl fetched none, and "loading..." stood there for good). Those
        # that failed are asked for again when the ancestor itself is selected.
        for ancestor in self.tree.ancestors(node_id):
            found = self.tree.details(ancestor.id).by_type.values()
            if any(p.state is DetailState.PENDING for p in found):
                self._planner.fetch_policies_for(ancestor.id)
        self._run_leftovers()

    def prioritise_on_screen(self, node_ids: Iterable[str]) -> None:
        """The tags of these nodes (the ones on screen) go out before those off screen; the
        cursor's node still comes first (`request_details`). Tasks already queued are only
        raised, so calling this on every scroll costs no extra API call."""
        if not self.options.details:
            return  # a structure-only crawl fetches no tags at all
        details = self.tree.details_of(node_id for node_id in node_ids if node_id in self.tree)
        for node_id, detail in details.items():
            if detail.tags_state is DetailState.PENDING:
                self._planner.fetch_tags(node_id, ON_SCREEN)

    def request_policy_document(self, policy_id: str) -> None:
        """Fetch one policy's document now (DescribePolicy), ahead of everything queued;
        from any thread, during or after the crawl. It lands in `tree.policy_document`."""
        if self.tree.policy_document(policy_id).state is DetailState.LOADED:
            return
        self._documents.request(policy_id)
        self._run_leftovers()

    def fetch_policy_documents(self, policy_ids: Iterable[str]) -> None:
        """Fetch these documents after the crawl and wait for them (`--policy-documents`)."""
        for policy_id in policy_ids:
            if self.tree.policy_document(policy_id).state is not DetailState.LOADED:
                self._documents.request(policy_id)
        with self._lifecycle:
            if self.loop.state is not LoopState.FINISHED or not self.loop.has_work():
                return
            self.loop.state = LoopState.RESUMING
        self._finish_leftovers()

    def _run_leftovers(self) -> None:
        """A detail asked for after the crawl ended still gets fetched, in the background."""
        with self._lifecycle:
            if self.loop.state is not LoopState.FINISHED or not self.loop.has_work():
                return  # still running (it will pick the task up), or stopped on purpose
            self.loop.state = LoopState.RESUMING
        threading.Thread(target=self._finish_leftovers, name="orgtree-crawl-details").start()

    def _finish_leftovers(self) -> None:
        state = self.loop.resume()
        with self._lifecycle:
            self.outcome = self._outcome(state)
        self.publisher.sendMessage(topics.FINISHED, outcome=self.outcome)

    def _publish_progress(self, stats: CrawlStats) -> None:
        self.publisher.sendMessage(topics.PROGRESS, stats=stats)

    def _count_branch_error(self, error: BranchError) -> None:
        if error.part != "structure":
            self._detail_errors += 1

    def unfinished_parents(self) -> set[str]:
        """Roots and OUs whose children were still being listed (any page, either call)."""
        parents: set[str] = set()
        for task in self.loop.unfinished():
            for operation, params in task.choices:
                if operation in LISTING_OPERATIONS and "ParentId" in params:
                    parents.add(params["ParentId"])
        return parents

    def _mark_unfinished(self, reason: str) -> None:
        """A stopped crawl's tree says which branches it never finished, like a failed one:
        on screen, in the status bar and in every export. `resume()` takes the marks off."""
        for parent_id in sorted(self.unfinished_parents()):
            if parent_id in self.tree and not self.tree.is_incomplete(parent_id):
                self.tree.mark_incomplete(parent_id, reason, cause=Missing.NOT_FETCHED)
                self._stopped_marks.append(parent_id)

    def _mark_unlisted_policies(self, *, stopped: bool) -> None:
        """A stopped crawl also says which policies' targets it never listed ("not
        fetched"); the next outcome takes those marks off before it looks again."""
        for policy_id in self._stopped_policies:
            self.tree.clear_policy_targets_missing(policy_id)
        self._stopped_policies = []
        if not stopped:
            return
        unlisted = {
            params["PolicyId"]
            for task in self.loop.unfinished()
            for operation, params in task.choices
            if operation == "ListTargetsForPolicy" and "PolicyId" in params
        }
        already = self.tree.policy_targets_missing()
        for policy_id in sorted(unlisted - set(already)):
            self.tree.mark_policy_targets_missing(policy_id, Missing.NOT_FETCHED)
            self._stopped_policies.append(policy_id)

    def _outcome(self, state: LoopState) -> CrawlOutcome:
        stopped = state in (LoopState.CANCELLED, LoopState.ABORTED)
        if stopped:
            error = self.loop.abort_error
            why = f"not listed: the crawl stopped ({error.code})" if error else "not listed"
            self._mark_unfinished(why)
        self._mark_unlisted_policies(stopped=stopped)
        stats = self.loop.stats()
        scope = self._planner.scope
        if scope is not None and scope.found is None and not stopped:
            if scope.error is not None:
                return CrawlOutcome(
                    CrawlState.FAILED, stats, self._explain(scope.error), scope.error.code
                )
            message = scope.missing or f"--subtree {scope.ref}: not found"
            return CrawlOutcome(CrawlState.NOT_FOUND, stats, message)
        incomplete = self.tree.incomplete()
        # Complete means the structure and every detail asked for arrived (the tree knows
        # whether details were asked for: a `--no-details` crawl lacks them on purpose). A
        # scoped crawl's ancestors are there for their names only: the subtree is what counts.
        gaps = self.tree.gaps(self._planner.scope_id)
        if state is LoopState.CANCELLED:
            return CrawlOutcome(
                CrawlState.CANCELLED, stats, "cancelled", "", incomplete, self._detail_errors, gaps
            )
        if state is LoopState.ABORTED:
            error = self.loop.abort_error
            return CrawlOutcome(
                CrawlState.FAILED,
                stats,
                self._explain(error),
                error.code if error else "",
                incomplete,
                self._detail_errors,
                gaps,
            )
        final = CrawlState.INCOMPLETE if gaps else CrawlState.COMPLETE
        return CrawlOutcome(final, stats, "", "", incomplete, self._detail_errors, gaps)

    def _explain(self, error: CallError | None) -> str:
        if error is None:
            return "the crawl stopped"
        if error.exception is not None:
            return explain(error.exception, self.connection)
        return f"{error.operation} failed: {error.code}: {error.message}"
