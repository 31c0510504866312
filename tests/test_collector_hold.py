"""The collector held from a key to its frame: off while held, on again after, and never
turned on when something else had turned it off."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from orgtree_tui.ui.collector import CollectorHold


@pytest.fixture(autouse=True)
def collector_back_on() -> Iterator[None]:
    yield
    gc.enable()


def test_held_from_the_key_until_released() -> None:
    hold = CollectorHold()
    assert hold.hold() == 1
    assert not gc.isenabled()
    assert hold.hold() is None  # a second key while held: one release is enough
    assert not gc.isenabled()
    hold.release()
    assert gc.isenabled()
    hold.release()  # the timer's release after the frame's: nothing more
    assert gc.isenabled()


def test_never_turns_on_a_collector_something_else_turned_off() -> None:
    gc.disable()
    hold = CollectorHold()
    assert hold.hold() is None
    hold.release()
    assert not gc.isenabled()


def test_a_timer_releases_only_the_hold_it_was_set_for() -> None:
    hold = CollectorHold()
    first = hold.hold()
    hold.release()  # the first key's frame
    second = hold.hold()
    assert first is not None and second is not None and first != second
    hold.release(first)  # the first key's timer, late: the second key's frame is not drawn
    assert not gc.isenabled()
    hold.release(second)
    assert gc.isenabled()


def test_the_crawls_threads_wait_while_a_key_is_held() -> None:
    hold = CollectorHold()
    assert hold.is_open
    number = hold.hold()
    assert not hold.is_open  # a crawl thread calling wait_open now waits (at most 0.3 s)
    hold.release(number)
    assert hold.is_open
    hold.wait_open()  # open: returns at once
