"""The export's one progress line on an interactive stderr, summed over every organization."""

from __future__ import annotations

import threading
from typing import TextIO

from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.model import OrgTree


class ProgressLine:
    """A single self-overwriting progress line on an interactive stderr, summed over every
    organization being crawled."""

    def __init__(self, trees: list[OrgTree], stream: TextIO) -> None:
        self.trees = trees
        self.stream = stream
        self._stats: dict[int, CrawlStats] = {}
        self._lock = threading.Lock()

    def listener(self, index: int) -> _Listener:
        return _Listener(self, index)

    def on_progress(self, stats: CrawlStats, index: int = 0) -> None:
        with self._lock:
            self._stats[index] = stats
            every = list(self._stats.values())
            ous = sum(t.totals().ous for t in self.trees)
            accounts = sum(t.totals().accounts for t in self.trees)
            orgs = f"{len(self.trees)} orgs: " if len(self.trees) > 1 else ""
            self.stream.write(
                f"\rcrawling {orgs}{ous} OUs, {accounts} accounts | "
                f"queue {sum(s.queued for s in every)}, "
                f"in flight {sum(s.in_flight for s in every)}, "
                f"calls {sum(s.total_calls for s in every)}, "
                f"throttled {sum(s.total_throttled for s in every)} | "
                f"{max(s.elapsed for s in every):5.1f}s "
            )
            self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class _Listener:
    # pypubsub holds listeners weakly and checks their signature: a bound method of a
    # strongly held object, taking exactly the topic's arguments.
    def __init__(self, line: ProgressLine, index: int) -> None:
        self.line, self.index = line, index

    def __call__(self, stats: CrawlStats) -> None:
        self.line.on_progress(stats, self.index)
