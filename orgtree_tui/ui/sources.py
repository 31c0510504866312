"""What the app is told to crawl: one `OrgSource` per organization."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.source import Source


@dataclass(frozen=True)
class OrgSource:
    open: Callable[[], Source]  # called on a worker thread: may block on the network
    label: str = ""  # what names it before it is open (profile, endpoint, demo)
    cache_source: str | None = None  # the cache key; None: no cache for this one
    options: CrawlOptions = field(default_factory=CrawlOptions)
    profile: str | None = None  # the AWS profile it uses, if one was named
