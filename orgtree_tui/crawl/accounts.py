"""Placing accounts under their parents, from whichever token bucket has room.

A parent's accounts can be listed two ways. ListAccountsForParent gives every field at once,
but sits on AWS's 5/s quota row together with ListOrganizationalUnitsForParent (and that row
may be one shared bucket). ListChildren gives only ids, from a 6/s bucket of its own; the
fields then come from the ListAccounts stream, 20 accounts a call from an 8/s bucket, started
once per crawl. Each listing task offers both calls and the loop sends whichever has a token,
so account placement runs on three buckets instead of one. When one of the two is refused
(AccessDenied), the loop drops it and sends the other: a parent's listing fails only when
both ways were refused. An id placed before the stream
has brought its record waits for it; ids the stream never brings (an account created
mid-crawl, or a denied ListAccounts) are asked for one by one with DescribeAccount.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.task import STRUCTURE, CallError, Task
from orgtree_tui.records import NodeType

Submit = Callable[[Task], bool]
OnFailure = Callable[[str, CallError], None]


@dataclass
class _Listing:
    """One parent's account listing, across its pages."""

    parent_id: str
    seen: list[str] = field(default_factory=list)
    waiting: int = 0  # ids placed whose records have not arrived yet
    pages_done: bool = False


class AccountPlacer:
    def __init__(self, publisher: Publisher, submit: Submit, on_failure: OnFailure) -> None:
        self.publisher = publisher
        self.submit = submit
        self.on_failure = on_failure
        self._records: dict[str, dict[str, Any]] = {}
        self._waiting: dict[str, _Listing] = {}
        self._placed: set[str] = set()
        self._stream = "idle"  # idle -> running -> done | failed

    def start_stream(self) -> None:
        self._stream = "running"
        self._list_accounts(None)

    def list_parent(self, parent_id: str) -> None:
        self._page(_Listing(parent_id), None, None)

    # -- the ListAccounts stream ----------------------------------------------------------

    def _list_accounts(self, token: str | None) -> None:
        params: dict[str, Any] = {"NextToken": token} if token else {}

        def found(response: dict[str, Any]) -> None:
            for record in response.get("Accounts", []):
                account_id = record["Id"]
                listing = self._waiting.pop(account_id, None)
                if listing is not None:
                    self._place(record, listing)
                elif account_id not in self._placed:
                    self._records[account_id] = record
            if response.get("NextToken"):
                self._list_accounts(response["NextToken"])
            else:
                self._stream_ended("done")

        def failed(error: CallError) -> None:
            self._stream_ended("failed")

        self.submit(Task("ListAccounts", params, STRUCTURE, found, failed))

    def _stream_ended(self, how: str) -> None:
        self._stream = how
        for account_id, listing in list(self._waiting.items()):
            self._describe(account_id, listing)
        self._waiting.clear()

    # -- one parent's listing -------------------------------------------------------------

    def _page(self, listing: _Listing, operation: str | None, token: str | None) -> None:
        by_parent: dict[str, Any] = {"ParentId": listing.parent_id}
        by_children: dict[str, Any] = {"ParentId": listing.parent_id, "ChildType": "ACCOUNT"}
        if token is not None and operation is not None:
            # A NextToken belongs to the call that issued it: later pages stay on that call.
            params = {**(by_parent if operation == "ListAccountsForParent" else by_children)}
            params["NextToken"] = token
            task = Task(operation, params, STRUCTURE, lambda r: None, self._failed(listing))
        else:
            # Without the stream (a scoped crawl never starts it: it lists every account in
            # the organization), ids alone would cost a DescribeAccount each.
            streaming = self._stream in ("running", "done")
            alternatives = (("ListChildren", by_children),) if streaming else ()
            task = Task(
                "ListAccountsForParent",
                by_parent,
                STRUCTURE,
                lambda r: None,
                self._failed(listing),
                alternatives=alternatives,
            )
        task.on_result = lambda response: self._answered(listing, task.operation, response)
        self.submit(task)

    def _answered(self, listing: _Listing, operation: str, response: dict[str, Any]) -> None:
        if operation == "ListAccountsForParent":
            for record in response.get("Accounts", []):
                self._place(record, listing, counted=False)
        else:
            for child in response.get("Children", []):
                self._child(child["Id"], listing)
        # A page can be empty and still carry a NextToken: always follow it.
        if response.get("NextToken"):
            self._page(listing, operation, response["NextToken"])
        else:
            listing.pages_done = True
            self._maybe_done(listing)

    def _child(self, account_id: str, listing: _Listing) -> None:
        listing.waiting += 1
        record = self._records.pop(account_id, None)
        if record is not None:
            self._place(record, listing)
        elif self._stream == "running":
            self._waiting[account_id] = listing
        else:
            self._describe(account_id, listing)

    def _describe(self, account_id: str, listing: _Listing) -> None:
        def found(response: dict[str, Any]) -> None:
            self._place(response["Account"], listing)

        def failed(error: CallError) -> None:
            listing.waiting -= 1
            self.on_failure(listing.parent_id, error)
            self._maybe_done(listing)

        self.submit(Task("DescribeAccount", {"AccountId": account_id}, STRUCTURE, found, failed))

    def _place(self, record: dict[str, Any], listing: _Listing, counted: bool = True) -> None:
        node = parse.account(record, listing.parent_id)
        self._placed.add(node.id)
        self._records.pop(node.id, None)
        listing.seen.append(node.id)
        self.publisher.sendMessage(topics.ACCOUNT, node=node)
        if counted:
            listing.waiting -= 1
            self._maybe_done(listing)

    def _maybe_done(self, listing: _Listing) -> None:
        if listing.pages_done and listing.waiting == 0:
            listing.pages_done = False  # announce once
            self.publisher.sendMessage(
                topics.PARENTAGE,
                parent_id=listing.parent_id,
                child_type=NodeType.ACCOUNT,
                child_ids=tuple(listing.seen),
            )

    def _failed(self, listing: _Listing) -> Callable[[CallError], None]:
        return lambda error: self.on_failure(listing.parent_id, error)
