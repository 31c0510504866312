"""`orgtree-tui diff`: what changed in the organization, without a screen.

`diff OLD.json NEW.json` compares two JSON exports; `diff` alone compares the cached tree
with a fresh crawl (same connection flags as `export`), then saves the crawl as the new
cached tree (as every crawl does; `--no-cache` leaves the cache as it was). Exit statuses
as diff(1): 0 no changes, 1 changes, 2 trouble; a partial comparison (a side incomplete)
is trouble unless `--allow-partial`. Goes through `api`, as a script would.
"""

from __future__ import annotations

import sys

from orgtree_tui import api
from orgtree_tui.cache.store import CachedTree, CacheError
from orgtree_tui.crawl.crawler import CrawlState
from orgtree_tui.drift import Drift
from orgtree_tui.drift_sides import SideError
from orgtree_tui.export import ExportError
from orgtree_tui.headless import HeadlessError
from orgtree_tui.options import EXIT_OK, EXIT_USAGE, PROG, Options
from orgtree_tui.progress import ProgressLine
from orgtree_tui.source import open_source, source_labels
from orgtree_tui.text import one_line

EXIT_CHANGES = 1


def run_diff(options: Options) -> int:
    try:
        if options.diff_files:
            old, new = options.diff_files
            drift = api.diff(old, new)
        else:
            drift = _cache_against_crawl(options)
    except (SideError, CacheError, ExportError) as exc:
        raise HeadlessError(str(exc)) from None
    sys.stdout.write(api.render_diff(drift, options.format))
    sys.stdout.flush()
    return _status(drift, options)


def _status(drift: Drift, options: Options) -> int:
    if drift.partial:
        lacking = "; ".join(
            f"{side.label}: {side.gaps_line()}"
            for side in (drift.old, drift.new)
            if not side.complete
        )
        # Said even with -q, as `export` says "incomplete": a script must not take a partial
        # comparison for "nothing else changed".
        if not options.allow_partial:
            sys.stderr.write(f"{PROG}: partial comparison: {one_line(lacking)}\n")
            return EXIT_USAGE
        sys.stderr.write(f"{PROG}: warning: partial comparison: {one_line(lacking)}\n")
    return EXIT_CHANGES if drift.changes else EXIT_OK


def _cache_against_crawl(options: Options) -> Drift:
    if len(source_labels(options)) > 1:
        raise HeadlessError("diff compares one organization: give one --profile")
    label = source_labels(options)[0]
    # Before the crawl: without a cached tree there is nothing to compare it with.
    cached: CachedTree = api.load_cache(label=label, details=options.details)
    source = open_source(options)
    try:
        crawler = api.new_crawler(source, workers=options.workers, details=options.details)
        progress = None
        if not options.quiet and sys.stderr.isatty():
            progress = ProgressLine([crawler.tree], sys.stderr)
        try:
            result = api.run_crawl(
                crawler, label, on_progress=progress.on_progress if progress else None
            )
        finally:
            if progress is not None:
                progress.clear()
    finally:
        source.close()
    if result.outcome.state in (CrawlState.FAILED, CrawlState.CANCELLED):
        raise HeadlessError(result.outcome.message or "the crawl was cancelled")
    was, now = cached.organization, result.tree.organization
    if was and now and was.id != now.id:
        raise HeadlessError(
            f"the cached tree for {label} is organization {was.id}, the crawl reached"
            f" {now.id}; nothing to compare"
        )
    if options.cache:
        try:
            api.save_cache(result)
        except CacheError as exc:  # the report is what was asked for; this is a note
            sys.stderr.write(f"{PROG}: warning: {one_line(str(exc))}\n")
    return api.diff(cached, result)
