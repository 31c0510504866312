"""The nodes the user can see get their details before those off screen.

Twice a second, what is on screen is compared with what was last asked for; only a change
reaches the crawl, which raises the queued tasks of those nodes (no extra API call) while
the cursor's node keeps jumping the queue on its own.
"""

from __future__ import annotations

from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.ui.controller import OrgController
from orgtree_tui.ui.widgets.fast_tree import FastTree

INTERVAL = 0.5  # seconds between looks at what is on screen


class OnScreenDetails:
    def __init__(self, tree: FastTree, controller: OrgController) -> None:
        self.tree = tree
        self.controller = controller
        self._asked: tuple[str, ...] = ()

    def tick(self) -> None:
        shown = tuple(self.tree.ids_on_screen())
        if shown == self._asked:
            return
        self._asked = shown
        by_crawler: dict[Crawler, list[str]] = {}
        for node_id in shown:
            crawler = self.controller.crawler_of(node_id)
            if crawler is not None:
                by_crawler.setdefault(crawler, []).append(node_id)
        for crawler, ids in by_crawler.items():
            crawler.prioritise_on_screen(ids)  # only queues: never blocks on AWS
