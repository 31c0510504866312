"""A WSGI middleware that re-pages moto's answers the way AWS pages them.

moto answers ListAccounts 100 a page and ListChildren, ListParents, ListTagsForResource,
ListTargetsForPolicy and ListRoots in one page; AWS answers every List call at most 20 items
a page, sometimes none with a NextToken, and refuses a NextToken issued for another call.
For each paged request this fetches the whole listing from moto (following moto's own
tokens), and cuts AWS's page out of it (`paging.cut`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orgtree_tui.sim.paging import (
    DEFAULT_PAGE,
    Cursor,
    PagedOperation,
    PageTokens,
    binding,
    cut,
    paged_operations,
)
from orgtree_tui.sim.wire import (
    ADMIN_ENVIRON_KEY,
    MOTO_ACCOUNT_ENVIRON_KEY,
    aws_error,
    operation_of,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

EMPTY_RATE = 0.05  # how often a page is empty (with a NextToken) though items remain
_MOTO_PAGE = 1_000_000  # what we ask moto for: the whole listing in one of its pages
_CACHE_SIZE = 512
_READ_PREFIXES = ("List", "Describe")

Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer from moto, as it came."""

    status: str
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class Listing:
    """A whole listing: moto's first answer (the template of every page), its headers,
    and every item of every moto page."""

    template: dict[str, Any]
    headers: Headers
    items: list[Any]


class StrictPager:
    """Wraps moto's Organizations app. Admin requests pass untouched (the builders and the
    tests' own checks use moto's paging); any write empties the listing cache."""

    def __init__(
        self, app: WSGIApplication, seed: int | None = None, empty_rate: float = EMPTY_RATE
    ) -> None:
        self.app = app
        self.empty_rate = empty_rate
        secret = (
            hashlib.sha256(f"orgtree-sim-paging:{seed}".encode()).digest()
            if seed is not None
            else os.urandom(32)
        )
        self.tokens = PageTokens(secret)
        self.operations = paged_operations()
        self._lock = threading.Lock()
        self._generation = 0
        self._cache: dict[tuple[str, str, str], Listing] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._cache.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        operation = operation_of(environ)
        paged = self.operations.get(operation)
        if paged is not None and environ.get(ADMIN_ENVIRON_KEY) != "1":
            return [self._page(paged, environ, start_response)]
        if operation.startswith(_READ_PREFIXES):
            return self.app(environ, start_response)
        # A write (or a moto-api reset): drop cached listings before and after, so no
        # listing read while the write ran survives it.
        self.invalidate()
        body = b"".join(self.app(environ, start_response))
        self.invalidate()
        return [body]

    def _page(
        self, paged: PagedOperation, environ: WSGIEnvironment, start_response: StartResponse
    ) -> bytes:
        params = _read_json(environ)
        bound = binding(params)
        cursor = Cursor(0)
        token = params.get("NextToken")
        if token is not None:
            read = self.tokens.read(str(token), paged.name, bound)
            if read is None:
                return _invalid(start_response, "INVALID_NEXT_TOKEN", "Invalid NextToken.")
            cursor = read
        size = DEFAULT_PAGE
        limit = params.get(paged.limit_key) if paged.limit_key else None
        if limit is not None:
            if not isinstance(limit, int) or limit < 1:
                return _invalid(start_response, "MIN_VALUE_EXCEEDED", "MaxResults below 1.")
            if limit > paged.max_results:
                reason = f"MaxResults above {paged.max_results}."
                return _invalid(start_response, "MAX_VALUE_EXCEEDED", reason)
            size = limit
        listing = self._listing(paged, environ, params, bound)
        if isinstance(listing, Answer):  # moto refused (a missing parent...): pass it on
            start_response(listing.status, listing.headers)
            return listing.body
        items = listing.items
        rate = self.empty_rate
        here = rate > 0 and self.tokens.chance(paged.name, bound, cursor, "here") < rate
        after = rate > 0 and self.tokens.chance(paged.name, bound, cursor, "after") < rate
        page = cut(len(items), cursor, size, here, after)
        answer = dict(listing.template)
        answer[paged.result_key] = items[page.start : page.stop]
        answer.pop("NextToken", None)
        if page.next is not None:
            answer["NextToken"] = self.tokens.issue(paged.name, bound, page.next)
        body = json.dumps(answer).encode()
        start_response("200 OK", _with_length(listing.headers, body))
        return body

    def _listing(
        self, paged: PagedOperation, environ: WSGIEnvironment, params: dict[str, Any], bound: str
    ) -> Listing | Answer:
        key = (paged.name, str(environ.get(MOTO_ACCOUNT_ENVIRON_KEY, "")), bound)
        with self._lock:
            cached = self._cache.get(key)
            generation = self._generation
        if cached is not None:
            return cached
        fetched = self._fetch(paged, environ, params)
        if isinstance(fetched, Listing):
            with self._lock:
                if generation == self._generation:
                    if len(self._cache) >= _CACHE_SIZE:
                        del self._cache[next(iter(self._cache))]
                    self._cache[key] = fetched
        return fetched

    def _fetch(
        self, paged: PagedOperation, environ: WSGIEnvironment, params: dict[str, Any]
    ) -> Listing | Answer:
        """Every item of the listing, following moto's own NextTokens."""
        query = {k: v for k, v in params.items() if k not in ("NextToken", "MaxResults")}
        if paged.limit_key:
            query[paged.limit_key] = _MOTO_PAGE
        template: dict[str, Any] | None = None
        headers: Headers = []
        items: list[Any] = []
        token: str | None = None
        while True:
            answer = self._call(environ, {**query, "NextToken": token} if token else query)
            if not answer.status.startswith("200"):
                return answer
            parsed = json.loads(answer.body)
            if template is None:
                template, headers = parsed, answer.headers
            items.extend(parsed.get(paged.result_key) or [])
            token = parsed.get("NextToken")
            if not token:
                return Listing(template, headers, items)

    def _call(self, environ: WSGIEnvironment, params: dict[str, Any]) -> Answer:
        data = json.dumps(params).encode()
        inner = dict(environ)
        inner["wsgi.input"] = io.BytesIO(data)
        inner["CONTENT_LENGTH"] = str(len(data))
        seen: list[tuple[str, Headers]] = []

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Any:
            seen.append((status, list(headers)))
            return lambda _: None

        result = self.app(inner, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = seen[-1]
        return Answer(status, headers, body)


def _read_json(environ: WSGIEnvironment) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    # The original stream is spent: hand the bytes on for anyone reading after us.
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _with_length(headers: Headers, body: bytes) -> Headers:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    return [*kept, ("Content-Length", str(len(body)))]


def _invalid(start_response: StartResponse, reason: str, message: str) -> bytes:
    # AWS's shape (botocore's InvalidInputException: Message, Reason).
    return b"".join(aws_error(start_response, 400, "InvalidInputException", message, Reason=reason))
