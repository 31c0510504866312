"""`ScopeResolver`: where the node `--subtree` names sits, found with the few calls that prove it.

A name path (`/Root/Infrastructure/Prod`) is resolved top-down, one level at a time: ListRoots,
then ListOrganizationalUnitsForParent of each level (every page), and, for the last segment
only, the parent's ListAccountsForParent when no OU there has that name. The match is the one
`OrgTree.find` would pick in a full crawl: the exact name, OUs before accounts, accounts with
one name by id.

An id is resolved upward: DescribeOrganizationalUnit or DescribeAccount for the node itself (a
typo fails there), ListParents (every page) from it to the root, DescribeOrganizationalUnit for
each OU above it and ListRoots for the root's name, which its path needs.

The resolver publishes nothing: it hands the chain (root first, the node last) to `on_found`,
and the planner places the chain and crawls from its last node down. What is not there it says
in one line, with a "did you mean" when a name differs in case only or by a slip of the keys.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from orgtree_tui.aws_errors import ErrorKind
from orgtree_tui.crawl import parse
from orgtree_tui.crawl.task import URGENT, CallError, Task
from orgtree_tui.paths import escape_segment, split_path
from orgtree_tui.records import Node, NodeType, sort_key

Submit = Callable[[Task], bool]
OnFound = Callable[[list[Node]], None]
OnRoots = Callable[[list[dict[str, Any]]], None]

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_NOUNS = {NodeType.ROOT: "root", NodeType.ORGANIZATIONAL_UNIT: "OU", NodeType.ACCOUNT: "account"}


def id_type(ref: str) -> NodeType | None:
    """What kind of node an id names (the CLI has checked its form); None for a name path."""
    if ref.startswith("r-"):
        return NodeType.ROOT
    if ref.startswith("ou-"):
        return NodeType.ORGANIZATIONAL_UNIT
    if _ACCOUNT_ID.fullmatch(ref):
        return NodeType.ACCOUNT
    return None


def path_of(chain: list[Node]) -> str:
    """The name path of the last node of a chain that starts at the root ("" for none)."""
    return "".join("/" + escape_segment(n.name) for n in chain)


def did_you_mean(name: str, candidates: list[str]) -> str | None:
    """The candidate the user most likely meant: the same name in another case first, then
    the closest spelling (difflib's ratio of at least 0.8)."""
    folded = [c for c in candidates if c.casefold() == name.casefold()]
    if folded:
        return sorted(folded)[0]
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.8)
    return close[0] if close else None


def _named(nodes: list[Node], name: str) -> Node | None:
    """`OrgTree.find`'s pick among one level: the first exact name in export order."""
    return next((n for n in sorted(nodes, key=sort_key) if n.name == name), None)


