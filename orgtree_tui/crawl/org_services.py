"""`OrgServices`: the organization's delegated administrators and trusted services.

ListDelegatedAdministrators (paged), then ListDelegatedServicesForAccount per administrator
(paged, 1/s: an organization has a handful), and ListAWSServiceAccessForOrganization (paged,
1/s). A refused or failed call is published as None with its state, never as an empty list:
a delegated administrator whose delegation policy lacks the call must read "not permitted".
A consolidated-billing organization can have neither, so it gets empty lists, no calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pubsub.core.publisher import Publisher

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse, topics
from orgtree_tui.crawl.task import POLICIES, CallError, Task
from orgtree_tui.records import DelegatedAdministrator, DetailState

Submit = Callable[[Task], bool]
BranchFailed = Callable[[str, str, CallError], None]  # what, part, error


def _state_of(error: CallError) -> DetailState:
    return DetailState.DENIED if error.kind is ErrorKind.DENIED else DetailState.FAILED


class OrgServices:
    def __init__(self, publisher: Publisher, submit: Submit, branch_failed: BranchFailed) -> None:
        self.publisher = publisher
        self.submit = submit
        self._branch_failed = branch_failed
        self._admins: list[dict[str, Any]] = []
        self._services: dict[str, tuple[str, ...] | None] = {}
        self._admin_state = DetailState.LOADED
        self._waiting = 0  # ListDelegatedServicesForAccount chains still running
        self._admins_listed = False

    def start(self, feature_set: str) -> None:
        if feature_set == "CONSOLIDATED_BILLING":
            self._send_admins((), DetailState.LOADED)
            self._send_services((), DetailState.LOADED)
            return
        self._list_admins(None)
        self._list_service_access(None, [])

    # -- delegated administrators ---------------------------------------------------------

    def _list_admins(self, token: str | None) -> None:
        params: dict[str, Any] = {"NextToken": token} if token else {}

        def found(response: dict[str, Any]) -> None:
            records = response.get("DelegatedAdministrators", [])
            self._admins.extend(records)
            self._waiting += len(records)
            for record in records:
                self._list_delegated_services(str(record["Id"]), None, [])
            if response.get("NextToken"):
                self._list_admins(response["NextToken"])
            else:
                self._admins_listed = True
                self._maybe_done()

        def failed(error: CallError) -> None:
            self._send_admins(None, _state_of(error))
            self._branch_failed("delegated_administrators", "organization", error)

        self.submit(Task("ListDelegatedAdministrators", params, POLICIES, found, failed))

    def _list_delegated_services(self, account_id: str, token: str | None, seen: list[str]) -> None:
        params: dict[str, Any] = {"AccountId": account_id}
        if token:
            params["NextToken"] = token

        def found(response: dict[str, Any]) -> None:
            seen.extend(str(s["ServicePrincipal"]) for s in response.get("DelegatedServices", []))
            if response.get("NextToken"):
                self._list_delegated_services(account_id, response["NextToken"], seen)
                return
            self._services[account_id] = tuple(sorted(seen))
            self._waiting -= 1
            self._maybe_done()

        def failed(error: CallError) -> None:
            # The administrators stand; this one's services are unknown, which the state says.
            self._services[account_id] = None
            if self._admin_state is DetailState.LOADED or error.kind is not ErrorKind.DENIED:
                self._admin_state = _state_of(error)
            self._branch_failed("delegated_administrators", "organization", error)
            self._waiting -= 1
            self._maybe_done()

        self.submit(Task("ListDelegatedServicesForAccount", params, POLICIES, found, failed))

    def _maybe_done(self) -> None:
        if not self._admins_listed or self._waiting:
            return
        admins = tuple(
            sorted(
                (
                    parse.delegated_administrator(r, self._services.get(str(r["Id"])))
                    for r in self._admins
                ),
                key=lambda a: a.account_id,
            )
        )
        self._send_admins(admins, self._admin_state)

    def _send_admins(
        self, admins: tuple[DelegatedAdministrator, ...] | None, state: DetailState
    ) -> None:
        self.publisher.sendMessage(topics.DELEGATED_ADMINISTRATORS, admins=admins, state=state)

    # -- trusted services -----------------------------------------------------------------

    def _list_service_access(self, token: str | None, seen: list[str]) -> None:
        params: dict[str, Any] = {"NextToken": token} if token else {}

        def found(response: dict[str, Any]) -> None:
            records = response.get("EnabledServicePrincipals", [])
            seen.extend(str(r["ServicePrincipal"]) for r in records)
            if response.get("NextToken"):
                self._list_service_access(response["NextToken"], seen)
            else:
                self._send_services(tuple(sorted(seen)), DetailState.LOADED)

        def failed(error: CallError) -> None:
            self._send_services(None, _state_of(error))
            self._branch_failed("trusted_services", "organization", error)

        self.submit(Task("ListAWSServiceAccessForOrganization", params, POLICIES, found, failed))

    def _send_services(self, services: tuple[str, ...] | None, state: DetailState) -> None:
        self.publisher.sendMessage(topics.TRUSTED_SERVICES, services=services, state=state)
