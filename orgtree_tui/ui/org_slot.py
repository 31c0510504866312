"""One organization in the app: its session, the crawl on it, and what is on screen for it.

The app holds one slot per `--profile` (one for the default chain or the demo). A slot is
UI-thread state only: worker threads (crawl, identity, cache load) reach it through
messages carrying its generation. Generations are unique across slots, and each re-crawl
renews the slot's, so news from a replaced crawl or a replaced slot finds no slot. No
textual here: the controller that holds the slots is UI-free.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orgtree_tui.cache import store as cache
from orgtree_tui.crawl.crawler import Crawler, CrawlOutcome, CrawlState
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.identity import CallerIdentity
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts
from orgtree_tui.text import visible
from orgtree_tui.ui.news import NewsFeed
from orgtree_tui.ui.session import CrawlSession

BUSY = ("connecting", "loading cache", "refreshing", CrawlState.CRAWLING.value)


@dataclass(frozen=True, slots=True)
class StatusLine:
    state: str  # a CrawlState value, or "connecting"
    found: Counts
    stats: CrawlStats
    elapsed: float
    incomplete_branches: int = 0
    missing: str = ""  # the details a finished crawl lacks, in words (Gaps.summary)
    resumable: bool = False  # a stopped crawl that `r` carries on
    note: str = ""  # e.g. the age of the cached tree on screen
    name: str = ""  # which organization, when there are several


@dataclass(eq=False)
class OrgSlot:
    session: CrawlSession
    label: str  # profile, endpoint or "demo": known before connecting
    cache_source: str | None = None  # None: this slot neither reads nor writes the cache
    profile: str | None = None
    generation: int = 0  # given when the slot is made, renewed by each crawl after the first
    crawl_requested: bool = False
    crawler: Crawler | None = None
    bridge: NewsFeed | None = None
    state: str = "connecting"
    stats: CrawlStats = field(default_factory=CrawlStats)
    outcome: CrawlOutcome | None = None
    started: float = 0.0
    ended: float | None = None
    shown_cache: cache.CachedTree | None = None  # on screen while a refresh runs
    shown_is_cache: bool = True  # False: `shown_cache` is the previous crawl, kept for `r`
    cache_future: Future[cache.LoadResult] | None = None  # the cache being read early
    saved_generation: int = -1
    flagged: set[str] = field(default_factory=set)  # ids the last outcome labelled incomplete
    caller: CallerIdentity | None = None
    caller_checked: bool = False  # the identity lookup has answered (maybe with nothing)
    empty: OrgTree = field(default_factory=OrgTree)

    @property
    def tree(self) -> OrgTree:
        """What is on screen for this organization."""
        if self.shown_cache is not None:
            return self.shown_cache.tree
        if self.crawler is not None:
            return self.crawler.tree
        return self.empty

    @property
    def busy(self) -> bool:
        return self.state in BUSY

    @property
    def resumable(self) -> bool:
        return self.crawler is not None and self.crawler.resumable

    def crawling_state(self) -> str:
        return "refreshing" if self.shown_cache is not None else CrawlState.CRAWLING.value

    def cache_note(self) -> str:
        shown = self.shown_cache
        if shown is None:
            return ""
        partial_note = "" if shown.complete else ", partial"
        what = "cached" if self.shown_is_cache else "crawled"
        return f"{what} {cache.age_text(shown.age)} ago{partial_note}"

    def keep_on_screen(self, now: float) -> None:
        """Before crawling again: the finished crawl's tree stays on screen, like a cached
        one, until the new crawl replaces it with what changed marked."""
        crawler, outcome = self.crawler, self.outcome
        if self.shown_cache is not None or crawler is None or outcome is None:
            return
        if not len(crawler.tree):
            return
        age = max(0.0, now - self.ended) if self.ended is not None else 0.0
        self.shown_cache = cache.CachedTree(
            crawler.tree,
            complete=outcome.state is CrawlState.COMPLETE,
            crawled_at=datetime.now(UTC) - timedelta(seconds=age),
            source=self.cache_source or self.label,
            path=Path(),
        )
        self.shown_is_cache = False

    def status(
        self, now: float, *, named: bool, drawn: Callable[[str], Counts | None] | None = None
    ) -> StatusLine:
        """`drawn`: the counts the tree's line for a node shows. The root's are what the
        status line counts, so it says what the tree says (a second read of the model, which
        the crawl adds to meanwhile, said more than the tree drew; and under a refresh it
        counted the refresh's tree while the cached one was on screen: queue and calls say
        how far the refresh is)."""
        tree = self.tree
        roots = tree.roots() if drawn is not None else []
        shown = drawn(roots[0].id) if roots and drawn is not None else None
        found = Counts(shown.ous, shown.accounts) if shown is not None else tree.totals()
        end = self.ended if self.ended is not None else now
        outcome = self.outcome
        return StatusLine(
            state=self.state,
            found=found,
            stats=self.stats,
            elapsed=max(0.0, end - self.started),
            incomplete_branches=len(outcome.incomplete) if outcome else 0,
            missing=outcome.gaps.summary(details_only=True) if outcome else "",
            resumable=self.resumable,
            note=self.cache_note(),
            name=self.name if named else "",
        )

    @property
    def name(self) -> str:
        """How the status line and the root's label name this organization."""
        org = self.tree.organization
        return f"{org.id} ({self.label})" if org and self.label else (self.label or "?")


def combined_state(slots: list[OrgSlot]) -> str:
    """One word for all organizations: busy while any is, then the worst ending."""
    states = [s.state for s in slots]
    if len(states) == 1:
        return states[0]
    for word in ("connecting", "loading cache", "crawling", "refreshing"):
        if word in states:
            return "crawling" if word != "loading cache" else word
    for word in ("failed", "cancelled", "incomplete", "cached"):
        if word in states:
            return word
    return CrawlState.COMPLETE.value


def header_text(slots: list[OrgSlot]) -> str:
    """The header's subtitle: which organizations; for one, as whom, and how old the tree is."""
    if len(slots) > 1:
        return f"{len(slots)} organizations: " + ", ".join(s.name for s in slots)
    slot = slots[0]
    org = slot.tree.organization
    label = slot.label or (slot.shown_cache.source if slot.shown_cache else "")
    parts = [label]
    if org is not None:
        parts = [org.id, f"management {org.management_account_id}", label]
    if slot.caller is not None:
        # The account is the management account already shown; the principal is news.
        parts.append(f"as {slot.caller.principal}")
    parts.append(slot.cache_note())
    return visible(" · ".join(p for p in parts if p))
