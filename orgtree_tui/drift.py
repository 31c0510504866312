"""What changed in an organization between two sides (`drift_sides.Side`): the drift report.

Nodes are matched by id. A node is added or removed only when the side it is missing from
listed every branch; otherwise its absence is "not compared", never a removal. Tags and
policies are compared where both sides know them; each type of policy where both sides
carry it (format /1 carries SCPs only). A comparison with an incomplete side is `partial`:
what it found is real, what it could not compare is in `not_compared`.

UI-free and deterministic: changes come by kind (`KINDS`), then in the export order of the
side the node is in (the new side, the old one for removals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orgtree_tui.drift_sides import Item, Side, SideError
from orgtree_tui.text import visible
from orgtree_tui.wording import plural

KINDS = ("added", "removed", "moved", "renamed", "state", "tags", "policies")
DIFF_FORMAT = "orgtree-tui-diff/1"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # one of KINDS
    id: str
    type: str
    name: str  # the name now (before, for a removal)
    path: str  # likewise
    data: Mapping[str, Any] = field(default_factory=dict)  # the kind's before and after

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "path": self.path,
            **self.data,
        }


@dataclass(frozen=True, slots=True)
class Unknown:
    """Something that could not be compared, and why."""

    what: str  # "presence" (in one side, maybe in the other), "tags" or "policies"
    id: str
    name: str
    side: str  # "old" or "new": the side that lacks it
    reason: str  # "denied", "failed", "not fetched", or "not listed" (presence)
    policy_type: str = ""  # for "policies"

    def as_json(self) -> dict[str, Any]:
        out = {"what": self.what, "id": self.id, "name": self.name, "side": self.side}
        if self.policy_type:
            out["policy_type"] = self.policy_type
        return {**out, "reason": self.reason}


@dataclass(frozen=True)
class Drift:
    old: Side
    new: Side
    changes: tuple[Change, ...]
    not_compared: tuple[Unknown, ...] = ()
    notes: tuple[str, ...] = ()  # whole kinds left out (no details, a policy type in one side)

    @property
    def partial(self) -> bool:
        """A side is incomplete: what is missing from it was not compared."""
        return not (self.old.complete and self.new.complete)

    def counts(self) -> dict[str, int]:
        """Kind -> how many changes, for the kinds that occur, in KINDS order."""
        found = {kind: sum(1 for c in self.changes if c.kind == kind) for kind in KINDS}
        return {kind: n for kind, n in found.items() if n}

    def summary(self) -> str:
        """`1 added, 2 moved` or `no changes`."""
        said = [plural(n, *_COUNTED.get(kind, (kind, kind))) for kind, n in self.counts().items()]
        return ", ".join(said) or "no changes"


_COUNTED = {
    "state": ("state change", "state changes"),
    "tags": ("tag change", "tag changes"),
    "policies": ("policy change", "policy changes"),
}


def compare(old: Side, new: Side) -> Drift:
    """What changed from `old` to `new`. Raises SideError when they are not comparable: two
    organizations, or two different subtrees."""
    _check_comparable(old, new)
    found = _Found(old, new)
    for item in new.items.values():
        was = old.items.get(item.id)
        if was is None:
            found.only_in("added", item, new, missing_from=old)
        else:
            found.both(was, item)
    for item in old.items.values():
        if item.id not in new.items:
            found.only_in("removed", item, old, missing_from=new)
    return found.drift()


def _check_comparable(old: Side, new: Side) -> None:
    a, b = old.organization_id, new.organization_id
    if a and b and a != b:
        raise SideError(f"{visible(old.label)} is organization {a}, {visible(new.label)} is {b}")
    if old.top_id != new.top_id:
        raise SideError(
            f"{visible(old.label)} holds {_top(old)}, {visible(new.label)} holds {_top(new)}:"
            " compare exports of the same subtree"
        )


def _top(side: Side) -> str:
    item = side.items[side.top_id]
    return f"{visible(item.path)} ({item.id})"


class _Found:
    def __init__(self, old: Side, new: Side) -> None:
        self.old, self.new = old, new
        self.order = {i: n for n, i in enumerate(new.items)}
        self.old_order = {i: n for n, i in enumerate(old.items)}
        self.changes: list[tuple[tuple[int, int, str, str], Change]] = []
        self.unknown: list[tuple[tuple[int, int, str], Unknown]] = []
        self.notes: dict[str, None] = {}
        for side in (old, new):
            if not side.details:
                self.notes[
                    f"{visible(side.label)} has no tags or policies (a --no-details crawl):"
                    " they were not compared"
                ] = None

    def add(self, kind: str, item: Item, data: Mapping[str, Any], *, sub: str = "") -> None:
        order = self.old_order[item.id] if kind == "removed" else self.order[item.id]
        change = Change(kind, item.id, item.type, item.name, item.path, data)
        self.changes.append(((KINDS.index(kind), order, item.id, sub), change))

    def cannot(self, what: str, item: Item, side: Side, reason: str, policy_type: str = "") -> None:
        name = "old" if side is self.old else "new"
        # Nodes of the new side in its order, then those only in the old side in theirs.
        order = (
            self.order[item.id]
            if item.id in self.order
            else len(self.order) + self.old_order[item.id]
        )
        key = (("presence", "tags", "policies").index(what), order, name + policy_type)
        self.unknown.append((key, Unknown(what, item.id, item.name, name, reason, policy_type)))

    def only_in(self, kind: str, item: Item, side: Side, *, missing_from: Side) -> None:
        if not missing_from.structure_known:
            self.cannot("presence", item, missing_from, "not listed")
            return
        self.add(kind, item, {"parent_id": item.parent_id})

    def both(self, was: Item, now: Item) -> None:
        if was.parent_id != now.parent_id:
            self.add(
                "moved",
                now,
                {
                    "before": {"parent_id": was.parent_id, "path": was.path},
                    "after": {"parent_id": now.parent_id, "path": now.path},
                },
            )
        if was.name != now.name:
            self.add("renamed", now, {"before": was.name, "after": now.name})
        if was.state is not None and now.state is not None and was.state != now.state:
            self.add("state", now, {"before": was.state, "after": now.state})
        self._tags(was, now)
        for policy_type in sorted({*was.policies, *now.policies}):
            self._policies(was, now, policy_type)

    def _tags(self, was: Item, now: Item) -> None:
        if not (self.old.details and self.new.details):
            return  # said once in the notes
        if was.tags is None or now.tags is None:
            for side, item in ((self.old, was), (self.new, now)):
                if item.tags is None:
                    self.cannot("tags", item, side, _reason(side.gaps.tags, item.id))
            return
        keys = sorted({*was.tags, *now.tags})
        changed = [
            {"key": k, "before": was.tags.get(k), "after": now.tags.get(k)}
            for k in keys
            if was.tags.get(k) != now.tags.get(k)
        ]
        if changed:
            self.add("tags", now, {"tags": changed})

    def _policies(self, was: Item, now: Item, policy_type: str) -> None:
        if not (self.old.details and self.new.details):
            return
        before = self._attached(self.old, was, policy_type)
        after = self._attached(self.new, now, policy_type)
        if before is _NOT_CARRIED or after is _NOT_CARRIED:
            lacking = self.old if before is _NOT_CARRIED else self.new
            self.notes[
                f"{policy_type}: {visible(lacking.label)} ({lacking.format}) does not carry them;"
                " they were not compared"
            ] = None
            return
        if before is None or after is None:
            for side, item, value in ((self.old, was, before), (self.new, now, after)):
                if value is None:
                    reason = _reason(side.gaps.policies, item.id)
                    self.cannot("policies", item, side, reason, policy_type)
            return
        assert isinstance(before, Mapping) and isinstance(after, Mapping)
        # A policy whose targets a side could not all list may be attached where that side
        # does not show it: its absence there is not a detach (or an attach).
        unsure_old, unsure_new = self.old.gaps.policy_targets, self.new.gaps.policy_targets
        added = {i: n for i, n in after.items() if i not in before}
        gone = {i: n for i, n in before.items() if i not in after}
        for side, item, unsure, ids in (
            (self.old, was, unsure_old, added),
            (self.new, now, unsure_new, gone),
        ):
            doubtful = sorted(i for i in ids if i in unsure)
            if doubtful:
                self.cannot("policies", item, side, str(unsure[doubtful[0]]), policy_type)
            for i in doubtful:
                del ids[i]
        attached, detached = _policy_list(added), _policy_list(gone)
        if attached or detached:
            self.add(
                "policies",
                now,
                {"policy_type": policy_type, "attached": attached, "detached": detached},
                sub=policy_type,
            )

    @staticmethod
    def _attached(side: Side, item: Item, policy_type: str) -> Mapping[str, str] | object | None:
        if policy_type in item.policies:
            return item.policies[policy_type]
        if side.enabled_types is not None and policy_type not in side.enabled_types:
            return {}  # the type is not enabled there: nothing of it is attached
        return _NOT_CARRIED

    def drift(self) -> Drift:
        return Drift(
            self.old,
            self.new,
            tuple(c for _, c in sorted(self.changes, key=lambda kc: kc[0])),
            tuple(u for _, u in sorted(self.unknown, key=lambda ku: ku[0])),
            tuple(self.notes),
        )


_NOT_CARRIED = object()


def _reason(gaps: Mapping[str, object], node_id: str) -> str:
    return str(gaps.get(node_id, "not fetched"))


def _policy_list(policies: Mapping[str, str]) -> list[dict[str, str]]:
    ordered = sorted(policies.items(), key=lambda p: (p[1].casefold(), p[0]))
    return [{"id": i, "name": n} for i, n in ordered]
