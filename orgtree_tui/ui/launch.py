"""`run_tui`: the CLI's way in. `make_app` builds the app for the CLI and the tests alike.

Quitting must end the process within a second even mid-crawl: the crawl is cancelled, the
asyncio loop is closed without waiting for worker threads, and if a thread is still stuck
on a network call after a short grace, the process leaves with `os._exit` once the
terminal has been restored.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.source import Source, open_source, source_label
from orgtree_tui.ui.app import DETAILS_DELAY, OrgTreeApp
from orgtree_tui.ui.session import CrawlSession

if TYPE_CHECKING:
    from orgtree_tui.cli import Options

EXIT_GRACE = 0.5  # seconds crawl threads get to finish after the app has closed


def make_app(
    open_source: Callable[[], Source],
    crawl_options: CrawlOptions | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
    today: Callable[[], date] = date.today,
    export_dir: Path | None = None,
    details_delay: float | None = DETAILS_DELAY,
    cache_source: str | None = None,
    cache_ttl: timedelta | None = None,
    theme: str | None = None,
) -> OrgTreeApp:
    """The app, crawling whatever `open_source()` connects to (called on a worker thread).
    With `cache_source`, the tree cached under that label shows first (see cache.py)."""
    session = CrawlSession(open_source, crawl_options or CrawlOptions())
    return OrgTreeApp(
        session,
        clock=clock,
        today=today,
        export_dir=export_dir,
        details_delay=details_delay,
        cache_source=cache_source,
        cache_ttl=cache_ttl,
        theme=theme,
    )


def run_tui(options: Options) -> int:
    app = make_app(
        partial(open_source, options),
        CrawlOptions(workers=options.workers, details=options.details),
        cache_source=source_label(options) if options.cache else None,
        cache_ttl=options.cache_ttl,
        export_dir=options.export_dir,
        theme=options.theme,
    )
    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        app.session.close()
        # BaseEventLoop.close shuts its default executor down without waiting, unlike
        # asyncio.run, which would wait for the crawl worker's thread.
        loop.close()
    code = app.return_code or 0
    if not wait_for_threads(EXIT_GRACE):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


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
