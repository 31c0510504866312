"""`run_tui`: the CLI's way in. `make_app` builds the app for the CLI and the tests alike.

Quitting must end the process within half a second even mid-crawl: the crawl is
cancelled, the asyncio loop is closed without waiting for worker threads, a cache file
being written is given time to finish, and if any other thread is still on a network
call after a very short grace, the process leaves with `os._exit` once the terminal has
been restored (Textual's own shutdown takes up to 0.2 s of the budget: its input thread
polls every 0.1 s). `bench/quit_latency.py` measures it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from orgtree_tui.cache import store as cache
from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.identity import open_session
from orgtree_tui.source import DEMO_LABEL, Source, connections, open_connection, open_demo
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.screens.main import DETAILS_DELAY
from orgtree_tui.ui.sources import OrgSource

if TYPE_CHECKING:
    from orgtree_tui.options import Options

EXIT_GRACE = 0.05  # seconds crawl threads get to finish after the app has closed
SAVE_GRACE = 5.0  # seconds a cache file or an export being written gets (50,000 nodes: ~0.5 s)


def make_app(
    open_source: Callable[[], Source] | Sequence[OrgSource],
    crawl_options: CrawlOptions | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    frame_clock: Callable[[], float] = time.monotonic,
    today: Callable[[], date] = date.today,
    export_dir: Path | None = None,
    details_delay: float | None = DETAILS_DELAY,
    cache_source: str | None = None,
    cache_ttl: timedelta | None = None,
    theme: str | None = None,
    pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None = None,
) -> OrgTreeApp:
    """The app, crawling whatever `open_source()` connects to (called on a worker thread),
    or one organization per OrgSource. With `cache_source`, the tree cached under that label
    shows first (see cache.py)."""
    if callable(open_source):
        options = crawl_options or CrawlOptions()
        sources: Sequence[OrgSource] = [OrgSource(open_source, "", cache_source, options)]
    else:
        sources = open_source
    return OrgTreeApp(
        sources,
        clock=clock,
        frame_clock=frame_clock,
        today=today,
        export_dir=export_dir,
        details_delay=details_delay,
        cache_ttl=cache_ttl,
        theme=theme,
        pick_profiles=pick_profiles,
    )


def org_sources(options: Options) -> list[OrgSource]:
    """One OrgSource per organization the options name (the demo, or each --profile)."""
    crawl_options = CrawlOptions(workers=options.workers, details=options.details)
    if options.demo:
        opener: Callable[[], Source] = partial(open_demo, options.workers)
        cached = cache.source_for(DEMO_LABEL, details=options.details) if options.cache else None
        return [OrgSource(opener, DEMO_LABEL, cached, crawl_options)]
    found: list[OrgSource] = []
    for conn in connections(options):
        label = conn.describe()
        opener = partial(open_connection, conn, workers=options.workers)
        cached = cache.source_for(label, details=options.details) if options.cache else None
        found.append(OrgSource(opener, label, cached, crawl_options, conn.profile))
    return found


def profile_sources(options: Options) -> Callable[[tuple[str, ...]], list[OrgSource]]:
    """What the profile picker crawls: the same options with the profiles picked."""

    def pick(profiles: tuple[str, ...]) -> list[OrgSource]:
        chosen = replace(options, demo=False, profiles=profiles, profile=profiles[0])
        return org_sources(chosen)

    return pick


def app_for_options(options: Options) -> OrgTreeApp:
    return make_app(
        org_sources(options),
        cache_ttl=options.cache_ttl,
        export_dir=options.export_dir,
        theme=options.theme,
        pick_profiles=profile_sources(options),
    )


def check_profiles(options: Options) -> None:
    """An unknown --profile (or AWS_PROFILE) is a usage error before the screen opens, as
    for `export`: the profile's session is made (config files only, no network call)."""
    if options.demo:
        return
    for conn in connections(options):
        open_session(replace(conn, role_arn=None))  # raises ConnectionSettingsError


def run_tui(options: Options) -> NoReturn:
    check_profiles(options)
    app = app_for_options(options)
    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        app.close_sessions()
        # BaseEventLoop.close shuts its default executor down without waiting, unlike
        # asyncio.run, which would wait for the crawl workers' threads.
        loop.close()
    code = app.return_code or 0
    app.wait_for_writes(SAVE_GRACE)
    wait_for_threads(EXIT_GRACE)
    # Leave now. Threads still on a network call would keep the process alive, and the
    # interpreter's own teardown (boto's and, for the demo, moto's modules) takes another
    # 0.2-0.4 s; the terminal is restored and every file written, nothing is left to do.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def wait_for_threads(timeout: float) -> bool:
    """True when every non-daemon thread but this one ended within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            return False
    return True
