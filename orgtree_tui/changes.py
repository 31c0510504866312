"""What a refresh crawl changed compared with the cached tree: added, removed, moved, renamed.

UI-free: the app highlights `Changes.highlight` and shows `summary()` in a notification.
Only dict lookups over two snapshots, so 50,000 nodes cost milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from orgtree_tui.tree_view import TreeView


@dataclass(frozen=True, slots=True)
class Changes:
    added: tuple[str, ...] = ()  # in the new tree only
    removed: tuple[str, ...] = ()  # in the old tree only
    moved: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)
    renamed: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.moved or self.renamed)

    @property
    def highlight(self) -> frozenset[str]:
        """Ids to mark in the new tree (removed nodes are no longer there to mark)."""
        return frozenset(self.added).union(self.moved, self.renamed)

    def marks(self) -> dict[str, str]:
        """Id -> the word its label gets: "new", "moved", or "renamed" (a node both moved
        and renamed says "moved": where it is now is what a reader looks for)."""
        found = dict.fromkeys(self.added, "new")
        found.update(dict.fromkeys(self.moved, "moved"))
        found.update({i: "renamed" for i in self.renamed if i not in found})
        return found

    def summary(self) -> str:
        """One line, e.g. `3 added, 1 removed, 2 moved, 1 renamed`; parts at zero are left out."""
        counts = (
            (len(self.added), "added"),
            (len(self.removed), "removed"),
            (len(self.moved), "moved"),
            (len(self.renamed), "renamed"),
        )
        return ", ".join(f"{n:,} {what}" for n, what in counts if n) or "no changes"


def diff(old: TreeView, new: TreeView) -> Changes:
    """Nodes are matched by id; a node can be both moved and renamed. `added` and `removed`
    come sorted."""
    # One locked copy of each tree, so a crawl still writing cannot skew the comparison.
    before = {n.id: n for n in old.nodes()}
    after = {n.id: n for n in new.nodes()}
    added: list[str] = []
    moved: dict[str, tuple[str | None, str | None]] = {}
    renamed: dict[str, tuple[str, str]] = {}
    for node_id, now in after.items():
        was = before.get(node_id)
        if was is None:
            added.append(node_id)
            continue
        if was.parent_id != now.parent_id:
            moved[node_id] = (was.parent_id, now.parent_id)
        if was.name != now.name:
            renamed[node_id] = (was.name, now.name)
    return Changes(
        added=tuple(sorted(added)),
        removed=tuple(sorted(before.keys() - after.keys())),
        moved=moved,
        renamed=renamed,
    )


def refresh_changes(old: TreeView, new: TreeView) -> Changes:
    """`diff`, except that nodes under a branch the new crawl could not list are unknown,
    not removed."""
    changes = diff(old, new)
    broken = set(new.incomplete())
    if not broken or not changes.removed:
        return changes
    removed = tuple(
        i
        for i in changes.removed
        if i not in broken and not any(a.id in broken for a in old.ancestors(i))
    )
    return replace(changes, removed=removed)
