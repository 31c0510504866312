"""`orgtree-tui export`: crawl, pick the subtree, write it. No TUI involved."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from orgtree_tui import cache
from orgtree_tui.cli import one_line
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.export import ExportError, check_destination, export_subtree
from orgtree_tui.model import OrgTree
from orgtree_tui.source import open_source, source_label

if TYPE_CHECKING:
    from orgtree_tui.cli import Options

EXIT_OK = 0
EXIT_ERROR = 2


class ProgressLine:
    """A single self-overwriting progress line on an interactive stderr."""

    def __init__(self, tree: OrgTree, stream: TextIO) -> None:
        self.tree = tree
        self.stream = stream

    def on_progress(self, stats: CrawlStats) -> None:
        counts = self.tree.totals()
        self.stream.write(
            f"\rcrawling: {counts.ous} OUs, {counts.accounts} accounts | "
            f"queue {stats.queued}, in flight {stats.in_flight}, calls {stats.total_calls}, "
            f"throttled {stats.total_throttled} | {stats.elapsed:5.1f}s "
        )
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _error(message: str) -> int:
    sys.stderr.write(f"orgtree-tui: error: {one_line(message)}\n")
    return EXIT_ERROR


def run_export(options: Options) -> int:
    if options.output is not None:
        if options.output.exists() and not options.output.is_dir() and not options.force:
            return _error(f"{options.output} already exists; use --force to overwrite it")
        try:
            # Fail before a crawl that could take minutes, not after it.
            check_destination(options.output, force=options.force)
        except ExportError as exc:
            return _error(str(exc))
    if options.cached:
        return _export_cached(options)
    source = open_source(options)
    try:
        crawler = Crawler(
            source.client,
            CrawlOptions(workers=options.workers, details=options.details),
            connection=source.connection,
        )
        progress = None
        if not options.quiet and sys.stderr.isatty():
            progress = ProgressLine(crawler.tree, sys.stderr)
            crawler.publisher.subscribe(progress.on_progress, topics.PROGRESS)
        try:
            outcome = crawler.run()
        finally:
            if progress is not None:
                progress.clear()
    finally:
        source.close()
    if outcome.state is CrawlState.FAILED:
        return _error(outcome.message)
    if outcome.state is CrawlState.CANCELLED:
        return _error("the crawl was cancelled")
    if options.cache:
        _save_cache(crawler.tree, source.label, complete=outcome.state is CrawlState.COMPLETE)
    return _write(
        options,
        crawler.tree,
        crawl_complete=outcome.state is CrawlState.COMPLETE,
        summary=f"{outcome.stats.total_calls} API calls, {outcome.stats.elapsed:.1f}s",
    )


def _write(options: Options, tree: OrgTree, *, crawl_complete: bool, summary: str) -> int:
    if options.subtree:
        node = tree.find(options.subtree)
        if node is None:
            return _error(f"no root, OU or account {options.subtree!r} in this organization")
        root_id = node.id
    else:
        roots = tree.roots()
        if not roots:
            return _error("the organization has no root")
        root_id = roots[0].id
    complete = crawl_complete and not tree.incomplete_under(root_id)
    try:
        result = export_subtree(
            tree, root_id, options.format, options.output, force=options.force, complete=complete
        )
    except ExportError as exc:
        return _error(str(exc))
    if not options.quiet:
        where = str(result.path) if result.path else "stdout"
        sys.stderr.write(
            f"wrote {result.ous} OUs and {result.accounts} accounts to {where}"
            f" ({result.format}, {summary})\n"
        )
    if not complete:
        broken = len(tree.incomplete_under(root_id))
        sys.stderr.write(
            f"orgtree-tui: warning: the export is incomplete: {broken} branch(es) could not be"
            ' listed; see "incomplete_branches" in the JSON export\n'
        )
    return EXIT_OK


def _export_cached(options: Options) -> int:
    label = source_label(options)
    try:
        cached = cache.load_for_export(label)
    except cache.CacheError as exc:
        return _error(str(exc))
    if not cache.is_fresh(cached, options.cache_ttl):
        return _error(
            f"the cached tree for {label} is {_age(cached.age)} old, older than --cache-ttl;"
            " export without --cached to crawl again"
        )
    return _write(
        options,
        cached.tree,
        crawl_complete=cached.complete,
        summary=f"from the cache, crawled {_age(cached.age)} ago",
    )


def _save_cache(tree: OrgTree, label: str, *, complete: bool) -> None:
    try:
        cache.save(tree, source=label, complete=complete, crawled_at=datetime.now(UTC))
    except cache.CacheError as exc:
        # The export itself is what was asked for; a cache that cannot be written is a note.
        sys.stderr.write(f"orgtree-tui: warning: {one_line(str(exc))}\n")


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
