"""`orgtree-tui export`: crawl, pick the subtree, write it. No TUI involved.

With `--subtree`, each organization's crawl is scoped to that node (crawl.scope): it finds the
node with a few calls and crawls only what is below it. An organization that lacks the node
is left out of a multi-organization export; alone, it is the error, with the crawl's line.
Scoped trees are not cached: the cache holds whole organizations.

What cannot be done raises `HeadlessError` (one line; the CLI writes it and exits 2); what
was done returns its exit status, with the summary and any warnings on stderr.

Several `--profile`s crawl several organizations at once, each with its own client, task
loop and rate limits, on its own thread, and write one grouped document.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, replace
from datetime import timedelta

from orgtree_tui import api
from orgtree_tui.cache import store
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.export import (
    ExportError,
    ExportResult,
    Part,
    check_destination,
    export_grouped,
    export_reach,
)
from orgtree_tui.exporters.selection import Selection
from orgtree_tui.exporters.view import LabelTemplate, View
from orgtree_tui.inheritance import policies_in
from orgtree_tui.model import OrgTree
from orgtree_tui.options import EXIT_INCOMPLETE, EXIT_OK, PROG, Options
from orgtree_tui.progress import ProgressLine
from orgtree_tui.source import Source, open_sources, source_labels
from orgtree_tui.text import one_line
from orgtree_tui.wording import plural


class HeadlessError(Exception):
    """The export could not be done (nothing was written); a one-line message."""


@dataclass(frozen=True)
class Crawled:
    """One organization's tree, from a crawl or the cache."""

    label: str
    tree: OrgTree
    # The crawl ran to its end (its gaps, if any, are in the tree); False for a stopped
    # crawl, and for a cached tree saved as incomplete.
    finished: bool


def run_export(options: Options) -> int:
    if options.output is not None:
        if options.output.exists() and not options.output.is_dir() and not options.force:
            raise HeadlessError(f"{options.output} already exists; use --force to overwrite it")
        try:
            # Fail before a crawl that could take minutes, not after it.
            check_destination(options.output, force=options.force)
        except ExportError as exc:
            raise HeadlessError(str(exc)) from None
    if options.cached:
        return _export_cached(options)
    sources = open_sources(options)
    try:
        results = _crawl_all(sources, options)
        if options.policy_documents:
            for _, crawler, _ in results:  # after the crawl, so it is not slowed (2/s)
                crawler.fetch_policy_documents(policies_in(crawler.tree))
    finally:
        for source in sources:
            source.close()
    failures = [
        _failure(label, outcome, named=len(results) > 1)
        for label, _, outcome in results
        if outcome.state in (CrawlState.FAILED, CrawlState.CANCELLED)
    ]
    if not failures and len(results) == 1 and results[0][2].state is CrawlState.NOT_FOUND:
        raise HeadlessError(results[0][2].message)  # the few calls that prove it, and a hint
    crawled = [
        Crawled(label, crawler.tree, outcome.state in _FINISHED)
        for label, crawler, outcome in results
    ]
    if options.cache and not options.subtree:
        for item in crawled:
            _save_cache(item, details=options.details)
    if failures:
        raise HeadlessError("; ".join(failures))
    calls = sum(outcome.stats.total_calls for _, _, outcome in results)
    elapsed = max(outcome.stats.elapsed for _, _, outcome in results)
    return _write(options, crawled, summary=f"{calls} API calls, {elapsed:.1f}s")


_FINISHED = (CrawlState.COMPLETE, CrawlState.INCOMPLETE)


def _failure(label: str, outcome: CrawlOutcome, *, named: bool) -> str:
    message = outcome.message if outcome.state is CrawlState.FAILED else ""
    message = message or "the crawl was cancelled"
    return f"{label}: {message}" if named else message


def _crawl_all(sources: list[Source], options: Options) -> list[tuple[str, Crawler, CrawlOutcome]]:
    crawlers = [
        api.new_crawler(
            s, workers=options.workers, details=options.details, subtree=options.subtree
        )
        for s in sources
    ]
    progress = None
    listeners = []
    if not options.quiet and sys.stderr.isatty():
        progress = ProgressLine([c.tree for c in crawlers], sys.stderr)
        for i, crawler in enumerate(crawlers):
            listeners.append(progress.listener(i))
            crawler.publisher.subscribe(listeners[-1], topics.PROGRESS)
    outcomes: list[CrawlOutcome | None] = [None] * len(crawlers)
    errors: list[BaseException] = []

    def crawl(i: int) -> None:
        try:
            outcomes[i] = crawlers[i].run()
        except BaseException as exc:  # handed to the main thread, which raises it
            errors.append(exc)
            for crawler in crawlers:
                crawler.cancel()

    # The first crawl runs here; the others on their own threads (each runs its own loop).
    threads = [
        threading.Thread(target=crawl, args=(i,), name=f"orgtree-export-{i}", daemon=True)
        for i in range(1, len(crawlers))
    ]
    try:
        for thread in threads:
            thread.start()
        crawl(0)
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    except BaseException:
        for crawler in crawlers:
            crawler.cancel()
        raise
    finally:
        if progress is not None:
            progress.clear()
    return [
        (source.label, crawler, outcome)
        for source, crawler, outcome in zip(sources, crawlers, outcomes, strict=True)
        if outcome is not None  # always set once no crawl raised
    ]


