"""Filtered exports: which nodes of a snapshot a selection keeps, and the pruned snapshot.

A node *matches* when it passes every criterion given (AND): `match` is the TUI's `/`
filter itself (`orgtree_tui.filtering`: name, id, email or a tag value holds the text,
case-insensitive), `node_type` its type, `states` an account's state (OUs and roots have
none, so they never match a state), and every `tags` pair is one of its tags (`KEY=VALUE`:
that value exactly; `KEY` alone: the key with any value; keys and values are
case-sensitive, as AWS compares them). What is kept is the matches and their ancestors up
to the subtree's top node, which always stays so the document has a tree; an OU with no
match below it (and no match itself) is dropped.

Kept entries keep their details; `children` and `accounts_below` are recounted over what is
kept, so every count in the output describes the output. Gaps that could hide a match are
kept even for nodes that were pruned: a branch that could not be listed, and missing tags
when a criterion reads tags (`match`, `tags`). A tag filter never takes "tags unknown" for
"no such tag": such a node is a gap, and the export is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.filtering import FilterIndex
from orgtree_tui.gaps import MISSING_DETAIL, Gaps, Missing
from orgtree_tui.records import DetailState, NodeType
from orgtree_tui.text import visible

TYPES = {"account": NodeType.ACCOUNT, "ou": NodeType.ORGANIZATIONAL_UNIT}

TagTest = tuple[str, str | None]  # (key, value); None: any value


@dataclass(frozen=True)
class Selection:
    """What a filtered export keeps (see the module's docstring). Empty: everything."""

    match: str | None = None
    node_type: str | None = None  # a key of TYPES
    states: tuple[str, ...] = ()
    tags: tuple[TagTest, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.match or self.node_type or self.states or self.tags)

    @property
    def reads_tags(self) -> bool:
        return bool(self.match or self.tags)

    def as_json(self, matches: int) -> dict[str, Any]:
        """The export's "filter" object: every criterion (null or [] when not given) and
        how many nodes matched them (the ancestors kept to reach them are not counted)."""
        return {
            "match": self.match,
            "type": self.node_type,
            "state": list(self.states),
            "tag": [k if v is None else f"{k}={v}" for k, v in self.tags],
            "matches": matches,
        }

    def summary(self) -> str:
        """One line for people: `--match prod --state SUSPENDED`."""
        said = [f"--match {visible(repr(self.match))}"] if self.match else []
        said += [f"--type {self.node_type}"] if self.node_type else []
        said += [f"--state {','.join(self.states)}"] if self.states else []
        said += [f"--tag {visible(k if v is None else f'{k}={v}')}" for k, v in self.tags]
        return " ".join(said)


def parse_tag(text: str) -> TagTest:
    """`KEY=VALUE` (split at the first `=`) or `KEY`; raises ValueError for an empty key."""
    key, eq, value = text.partition("=")
    if not key:
        raise ValueError(f"expected KEY=VALUE or KEY, got {text!r}")
    return (key, value if eq else None)


def matching(snap: Snapshot, selection: Selection) -> list[str]:
    """The ids in the snapshot that pass every criterion, in export order."""
    found = [e.node.id for e in snap if _passes(e, selection)]
    if selection.match:
        by_text = _text_matches(snap, selection.match)
        found = [i for i in found if i in by_text]
    return found


def narrow(snap: Snapshot, selection: Selection | None) -> Snapshot:
    """The snapshot pruned to the matches and their ancestors; its `filter` says by what
    and how many matched. No selection (or an empty one): the snapshot as it is. Every
    export format renders from a snapshot, so filtering it filters all of them."""
    if not selection:
        return snap
    matched = matching(snap, selection)
    keep = {snap.root_id}
    for node_id in matched:
        current: str | None = node_id
        while current is not None and current not in keep:
            keep.add(current)
            current = snap.entries[current].node.parent_id
    kept = [e for e in snap if e.node.id in keep]  # export order stays
    below: dict[str, int] = {}
    entries: dict[str, Entry] = {}
    for entry in reversed(kept):  # children before their parents
        children = tuple(c for c in entry.children if c in keep)
        below[entry.node.id] = sum(
            below[c] + (snap.entries[c].node.type is NodeType.ACCOUNT) for c in children
        )
        entries[entry.node.id] = replace(
            entry, children=children, accounts_below=below[entry.node.id]
        )
    ordered = {e.node.id: entries[e.node.id] for e in kept}
    return replace(
        snap,
        entries=ordered,
        gaps=_gaps(snap, selection, keep),
        filter=selection.as_json(len(matched)),
    )


def _passes(entry: Entry, selection: Selection) -> bool:
    node = entry.node
    if selection.node_type and node.type is not TYPES[selection.node_type]:
        return False
    if selection.states and node.state not in selection.states:
        return False
    if selection.tags:
        tags = entry.details.tags if entry.details.tags_state is DetailState.LOADED else None
        if tags is None:
            return False  # unknown, not "no": it is reported as a gap (_gaps)
        for key, value in selection.tags:
            if key not in tags or (value is not None and tags[key] != value):
                return False
    return True


def _text_matches(snap: Snapshot, text: str) -> frozenset[str]:
    """The TUI filter's own index and query over the snapshot: the same rule, one code."""
    index = FilterIndex()
    for entry in snap:
        node = entry.node
        if node.id == snap.root_id:
            node = replace(node, parent_id=None)  # the index walks up to a root
        loaded = entry.details.tags_state is DetailState.LOADED
        index.add(node, (entry.details.tags or {}) if loaded else None)
    return index.query(text).ids


def _gaps(snap: Snapshot, selection: Selection, keep: set[str]) -> Gaps:
    gaps = snap.gaps
    tags = dict(gaps.tags) if selection.reads_tags else {}
    if selection.tags:  # wanted or not, a tag test cannot pass on tags it does not have
        for entry in snap:
            why = MISSING_DETAIL.get(entry.details.tags_state, Missing.NOT_FETCHED)
            if entry.details.tags_state is not DetailState.LOADED:
                tags.setdefault(entry.node.id, why)
    tags.update((i, r) for i, r in gaps.tags.items() if i in keep)
    order = {i: n for n, i in enumerate(snap.entries)}
    return replace(
        gaps,
        tags=dict(sorted(tags.items(), key=lambda item: order[item[0]])),
        policies={i: r for i, r in gaps.policies.items() if i in keep},
    )
