"""The drain pacer's memory settling: a growing tree is frozen for the garbage collector
each time it grows by a tenth past 10,000 nodes (full collections then walk only what came
since, not half of a 50,000-node tree)."""

from __future__ import annotations

import gc

import pytest

from orgtree_tui.ui.pacing import DrainPacer


def test_the_tree_is_frozen_each_time_it_grows_by_a_tenth(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_at: list[int] = []
    size = 0
    monkeypatch.setattr(gc, "freeze", lambda: frozen_at.append(size))
    pacer = DrainPacer(lambda: 0.0)
    for size in range(0, 15_001, 500):  # drains, each with 500 more nodes
        pacer.settle_memory(size)
    # 10,000 first; then the first size past each tenth: 11,001 -> 11,500, 12,651 -> 13,000,
    # 14,301 -> 14,500.
    assert frozen_at == [10_000, 11_500, 13_000, 14_500]
