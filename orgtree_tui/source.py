"""Where a crawl gets its data: real AWS through the credential chain, or the demo org.

Shared by the TUI and the headless exporter so both connect the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orgtree_tui.aws import Connection, OrgClient, make_client

if TYPE_CHECKING:
    from orgtree_tui.cli import Options

DEMO_CREDENTIALS = ("testing", "testing")


@dataclass
class Source:
    client: OrgClient
    connection: Connection
    label: str  # what the header shows: profile, endpoint or "demo"
    _close: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


DEMO_LABEL = "demo organization (simulated)"


def source_label(options: Options) -> str:
    """What names this source in the header and keys its cache, without connecting."""
    if options.demo:
        return DEMO_LABEL
    return Connection(
        profile=options.profile, region=options.region, endpoint_url=options.endpoint_url
    ).describe()


def open_source(options: Options) -> Source:
    """Connect as the options say. The demo starts a local simulated endpoint first."""
    if options.demo:
        return open_demo(options.workers)
    conn = Connection(
        profile=options.profile, region=options.region, endpoint_url=options.endpoint_url
    )
    client = make_client(conn, max_pool=options.workers)
    return Source(client, conn, conn.describe())


def open_demo(workers: int) -> Source:
    from orgtree_tui.demo import start_demo

    handle = start_demo()
    conn = Connection(
        endpoint_url=handle.endpoint_url,
        access_key=DEMO_CREDENTIALS[0],
        secret_key=DEMO_CREDENTIALS[1],
    )
    client = make_client(conn, max_pool=workers)
    return Source(client, conn, DEMO_LABEL, handle.stop)
