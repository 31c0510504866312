"""Where a crawl gets its data: real AWS through the credential chain, or the demo org.

Shared by the TUI and the headless exporter so both connect the same way. Several
`--profile`s mean several organizations: one Source (own session, client and rate limits)
per profile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from orgtree_tui.aws import OrgClient, make_client
from orgtree_tui.connection import Connection
from orgtree_tui.identity import CallerIdentity, caller_identity, open_session

if TYPE_CHECKING:
    import boto3

    from orgtree_tui.options import Options

DEMO_CREDENTIALS = ("testing", "testing")
DEMO_LABEL = "demo organization (simulated)"


@dataclass
class Source:
    client: OrgClient
    connection: Connection
    label: str  # what the header shows: profile, endpoint or "demo"
    _close: Callable[[], None] | None = field(default=None, repr=False)
    session: boto3.session.Session | None = field(default=None, repr=False)
    _caller: CallerIdentity | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def caller_identity(self) -> CallerIdentity:
        """Who the crawl runs as (sts:GetCallerIdentity), asked once. Blocks on the
        network: call it from a worker thread. Raises identity.IdentityError."""
        # The lock also keeps two threads from making clients from one Session at once.
        with self._lock:
            if self._caller is None:
                self._caller = caller_identity(self.connection, self.session)
            return self._caller

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


def connections(options: Options) -> list[Connection]:
    """One connection per `--profile` (one on the default chain when there is none)."""
    profiles: tuple[str | None, ...] = options.profiles or (None,)
    return [
        Connection(
            profile=profile,
            region=options.region,
            endpoint_url=options.endpoint_url,
            role_arn=options.role_arn,
            external_id=options.external_id,
            role_session_name=options.role_session_name,
        )
        for profile in profiles
    ]


def with_profile(conn: Connection, profile: str | None) -> Connection:
    """The same connection as another profile: what a profile picker re-crawls with."""
    return replace(conn, profile=profile)


def source_label(options: Options) -> str:
    """What names the first source in the header and keys its cache, without connecting."""
    return source_labels(options)[0]


def source_labels(options: Options) -> list[str]:
    if options.demo:
        return [DEMO_LABEL]
    return [conn.describe() for conn in connections(options)]


def open_source(options: Options, connection: Connection | None = None) -> Source:
    """Connect as the options say (or as `connection`, one of `connections(options)`).
    The demo starts a local simulated endpoint first."""
    if options.demo:
        return open_demo(options.workers)
    return open_connection(connection or connections(options)[0], workers=options.workers)


def open_sources(options: Options) -> list[Source]:
    """Every organization the options name, in `--profile` order."""
    if options.demo:
        return [open_demo(options.workers)]
    opened: list[Source] = []
    try:
        for conn in connections(options):
            opened.append(open_connection(conn, workers=options.workers))
    except BaseException:
        for source in opened:
            source.close()
        raise
    return opened


def open_connection(conn: Connection, *, workers: int) -> Source:
    session = open_session(conn)
    client = make_client(conn, max_pool=workers, session=session)
    return Source(client, conn, conn.describe(), session=session)


def renew_client(source: Source, *, workers: int) -> OrgClient | None:
    """A client on freshly read credentials (after a new login), or None when the source
    has nothing to re-read: the demo, or a client handed in by a test."""
    if source.session is None or source._close is not None:
        return None
    session = open_session(source.connection)
    with source._lock:
        source.session, source._caller = session, None
    return make_client(source.connection, max_pool=workers, session=session)


def open_demo(workers: int) -> Source:
    from orgtree_tui.demo import start_demo

    handle = start_demo()
    conn = Connection(
        endpoint_url=handle.endpoint_url,
        access_key=DEMO_CREDENTIALS[0],
        secret_key=DEMO_CREDENTIALS[1],
    )
    session = open_session(conn)
    client = make_client(conn, max_pool=workers, session=session)
    return Source(client, conn, DEMO_LABEL, handle.stop, session=session)
