"""When the crawl's news is drawn: spaced out as the tree grows, held back while keys come.

UI-free: every decision is on the injected frame clock (tests step it by hand); the screen's
timers only bring the next look.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable

from orgtree_tui.ui.collector import CollectorHold

DRAIN_INTERVAL = 0.05  # at most 20 tree updates a second, however fast the crawl
MAX_DRAIN_INTERVAL = 0.25
BIG_TREE = 20_000  # nodes from which drains are spaced out the most
FREEZE_FROM = 10_000  # nodes
FREEZE_STEP = 1.1  # the tree grew by a tenth since the last freeze
KEY_PAUSE = 0.15  # seconds without a key before news from the crawl is drawn
KEYS_HOLD_DRAINS_FOR = 1.0  # at most, when no key's frame brought the drain before


class DrainPacer:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.last_drain = -math.inf  # clock() at the last drain and the last key
        self.last_key = -math.inf
        self.cost = 0.0  # how long the last drain took
        self._next_freeze = FREEZE_FROM
        self.collector = CollectorHold()  # held from a key to its frame, as news is

    def key_pressed(self) -> None:
        self.last_key = self.clock()

    def interval(self, size: int) -> float:
        # Each drain costs a frame, and a frame of a big tree costs 20-70 ms: a big org
        # is drained less often (down to 4 a second at 20,000 nodes), so keys pressed
        # meanwhile do not queue behind one repaint after another.
        size_share = min(1.0, size / BIG_TREE)
        interval = DRAIN_INTERVAL + (MAX_DRAIN_INTERVAL - DRAIN_INTERVAL) * size_share
        return max(interval, 3 * self.cost)

    def wait(self, size: int) -> float:
        """Seconds until a drain may run (<= 0: now). The interval since the last drain must
        have passed and no key come just now: a drain right after a key would hold up that
        key's repaint. While someone is walking the tree or typing, drains wait for a pause
        in the keys or for the frame of the next key (`due_after_key`), never more than
        KEYS_HOLD_DRAINS_FOR after the last drain."""
        now = self.clock()
        since_drain = now - self.last_drain
        wait = self.interval(size) - since_drain
        if wait <= 0 and now - self.last_key < KEY_PAUSE:
            wait = min(KEY_PAUSE - (now - self.last_key), KEYS_HOLD_DRAINS_FOR - since_drain)
        return wait

    def due_after_key(self, size: int) -> bool:
        """A key's effect was just drawn: True when a drain is due (its interval passed).
        Run then, the drain has the whole gap before the next key; held for a pause in the
        keys instead, it lands as often as not between the next key and its frame (typing
        at six keys a second leaves gaps about as long as the pause: a filter keystroke's
        frame was late by a whole drain, ui_bench's p95 81 ms)."""
        since_drain = self.clock() - self.last_drain
        return since_drain >= self.interval(size)

    def drain_started(self) -> None:
        self.last_drain = self.clock()

    def drain_ended(self) -> None:
        self.cost = self.clock() - self.last_drain

    def settle_memory(self, size: int) -> None:
        """Each time the tree grows by a tenth past 10,000 nodes, move what exists to the
        garbage collector's permanent generation: the model is long-lived, and a full
        collection walks whatever is not frozen. Frozen at each doubling only, up to half
        of a 50,000-node tree was walked again and again: 30-80 ms collections landed in
        one filter keystroke in four of ui_bench's slowest (freezing is a list splice)."""
        if size >= self._next_freeze:
            gc.freeze()
            self._next_freeze = int(size * FREEZE_STEP) + 1
