"""What a tree lacks, by kind, and why: the one meaning of "complete" everywhere.

A crawl, a cached tree or an export is complete only when nothing is in here: every branch
was listed and, when the crawl was asked for details, every node's tags and SCPs arrived and
every SCP's targets were listed. The crawl outcome, the CLI's exit status and stderr line,
every export format and the TUI's status bar all read the same `Gaps`.

Below the model (it reads only the records): the model stores `Missing` reasons and
detail states, everything else reads `Gaps`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from orgtree_tui.records import DetailState, OrgFacts


class Missing(StrEnum):
    """Why a part of the organization is not in the tree (the words the JSON export uses)."""

    DENIED = "denied"
    FAILED = "failed"
    NOT_FETCHED = "not fetched"  # never asked for: the crawl stopped (or had not got there)


# The order kinds are listed in, everywhere: JSON keys, the stderr line, the status bar.
KINDS = ("structure", "tags", "policies", "policy_targets", "organization")

# How a person reads a reason: "not permitted" is AWS's own word for a refused call.
_SAID = {
    Missing.DENIED: "not permitted",
    Missing.FAILED: "failed",
    Missing.NOT_FETCHED: "not fetched",
}
_WHAT = {
    "structure": ("children of {n}", "branch", "branches"),
    "tags": ("tags of {n}", "node", "nodes"),
    "policies": ("policies of {n}", "node", "nodes"),
    "policy_targets": ("targets of {n}", "policy", "policies"),
    "organization": ("{n} of the organization", "detail", "details"),
}


@dataclass(frozen=True)
class Gaps:
    """Id -> reason for each kind. `structure`: roots and OUs whose children could not all
    be listed; `tags`, `policies`: nodes without them; `policy_targets`: SCP ids whose
    targets could not all be listed (any node's list of that type may lack the policy);
    `organization`: "delegated_administrators" and "trusted_services" when they are missing.
    Ids come in export order (policies by id). `policies` holds a node when any type enabled
    on the root (SCPs alone when the types are not known) is missing for it."""

    structure: dict[str, Missing] = field(default_factory=dict)
    tags: dict[str, Missing] = field(default_factory=dict)
    policies: dict[str, Missing] = field(default_factory=dict)
    policy_targets: dict[str, Missing] = field(default_factory=dict)
    organization: dict[str, Missing] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.by_kind().values())

    def by_kind(self) -> dict[str, dict[str, Missing]]:
        """Every node kind; "organization" only when something of it is missing (a subtree
        without the root, or a tree from before these details were read, has none)."""
        kinds = {kind: getattr(self, kind) for kind in KINDS}
        if not self.organization:
            del kinds["organization"]
        return kinds

    def as_json(self) -> dict[str, dict[str, str]]:
        """`{"structure": {id: reason}, "tags": ..., "policies": ..., "policy_targets": ...,
        "organization": ...}`, every kind present (an empty object when nothing of it is
        missing)."""
        return {kind: {i: str(r) for i, r in getattr(self, kind).items()} for kind in KINDS}

    def counts(self) -> list[tuple[str, Missing, int]]:
        """(kind, reason, how many) for every pair that occurs, in KINDS then reason order."""
        out: list[tuple[str, Missing, int]] = []
        for kind, ids in self.by_kind().items():
            for reason in Missing:
                n = sum(1 for r in ids.values() if r is reason)
                if n:
                    out.append((kind, reason, n))
        return out

    def summary(self, *, details_only: bool = False) -> str:
        """One line: `policies of 118 nodes not permitted; tags of 2 nodes failed`.
        `details_only`: leave the branches out (the status bar counts them itself)."""
        parts = []
        for kind, reason, n in self.counts():
            if details_only and kind == "structure":
                continue
            template, one, many = _WHAT[kind]
            count = f"{n} {one if n == 1 else many}"
            parts.append(f"{template.format(n=count)} {_SAID[reason]}")
        return "; ".join(parts)


def said(reason: Missing) -> str:
    """How a person reads the reason (`not permitted` for DENIED)."""
    return _SAID[reason]


# Why a detail in this state is missing (LOADED: it is not).
MISSING_DETAIL = {
    DetailState.PENDING: Missing.NOT_FETCHED,
    DetailState.DENIED: Missing.DENIED,
    DetailState.FAILED: Missing.FAILED,
}


def find_gaps(
    ids: Iterable[str],
    states: Mapping[str, tuple[DetailState, DetailState]],
    causes: Mapping[str, Missing],
    policy_targets: Mapping[str, Missing],
    *,
    details_wanted: bool,
    facts: OrgFacts | None = None,
) -> Gaps:
    """The gaps of the nodes `ids` (in the order given), from their (tags, policies)
    states, and of the organization's `facts` when given (a subtree without the root
    leaves them out); the exporters' snapshot calls it on its own copy so a file is one
    moment."""
    ids = list(ids)
    structure = {i: causes[i] for i in ids if i in causes}
    if not details_wanted:
        return Gaps(structure=structure)
    tags: dict[str, Missing] = {}
    policies: dict[str, Missing] = {}
    for node_id in ids:
        tags_state, policies_state = states[node_id]
        why = MISSING_DETAIL.get(tags_state)
        if why is not None:
            tags[node_id] = why
        why = MISSING_DETAIL.get(policies_state)
        if why is not None:
            policies[node_id] = why
    return Gaps(
        structure,
        tags,
        policies,
        dict(sorted(policy_targets.items())),
        _organization_gaps(facts) if facts is not None else {},
    )


def _organization_gaps(facts: OrgFacts) -> dict[str, Missing]:
    out: dict[str, Missing] = {}
    admins = facts.delegated_administrators
    state = facts.delegated_administrators_state
    why = MISSING_DETAIL.get(state) if state is not None else None
    if why is None and admins is not None and any(a.services is None for a in admins):
        why = Missing.FAILED  # an administrator's services could not be listed
    if why is not None:
        out["delegated_administrators"] = why
    state = facts.trusted_services_state
    why = MISSING_DETAIL.get(state) if state is not None else None
    if why is not None:
        out["trusted_services"] = why
    return out