class ScopeResolver:
    """Resolves one `--subtree` reference; `found`, `missing` or `error` says how it ended."""

    def __init__(
        self, submit: Submit, ref: str, on_found: OnFound, on_roots: OnRoots | None = None
    ) -> None:
        self.submit = submit
        self.ref = ref
        self._on_found = on_found
        self._on_roots = on_roots  # the root records (their policy types), once listed
        self.found: list[Node] | None = None  # the chain, root first, the node last
        self.missing = ""  # not in this organization: the one line to say so
        self.error: CallError | None = None  # a call that failed otherwise
        self._segments = split_path(ref) if ref.startswith("/") else []
        # Upward resolution: the node's record, its ancestors' ids (nearest first) and
        # records, the root; `_pending` counts the calls still out.
        self._record: dict[str, Any] | None = None
        self._above: list[tuple[str, str]] = []
        self._ou_records: dict[str, dict[str, Any]] = {}
        self._root: Node | None = None
        self._pending = 0

    @property
    def done(self) -> bool:
        return self.found is not None or bool(self.missing) or self.error is not None

    def start(self) -> None:
        kind = id_type(self.ref)
        if kind is None:
            if not self._segments:
                self._not_found(f"{self.ref!r} names no root, OU or account")
                return
            self._list("ListRoots", {}, "Roots", self._roots_listed)
        elif kind is NodeType.ROOT:
            self._list("ListRoots", {}, "Roots", self._root_by_id)
        else:
            self._describe_self(kind)

    # -- a name path, top-down ----------------------------------------------------------

    def _roots_listed(self, records: list[dict[str, Any]]) -> None:
        roots = [parse.root(r) for r in records]
        segment = self._segments[0]
        root = _named(roots, segment)
        if root is None:
            self._no_such(segment, "root", [], [r.name for r in roots])
        else:
            self._descend([root])

    def _descend(self, chain: list[Node]) -> None:
        """`chain` matched the first len(chain) segments: find the next, or finish."""
        if len(chain) == len(self._segments):
            self._finish(chain)
            return
        parent = chain[-1]
        segment = self._segments[len(chain)]
        last = len(chain) == len(self._segments) - 1

        def ous_listed(records: list[dict[str, Any]]) -> None:
            ous = [parse.organizational_unit(r, parent.id) for r in records]
            ou = _named(ous, segment)
            if ou is not None:
                self._descend([*chain, ou])
            elif last:
                # Only the last segment can be an account: accounts have no children.
                self._list(
                    "ListAccountsForParent",
                    {"ParentId": parent.id},
                    "Accounts",
                    lambda accounts: self._accounts_listed(chain, ous, accounts),
                )
            else:
                self._no_such(segment, "OU", chain, [n.name for n in ous])

        self._list(
            "ListOrganizationalUnitsForParent",
            {"ParentId": parent.id},
            "OrganizationalUnits",
            ous_listed,
        )

    def _accounts_listed(
        self, chain: list[Node], ous: list[Node], records: list[dict[str, Any]]
    ) -> None:
        parent = chain[-1]
        accounts = [parse.account(r, parent.id) for r in records]
        segment = self._segments[len(chain)]
        account = _named(accounts, segment)
        if account is None:
            names = [n.name for n in (*ous, *accounts)]
            self._no_such(segment, "OU or account", chain, names)
        else:
            self._finish([*chain, account])

    def _no_such(self, segment: str, what: str, chain: list[Node], names: list[str]) -> None:
        place = f" under {path_of(chain)}" if chain else " in this organization"
        line = f"no {what} {segment!r}{place}"
        meant = did_you_mean(segment, names)
        if meant is not None:
            line += f"; did you mean {path_of(chain)}/{escape_segment(meant)}?"
        self._not_found(line)

    # -- an id, upward ------------------------------------------------------------------

    def _root_by_id(self, records: list[dict[str, Any]]) -> None:
        root = next((parse.root(r) for r in records if r.get("Id") == self.ref), None)
        if root is None:
            self._not_found(f"no root {self.ref} in this organization")
        else:
            self._finish([root])

    def _describe_self(self, kind: NodeType) -> None:
        operation, param, key = (
            ("DescribeAccount", "AccountId", "Account")
            if kind is NodeType.ACCOUNT
            else ("DescribeOrganizationalUnit", "OrganizationalUnitId", "OrganizationalUnit")
        )

        def described(response: dict[str, Any]) -> None:
            self._record = response[key]
            self._settle()

        # The node and its parent at once: one round trip, and a typo costs two calls.
        self._call(operation, {param: self.ref}, described)
        self._climb(self.ref)

    def _climb(self, child_id: str) -> None:
        def listed(parents: list[dict[str, Any]]) -> None:
            if not parents:
                self._not_found(f"no parent of {child_id} in this organization")
                return
            parent_id, parent_type = str(parents[0]["Id"]), str(parents[0]["Type"])
            self._above.append((parent_id, parent_type))
            if parent_type == NodeType.ROOT:
                self._list("ListRoots", {}, "Roots", self._root_listed)
            else:
                self._describe_ancestor(parent_id)
                self._climb(parent_id)
            self._settle()

        self._list("ListParents", {"ChildId": child_id}, "Parents", listed)

    def _describe_ancestor(self, ou_id: str) -> None:
        def described(response: dict[str, Any]) -> None:
            self._ou_records[ou_id] = response["OrganizationalUnit"]
            self._settle()

        self._call("DescribeOrganizationalUnit", {"OrganizationalUnitId": ou_id}, described)

    def _root_listed(self, records: list[dict[str, Any]]) -> None:
        root_id = self._above[-1][0]
        self._root = next((parse.root(r) for r in records if r.get("Id") == root_id), None)
        if self._root is None:
            self._not_found(f"no root {root_id} in this organization")
        else:
            self._settle()

    def _settle(self) -> None:
        """Once every call is back: the chain from the root down to the node."""
        if self.done or self._pending or self._record is None or self._root is None:
            return
        chain = [self._root]
        for ou_id, _ in reversed(self._above[:-1]):
            chain.append(parse.organizational_unit(self._ou_records[ou_id], chain[-1].id))
        if id_type(self.ref) is NodeType.ACCOUNT:
            chain.append(parse.account(self._record, chain[-1].id))
        else:
            chain.append(parse.organizational_unit(self._record, chain[-1].id))
        self._finish(chain)

    # -- calls --------------------------------------------------------------------------

    def _list(
        self,
        operation: str,
        params: dict[str, Any],
        key: str,
        done: Callable[[list[dict[str, Any]]], None],
        token: str | None = None,
        so_far: list[dict[str, Any]] | None = None,
    ) -> None:
        """Every page of one listing (a page may be empty and still carry a NextToken)."""
        records = so_far if so_far is not None else []

        def found(response: dict[str, Any]) -> None:
            records.extend(response.get(key, []))
            if response.get("NextToken"):
                self._list(operation, params, key, done, response["NextToken"], records)
                return
            if operation == "ListRoots" and self._on_roots is not None:
                self._on_roots(records)
            done(records)

        page = {**params, "NextToken": token} if token else dict(params)
        self._call(operation, page, found)

    def _call(
        self, operation: str, params: dict[str, Any], found: Callable[[dict[str, Any]], None]
    ) -> None:
        self._pending += 1

        def answered(response: dict[str, Any]) -> None:
            self._pending -= 1
            if not self.done:
                found(response)

        def failed(error: CallError) -> None:
            self._pending -= 1
            if self.done:
                return
            if error.kind is ErrorKind.NOT_FOUND:
                kind = id_type(self.ref)
                noun = _NOUNS[kind] if kind is not None else "root, OU or account"
                self._not_found(f"no {noun} {self.ref} in this organization")
            else:
                self.error = error

        # Nothing below the node can start before it is found: ahead of everything.
        self.submit(Task(operation, params, URGENT, answered, failed))

    def _not_found(self, line: str) -> None:
        self.missing = f"--subtree {self.ref}: {line}"

    def _finish(self, chain: list[Node]) -> None:
        self.found = chain
        self._on_found(chain)
