"""AWS's paging rules for Organizations, as pure functions: which operations page, page cuts,
and NextTokens bound to the call that issued them.

The list of paginated operations and their page limits come from botocore's model
(paginators-1.json and service-2.json), so a new List* call is paged without touching this.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

SERVICE = "organizations"
DEFAULT_PAGE = 20  # AWS's maximum, and what AWS sends when no MaxResults is given
MAX_EMPTIES = 2  # consecutive empty pages at most, so every listing ends
_PAGING_PARAMS = ("NextToken", "MaxResults")


@dataclass(frozen=True, slots=True)
class PagedOperation:
    name: str
    result_key: str
    limit_key: str | None  # None when the input takes only NextToken (ListTagsForResource)
    max_results: int  # the model's maximum for the limit, else DEFAULT_PAGE


@cache
def paged_operations() -> dict[str, PagedOperation]:
    """Every Organizations operation botocore's paginator model marks as paginated."""
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    pagination = loader.load_service_model(SERVICE, "paginators-1")["pagination"]
    model = session.get_service_model(SERVICE)
    found: dict[str, PagedOperation] = {}
    for name, config in pagination.items():
        limit_key = config.get("limit_key")
        maximum = DEFAULT_PAGE
        if limit_key:
            shape = model.operation_model(name).input_shape
            limit = shape.members.get(limit_key) if shape is not None else None
            if limit is not None:
                maximum = int(limit.metadata.get("max", DEFAULT_PAGE))
        found[name] = PagedOperation(name, str(config["result_key"]), limit_key, maximum)
    return found


def binding(params: dict[str, Any]) -> str:
    """What a NextToken is bound to: the call's parameters apart from the paging ones."""
    kept = {k: v for k, v in params.items() if k not in _PAGING_PARAMS}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts, and how many empty pages came right before it."""

    offset: int
    empties: int = 0


class PageTokens:
    """Signs cursors into opaque NextTokens; a token read back for any other operation or
    parameters, or altered at all, is refused (None)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, operation: str, bound: str, cursor: Cursor) -> str:
        message = f"{operation}\n{bound}\n{cursor.offset}\n{cursor.empties}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()

    def issue(self, operation: str, bound: str, cursor: Cursor) -> str:
        body = base64.urlsafe_b64encode(f"{cursor.offset}:{cursor.empties}".encode()).decode()
        return f"{body}.{self._mac(operation, bound, cursor)}"

    def read(self, token: str, operation: str, bound: str) -> Cursor | None:
        body, _, mac = token.partition(".")
        try:
            offset_text, _, empties_text = base64.urlsafe_b64decode(body).decode().partition(":")
            cursor = Cursor(int(offset_text), int(empties_text))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if cursor.offset < 0 or cursor.empties < 0:
            return None
        if not hmac.compare_digest(mac, self._mac(operation, bound, cursor)):
            return None
        return cursor

    def chance(self, operation: str, bound: str, cursor: Cursor, kind: str) -> float:
        """A number in [0, 1) fixed by the secret and the request: a retried token draws
        the same, so it gets the same page."""
        message = f"{kind}\n{operation}\n{bound}\n{cursor.offset}\n{cursor.empties}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class Cut:
    start: int
    stop: int
    next: Cursor | None


def cut(total: int, at: Cursor, size: int, empty_here: bool, empty_after: bool) -> Cut:
    """The page of a `total`-item listing that starts at `at`.

    `empty_here`: answer this request with no items (and a token to the same place).
    `empty_after`: when this page ends the listing, still hand out a token, whose page
    is empty. Both are ignored after MAX_EMPTIES empty pages in a row.
    """
    offset = min(at.offset, total)  # the listing may have shrunk since the token was issued
    may_empty = at.empties < MAX_EMPTIES
    if empty_here and may_empty:
        return Cut(offset, offset, Cursor(offset, at.empties + 1))
    stop = min(total, offset + size)
    if stop < total:
        return Cut(offset, stop, Cursor(stop))
    if empty_after and may_empty and stop > offset:
        return Cut(offset, stop, Cursor(stop, 1))
    return Cut(offset, stop, None)
