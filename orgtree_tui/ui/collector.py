"""The garbage collector, and the crawl's threads, held off from a key until the frame
that shows the key's effect.

A full collection of what a 50,000-node organization leaves unfrozen costs 10-90 ms, and
Python starts one wherever the allocations happen to cross its thresholds: in ui_bench, in
a filter keystroke's pass or its repaint as often as anywhere (one in five of the slowest
filter keys). Held from the key to its frame, the collection runs right after the frame,
in the pause before the next key. Never held for more than HOLD_AT_MOST (a key whose
effect is not drawn, or comes late), and not held when something else has it off already.

The crawl's threads (`wait_open`, the task loop's `yield_to`) wait before their next call or
result for the same span: while a big org streams, they held the GIL for a quarter of the
UI thread's time (its filter passes took 1.24x their CPU time, 1.02x after the crawl).

UI-free: the app says when a key came, when its frame was drawn, and when HOLD_AT_MOST
has passed (a timer).
"""

from __future__ import annotations

import gc
import threading

HOLD_AT_MOST = 0.3  # seconds from the key that held it


class CollectorHold:
    def __init__(self) -> None:
        self.held = False  # True: this turned the collector off
        self._holds = 0  # which hold is current: a timer releases only its own
        self._open = threading.Event()  # clear while held: the crawl's threads wait
        self._open.set()

    def hold(self) -> int | None:
        """A key came: no collection until `release`. The hold's number when this turned
        it off now (the caller then makes sure `release(number)` comes within
        HOLD_AT_MOST); None when it was off already."""
        if self.held or not gc.isenabled():
            return None
        gc.disable()
        self.held = True
        self._holds += 1
        self._open.clear()
        return self._holds

    def release(self, hold: int | None = None) -> None:
        """The key's frame was drawn, or the app is closing (no number: whichever hold is
        current), or HOLD_AT_MOST passed since hold number `hold` (that one only: a later
        key's hold waits for its own frame). Turns the collector on even if something else
        turned it off meanwhile (the cache's load pauses it too): that load then runs
        with it on, slower, never wrong."""
        if self.held and hold in (None, self._holds):
            self.held = False
            gc.enable()
            self._open.set()

    def wait_open(self) -> None:
        """For the crawl's threads: return once no key is held (at most HOLD_AT_MOST)."""
        self._open.wait(HOLD_AT_MOST)

    @property
    def is_open(self) -> bool:
        return self._open.is_set()
