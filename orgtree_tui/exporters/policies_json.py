"""The JSON export's policy values (format /2), shared by `as_json` (the reference
document) and `json_writer` (the fast writer), so both write the same thing.

Per node: `{TYPE: {"attached": [...], "inherited": [... with "from"]}}` for every type
enabled on the root (SCPs alone for a tree that predates policy types; `{}` in a
consolidated-billing organization). A type whose attachments at the node are not known is
null; "inherited" alone is null when some ancestor's are not (both listed under
"incomplete"."policies" by node). The organization's facts likewise: null when refused or
failed, listed under "incomplete"."organization".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.inheritance import applied
from orgtree_tui.records import Details, OrgFacts, Policy


def _policy(policy: Policy) -> dict[str, Any]:
    return {"id": policy.id, "name": policy.name, "aws_managed": policy.aws_managed}


def node_policies(
    path: Sequence[str], details: Mapping[str, Details]
) -> dict[str, dict[str, Any] | None]:
    """`path`: ids from the organization's root down to the node."""
    out: dict[str, dict[str, Any] | None] = {}
    for policy_type in sorted(details[path[-1]].by_type):
        found = applied(path, details, policy_type)
        if found.attached is None:
            out[policy_type] = None
            continue
        inherited = None
        if found.inherited is not None:
            inherited = [{**_policy(i.policy), "from": i.from_id} for i in found.inherited]
        out[policy_type] = {
            "attached": [_policy(p) for p in found.attached],
            "inherited": inherited,
        }
    return out


def organization(snap: Snapshot) -> dict[str, Any]:
    org, facts = snap.organization, snap.facts
    return {
        "id": org.id if org else None,
        "management_account_id": org.management_account_id if org else None,
        "feature_set": (org.feature_set or None) if org else None,
        **facts_json(facts),
    }


def facts_json(facts: OrgFacts) -> dict[str, Any]:
    admins = facts.delegated_administrators
    types = facts.policy_types
    return {
        "policy_types": dict(sorted(types.items())) if types is not None else None,
        "delegated_administrators": (
            None
            if admins is None
            else [
                {
                    "account_id": a.account_id,
                    "services": list(a.services) if a.services is not None else None,
                }
                for a in admins
            ]
        ),
        "trusted_services": (
            list(facts.trusted_services) if facts.trusted_services is not None else None
        ),
    }


def documents(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """`--policy-documents`: id -> {name, type, aws_managed, description, content}; content
    null with a "state" ("not permitted", "failed", "pending") when it did not arrive."""
    out: dict[str, dict[str, Any]] = {}
    for policy_id, doc in (snap.documents or {}).items():
        policy = doc.policy
        entry: dict[str, Any] = {
            "name": policy.name if policy else None,
            "type": policy.type if policy else None,
            "aws_managed": policy.aws_managed if policy else None,
            "description": policy.description if policy else None,
            "content": doc.content,
        }
        if doc.content is None:
            entry["state"] = doc.state.value
        out[policy_id] = entry
    return out


class Chains:
    """Each entry's path of ids from the organization's root, and the details along it,
    built once per export as the writer walks down."""

    def __init__(self, snap: Snapshot) -> None:
        self.details: dict[str, Details] = dict(snap.above_details)
        self.details.update({e.node.id: e.details for e in snap})
        self.paths: dict[str, tuple[str, ...]] = {}
        base = snap.above
        for entry in snap:  # depth first: a parent comes before its children
            parent = entry.node.parent_id
            prefix = self.paths.get(parent, base) if parent is not None else ()
            self.paths[entry.node.id] = (*prefix, entry.node.id)

    def of(self, node_id: str) -> dict[str, dict[str, Any] | None]:
        return node_policies(self.paths[node_id], self.details)
