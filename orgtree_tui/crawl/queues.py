"""`TaskQueues`: which task goes out next, for the task loop.

One priority heap per API operation (a task with alternatives sits in the heap of each call
it offers, so whichever bucket has a token first can take it), the tasks waiting out a
backoff, by when they fall due. A new task whose key the loop's index already holds is not
queued again. Not locked: the `TaskLoop` calls it under its condition.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterator

from orgtree_tui.crawl.task import Task


class TaskQueues:
    def __init__(self, keys: dict[Hashable, Task]) -> None:
        self._heaps: dict[str, list[tuple[int, int, Task]]] = {}
        self._delayed: list[tuple[float, int, Task]] = []
        self._seq = itertools.count()
        self._keys = keys  # the loop's key index: `add` fills it, the loop forgets from it
        # Calls refused (AccessDenied) for a task that had another way: later tasks skip them.
        self.refused: set[str] = set()

    def add(self, task: Task) -> bool | None:
        """Queue a new task: True. A task whose key is already known is not queued again:
        False when that one was still waiting and now has the new, higher priority; None
        when nothing changed (it is running, done, or already as urgent)."""
        if task.key is not None:
            known = self._keys.get(task.key)
            if known is not None:
                if known.state in ("queued", "waiting") and task.priority < known.priority:
                    # A task waiting out a backoff keeps the raise for when it is due.
                    known.priority = task.priority
                    if known.state == "queued":
                        self.push(known)
                    return False
                return None
            self._keys[task.key] = task
        task.seq = next(self._seq)  # first come first among equal priorities
        self.push(task)
        return True

    def push(self, task: Task) -> None:
        """Queue the task (again) under its current priority."""
        if len(task.choices) > 1 and self.refused:
            kept = tuple(c for c in task.choices if c[0] not in self.refused)
            if kept and len(kept) < len(task.choices):
                task.choices = kept
                task.operation, task.params = kept[0]
        task.state = "queued"
        entry = (task.priority, task.seq, task)
        for operation, _ in task.choices:
            heapq.heappush(self._heaps.setdefault(operation, []), entry)

    def delay(self, task: Task, until: float) -> None:
        """Hold the task back until the clock reads `until` (a retry's backoff)."""
        task.state = "waiting"
        heapq.heappush(self._delayed, (until, task.seq, task))

    def promote_due(self, now: float) -> None:
        while self._delayed and self._delayed[0][0] <= now:
            _, _, task = heapq.heappop(self._delayed)
            self.push(task)

    def next_due(self) -> float | None:
        """When the first delayed task falls due, if any is waiting."""
        return self._delayed[0][0] if self._delayed else None

    def operations(self) -> list[str]:
        return list(self._heaps)

    def head(self, operation: str) -> Task | None:
        """The most urgent task this operation could send now."""
        queue = self._heaps.get(operation)
        while queue:
            priority, _, task = queue[0]
            if task.state == "queued" and priority == task.priority and task.offers(operation):
                return task
            heapq.heappop(queue)  # stale entry: reprioritised or already taken
        return None

    def waiting(self) -> Iterator[Task]:
        """Every task queued or delayed (a task with alternatives may come more than once)."""
        for queue in self._heaps.values():
            for _, _, task in queue:
                if task.state == "queued":
                    yield task
        for _, _, task in self._delayed:
            yield task
