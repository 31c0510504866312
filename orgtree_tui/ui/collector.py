"""The garbage collector held off from a key until the frame that shows the key's effect.

A full collection of what a 50,000-node organization leaves unfrozen costs 10-90 ms, and
Python starts one wherever the allocations happen to cross its thresholds: in ui_bench, in
a filter keystroke's pass or its repaint as often as anywhere (one in five of the slowest
filter keys). Held from the key to its frame, the collection runs right after the frame,
in the pause before the next key. Never held for more than HOLD_AT_MOST (a key whose
effect is not drawn, or comes late), and never turned on if something else turned it off.

UI-free: the app says when a key came, when its frame was drawn, and when HOLD_AT_MOST
has passed (a timer).
"""

from __future__ import annotations

import gc

HOLD_AT_MOST = 0.3  # seconds from the key that held it


class CollectorHold:
    def __init__(self) -> None:
        self.held = False  # True: this turned the collector off

    def hold(self) -> bool:
        """A key came: no collection until `release`. True when this turned it off now
        (the caller then makes sure `release` comes within HOLD_AT_MOST)."""
        if self.held or not gc.isenabled():
            return False
        gc.disable()
        self.held = True
        return True

    def release(self) -> None:
        """The key's frame was drawn, HOLD_AT_MOST passed, or the app is closing."""
        if self.held:
            self.held = False
            gc.enable()
