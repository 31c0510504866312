"""The policies that apply to a node, in words: the text export's lines under each node
(`--policies`), the diagrams' label lines and DOT's tooltip, so the three agree.

Read from the same inheritance as the JSON and CSV exports (`inheritance.applied`). A type
with nothing attached says nothing in the diagrams and "none" nowhere; a type whose
attachments are not known always says so, with the reason ("not known (not permitted)"),
never as an empty list: the JSON export's null. Raw text: each format escapes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orgtree_tui.exporters.policies_json import Chains
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.gaps import MISSING_DETAIL, said
from orgtree_tui.inheritance import applied
from orgtree_tui.records import RCP, SCP, Details, DetailState, Policy

# The short names people use; any other type botocore lists reads as its own words.
_TYPE_NAMES = {
    SCP: "SCP",
    RCP: "RCP",
    "TAG_POLICY": "tag policy",
    "BACKUP_POLICY": "backup policy",
    "AISERVICES_OPT_OUT_POLICY": "AI opt-out policy",
}
AWS_MANAGED = " [AWS managed]"
_UNSAFE_IN_COMMENT = re.compile(r"[^0-9A-Za-z _.-]")


def type_name(policy_type: str) -> str:
    return _TYPE_NAMES.get(policy_type) or policy_type.lower().replace("_", " ")


@dataclass(frozen=True, slots=True)
class TypeAtNode:
    """One type at one node. `attached`/`inherited` None: not known, `*_missing` says why;
    `inherited`: (ancestor name, what it attaches) for each ancestor that attaches any,
    root first: the chain as AWS evaluates it."""

    policy_type: str
    attached: tuple[Policy, ...] | None
    inherited: tuple[tuple[str, tuple[Policy, ...]], ...] | None
    attached_missing: str = ""
    inherited_missing: str = ""


class PolicyReader:
    """Every node's `TypeAtNode`s for one snapshot, built once per export."""

    def __init__(self, snap: Snapshot) -> None:
        self._chains = Chains(snap)
        self._names = dict(snap.above_names)
        self._names.update({e.node.id: e.node.name for e in snap})

    def types(self, node_id: str) -> list[TypeAtNode]:
        path = self._chains.paths[node_id]
        details = self._chains.details
        out: list[TypeAtNode] = []
        for policy_type in sorted(details[node_id].by_type):
            found = applied(path, details, policy_type)
            inherited = None
            why_inherited = ""
            if found.inherited is not None:
                inherited = tuple(
                    (self._name(lv.node_id), lv.attached) for lv in found.chain[:-1] if lv.attached
                )
            else:
                first = next(lv for lv in found.chain[:-1] if lv.attached is None)
                reason = _reason(details.get(first.node_id), policy_type)
                why_inherited = f"{self._name(first.node_id)}: {reason}"
            out.append(
                TypeAtNode(
                    policy_type,
                    found.attached,
                    inherited,
                    _reason(details[node_id], policy_type) if found.attached is None else "",
                    why_inherited,
                )
            )
        return out

    def _name(self, node_id: str) -> str:
        return self._names.get(node_id, node_id)


def _reason(details: Details | None, policy_type: str) -> str:
    found = details.by_type.get(policy_type) if details else None
    state = found.state if found else DetailState.PENDING
    why = MISSING_DETAIL.get(state)
    return said(why) if why is not None else state.value


def named(policy: Policy, *, with_id: bool) -> str:
    shown = f"{policy.name} ({policy.id})" if with_id else policy.name
    return shown + (AWS_MANAGED if policy.aws_managed else "")


def attached_words(t: TypeAtNode, *, with_id: bool) -> str:
    if t.attached is None:
        return f"not known ({t.attached_missing})"
    return "; ".join(named(p, with_id=with_id) for p in t.attached) or "none"


def inherited_lines(t: TypeAtNode, *, with_id: bool) -> list[str]:
    """`SCP inherited from Root: DenyLeave (p-1); FullAWSAccess (p-2) [AWS managed]`, one
    line per ancestor that attaches any, root first; none when nothing is inherited."""
    name = type_name(t.policy_type)
    if t.inherited is None:
        return [f"{name} inherited: not known ({t.inherited_missing})"]
    return [
        f"{name} inherited from {ancestor}: " + "; ".join(named(p, with_id=with_id) for p in ps)
        for ancestor, ps in t.inherited
    ]


def text_lines(types: list[TypeAtNode]) -> list[str]:
    """The text export's lines under a node: attached, then inherited, per type; a type
    with neither says nothing (the `# policy types` line lists what is enabled)."""
    lines: list[str] = []
    for t in types:
        if t.attached != ():
            lines.append(f"{type_name(t.policy_type)} attached: {attached_words(t, with_id=True)}")
        lines.extend(inherited_lines(t, with_id=True))
    return lines


def diagram_lines(types: list[TypeAtNode], *, top: bool) -> list[str]:
    """A diagram node's extra label lines: what is attached to it, per type (what it
    inherits is drawn above it); the diagram's top node also says what it inherits from
    outside the diagram."""
    lines: list[str] = []
    for t in types:
        name = type_name(t.policy_type)
        if t.attached != ():
            lines.append(f"{name}: {attached_words(t, with_id=False)}")
        if top:
            lines.extend(inherited_lines(t, with_id=False))
    return lines


def enabled_line(snap: Snapshot) -> str:
    """`policy types: AI opt-out policy, RCP, SCP, tag policy` (fixed words: inert in a
    comment); "" when the organization has none (consolidated billing)."""
    names = [_UNSAFE_IN_COMMENT.sub("_", type_name(t)) for t in sorted(snap.root.details.by_type)]
    return f"policy types: {', '.join(names)}" if names else ""