def selection_of(options: Options) -> Selection | None:
    """`export --match/--type/--state/--tag` as one Selection (None: no filter)."""
    chosen = Selection(options.match, options.node_type, options.states, options.tags)
    return chosen if chosen else None


def _write(options: Options, crawled: list[Crawled], *, summary: str) -> int:
    parts: list[Part] = []
    selection = selection_of(options)
    for item in crawled:
        if options.subtree:
            node = item.tree.find(options.subtree)
            if node is None:
                continue  # with several organizations, a path may exist in some only
            root_id = node.id
        else:
            roots = item.tree.roots()
            if not roots:
                raise HeadlessError(f"{item.label}: the organization has no root")
            root_id = roots[0].id
        parts.append(Part(item.tree, root_id, item.finished, selection=selection))
    if not parts:
        where = "this organization" if len(crawled) == 1 else "any of the organizations"
        raise HeadlessError(f"no root, OU or account {options.subtree!r} in {where}")
    try:
        result = _export(options, parts, grouped=len(crawled) > 1)
    except ExportError as exc:
        raise HeadlessError(str(exc)) from None
    if not options.quiet:
        where = str(result.path) if result.path else "stdout"
        orgs = f" from {len(parts)} organizations" if len(crawled) > 1 else ""
        if result.matches is not None and selection is not None:
            orgs += f" ({plural(result.matches, 'match', 'matches')} of {selection.summary()})"
        sys.stderr.write(
            f"wrote {plural(result.ous, 'OU')} and {plural(result.accounts, 'account')}{orgs}"
            f" to {where}"
            f" ({result.format}, {summary})\n"
        )
    _warn_same_organization(crawled)
    if result.complete:
        return EXIT_OK
    # Said even with -q: a script must not take a partial export for the whole thing.
    if options.allow_incomplete:
        sys.stderr.write(f"{PROG}: warning: incomplete: {result.missing}\n")
        return EXIT_OK
    sys.stderr.write(f"{PROG}: incomplete: {result.missing}\n")
    return EXIT_INCOMPLETE


def _warn_same_organization(crawled: list[Crawled]) -> None:
    """Two profiles that reach one organization export it twice; say so."""
    seen: dict[str, str] = {}
    for item in crawled:
        org = item.tree.organization
        if org is None:
            continue
        if org.id in seen:
            sys.stderr.write(
                f"{PROG}: warning: {one_line(seen[org.id])} and {one_line(item.label)}"
                f" reach the same organization {org.id}; it is exported twice\n"
            )
        else:
            seen[org.id] = item.label


def _export(options: Options, parts: list[Part], *, grouped: bool) -> ExportResult:
    if options.policy is not None:
        if grouped:
            raise ExportError("--policy reads one organization: give one --profile")
        part = parts[0]
        return export_reach(
            part.tree, part.root_id, options.policy, options.format, options.output,
            force=options.force, complete=part.complete,
        )  # fmt: skip
    view = _view(options)
    if grouped:
        parts = [replace(p, documents=options.policy_documents) for p in parts]
        return export_grouped(parts, options.format, options.output, force=options.force, view=view)
    part = parts[0]
    return api.export_to(
        part.tree,
        options.output,
        options.format,
        subtree=part.root_id,
        force=options.force,
        complete=part.complete,
        documents=options.policy_documents,
        selection=part.selection,
        view=view,
    )


def _view(options: Options) -> View | None:
    """`--label` and `--policies`; None: each format as it always was."""
    if options.label is None and not options.policies:
        return None
    label = LabelTemplate.parse(options.label) if options.label is not None else None
    return View(label, policies=options.policies)


def _export_cached(options: Options) -> int:
    crawled: list[Crawled] = []
    ages: list[timedelta] = []
    for label in source_labels(options):
        try:
            cached = store.load_for_export(store.source_for(label, details=options.details))
        except store.CacheError as exc:
            raise HeadlessError(str(exc)) from None
        if not store.is_fresh(cached, options.cache_ttl):
            raise HeadlessError(
                f"the cached tree for {label} is {store.age_text(cached.age)} old, older than"
                " --cache-ttl; export without --cached to crawl again"
            )
        crawled.append(Crawled(label, cached.tree, store.ran_to_end(cached)))
        ages.append(cached.age)
    oldest = store.age_text(max(ages))
    return _write(options, crawled, summary=f"from the cache, crawled {oldest} ago")


def _save_cache(item: Crawled, *, details: bool) -> None:
    # The TUI's rule too: a stopped crawl's part of the tree never replaces a cached tree.
    try:
        api.save_tree(item.tree, item.label, finished=item.finished, details=details)
    except store.CacheError as exc:
        # The export itself is what was asked for; a cache that cannot be written is a note.
        sys.stderr.write(f"{PROG}: warning: {one_line(str(exc))}\n")
