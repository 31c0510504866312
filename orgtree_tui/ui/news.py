"""What a crawl's bridge hands the UI at each drain, and the little the controller needs of a
bridge. No textual here: the controller holds bridges through `NewsFeed` alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from orgtree_tui.records import Node, Organization


@dataclass
class CrawlNews:
    """Everything that arrived since the last drain."""

    nodes: list[Node] = field(default_factory=list)
    details: set[str] = field(default_factory=set)  # ids whose tags or policies changed
    incomplete: set[str] = field(default_factory=set)  # ids whose marks changed: a listing
    # failed, or tags or SCPs were refused or failed
    organization: Organization | None = None

    def __bool__(self) -> bool:
        return bool(self.nodes or self.details or self.incomplete or self.organization)


class NewsFeed(Protocol):
    """A crawl's news, buffered until the UI drains it (ui/bridge.py's CrawlBridge)."""

    def drain(self) -> CrawlNews: ...

    def close(self) -> None: ...


class Fed(Protocol):
    """What `gather` needs of an organization's slot (ui/org_slot.py's OrgSlot)."""

    @property
    def bridge(self) -> NewsFeed | None: ...

    @property
    def shown_cache(self) -> object: ...


def gather(slots: Iterable[Fed]) -> tuple[CrawlNews, bool]:
    """Every slot's feed drained; the news merged of those whose tree is drawn: a refresh
    behind a cached tree is not (its tree replaces the cached one when it is complete).
    The bool: whether any feed, drawn or not, brought its organization."""
    merged, organization = CrawlNews(), False
    for slot in slots:
        if slot.bridge is None:
            continue
        news = slot.bridge.drain()
        organization = organization or news.organization is not None
        if slot.shown_cache is None:
            merged.nodes.extend(news.nodes)
            merged.details |= news.details
            merged.incomplete |= news.incomplete
    return merged, organization
