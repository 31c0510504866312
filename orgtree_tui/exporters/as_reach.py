"""`export --policy NAME_OR_ID`: the reach of one policy, the nodes it applies to, attached
there directly or inherited from an ancestor (computed from the tree, no calls).

JSON: `{"format", "policy": {"id", "name", "type", "aws_managed"}, "complete",
"attached_to": [ids], "applies_to": [{"id", "type", "name", "path", "from": [ids]}],
"accounts": n}` where `from` lists the nodes on the way down from the root (the node itself
included) that attach the policy. text: one line per node, `path (id)` and where from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from orgtree_tui.exporters.policies_json import Chains
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.records import NodeType, Policy
from orgtree_tui.text import visible

FORMAT_TAG = "orgtree-tui/2"
FORMATS = ("json", "text")


class PolicyNotFoundError(ValueError):
    """No policy, or several, answer to the name or id; str(e) says which."""


@dataclass(frozen=True, slots=True)
class Reach:
    policy: Policy
    attached_to: tuple[str, ...]
    applies_to: tuple[tuple[Entry, tuple[str, ...]], ...]  # (node, ids attaching it above)


def find(snap: Snapshot, ref: str) -> Policy:
    """The policy whose id is `ref`, or the only one named `ref`."""
    every = {
        p.id: p
        for entry in snap
        for found in entry.details.by_type.values()
        for p in found.policies or ()
    }
    if ref in every:
        return every[ref]
    named = sorted((p for p in every.values() if p.name == ref), key=lambda p: p.id)
    if len(named) == 1:
        return named[0]
    if not named:
        raise PolicyNotFoundError(f"no policy with the id or name {visible(repr(ref))}")
    ids = ", ".join(p.id for p in named)
    raise PolicyNotFoundError(
        f"several policies are named {visible(repr(ref))} ({ids}): give the id"
    )


def reach(snap: Snapshot, policy: Policy) -> Reach:
    chains = Chains(snap)

    def attaches(node_id: str) -> bool:
        found = chains.details[node_id].by_type.get(policy.type)
        return found is not None and policy in (found.policies or ())

    attached = tuple(e.node.id for e in snap if attaches(e.node.id))
    applies: list[tuple[Entry, tuple[str, ...]]] = []
    for entry in snap:
        sources = tuple(i for i in chains.paths[entry.node.id] if attaches(i))
        if sources:
            applies.append((entry, sources))
    return Reach(policy, attached, tuple(applies))


def render_json(snap: Snapshot, found: Reach) -> str:
    p = found.policy
    document: dict[str, Any] = {
        "format": FORMAT_TAG,
        "policy": {"id": p.id, "name": p.name, "type": p.type, "aws_managed": p.aws_managed},
        "complete": snap.complete,
        "attached_to": list(found.attached_to),
        "applies_to": [
            {
                "id": e.node.id,
                "type": e.node.type.value,
                "name": e.node.name,
                "path": e.path,
                "from": list(sources),
            }
            for e, sources in found.applies_to
        ],
        "accounts": sum(1 for e, _ in found.applies_to if e.node.type is NodeType.ACCOUNT),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_text(snap: Snapshot, found: Reach) -> str:
    p = found.policy
    accounts = sum(1 for e, _ in found.applies_to if e.node.type is NodeType.ACCOUNT)
    lines = [f"# {visible(p.name)} ({p.id}, {p.type}): applies to {accounts} accounts"]
    for entry, sources in found.applies_to:
        how = "attached" if sources[-1] == entry.node.id else "inherited"
        others = [s for s in sources if s != entry.node.id]
        where = f" from {', '.join(others)}" if others else ""
        lines.append(f"{visible(entry.path)} ({entry.node.id}): {how}{where}")
    if not snap.complete:
        lines.append(f"(incomplete: {snap.gaps.summary() or 'the crawl had not finished'})")
    return "\n".join(lines) + "\n"
