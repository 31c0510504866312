"""The details pane's policy sections: for every policy type enabled on the root, what is
attached to the node and what it inherits from which ancestor (SCPs and RCPs level by level,
root first, as AWS evaluates them); the services an account is delegated administrator for;
and, on a root, the organization's feature set, policy types, delegated administrators and
trusted services.

Sections are headings and two-column rows; the pane lays them out (`details._columns`), so
this module does not import the pane's. Anything refused or failed says so: never an empty
list where nothing is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rich.text import Text

from orgtree_tui.forest import Forest
from orgtree_tui.inheritance import Applied, applied, types_at
from orgtree_tui.records import (
    AUTHORIZATION_TYPES,
    RCP,
    SCP,
    DelegatedAdministrator,
    Details,
    DetailState,
    Node,
    Policy,
)
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView

CONSOLIDATED = "CONSOLIDATED_BILLING"
AWS_MANAGED = "AWS managed"
OPEN_HINT = "a: read a policy, its document and reach"
# What AWS calls each type in the console; a type botocore adds later reads as its enum name.
TYPE_NAMES = {
    SCP: "Service control policies",
    RCP: "Resource control policies",
    "TAG_POLICY": "Tag policies",
    "BACKUP_POLICY": "Backup policies",
    "AISERVICES_OPT_OUT_POLICY": "AI services opt-out policies",
    "CHATBOT_POLICY": "Chatbot policies",
    "DECLARATIVE_POLICY_EC2": "Declarative policies (EC2)",
    "SECURITYHUB_POLICY": "Security Hub policies",
}


# Short, for the root's list of types in a narrow pane.
SHORT_NAMES = {
    SCP: "SCPs",
    RCP: "RCPs",
    "TAG_POLICY": "tag policies",
    "BACKUP_POLICY": "backup policies",
    "AISERVICES_OPT_OUT_POLICY": "AI opt-out",
}


def type_name(policy_type: str) -> str:
    return TYPE_NAMES.get(policy_type) or policy_type.replace("_", " ").capitalize()


Row = tuple[Text, Text]
T = TypeVar("T")


@dataclass
class Section:
    heading: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""  # dim, after the heading
    tail: str = ""  # dim, on a line after the rows
    # Each row's label on a line of its own, its values indented below: an ancestor's
    # name is as long as it is, and a column as wide as the longest starves the policies.
    stacked: bool = False


def owner(model: TreeView, node_id: str) -> TreeView:
    """The node's own organization's tree (a Forest holds several)."""
    return model.owner(node_id) if isinstance(model, Forest) else model


def inherited_signature(model: TreeView, node_id: str) -> tuple[object, ...]:
    """What of the node's ancestors and organization its sections show: compared between
    renders, so news about them shows without news about the node itself."""
    path = [a.id for a in model.ancestors(node_id)] + [node_id]
    details = model.details_of(path)
    return (tuple(details[i].by_type for i in path if i in details), model.facts_for(node_id))


def state_text(state: DetailState, pending: str) -> Text:
    if state is DetailState.PENDING:
        return Text(pending, style="italic dim")
    return Text(state.value, style="yellow")


def policy_text(policy: Policy) -> Text:
    out = Text(visible(policy.name))
    if policy.aws_managed:
        out.append(f" ({AWS_MANAGED})", style="dim")
    return out


def _policy_rows(label: str, policies: tuple[Policy, ...] | None, missing: Text) -> list[Row]:
    if policies is None:
        return [(Text(label), missing)]
    if not policies:
        return [(Text(label), Text("none", style="dim"))]
    return [(Text(label if i == 0 else ""), policy_text(p)) for i, p in enumerate(policies)]


def policy_sections(model: TreeView, node: Node, pending: str) -> list[Section]:
    """One section per enabled type; one saying why when there is none."""
    path = [a.id for a in model.ancestors(node.id)] + [node.id]
    details = model.details_of(path)
    types = types_at(details[node.id])
    if not types:
        organization = owner(model, node.id).organization
        if organization is not None and organization.feature_set == CONSOLIDATED:
            why = "none: the organization has consolidated billing only"
        else:
            why = "none: no policy type is enabled on the root"
        return [Section("Policies", [(Text(""), Text(why, style="dim"))], stacked=True)]
    names = {i: visible(n.name) for i in path if (n := model.get(i)) is not None}
    sections = []
    # SCPs and RCPs first (what allows or denies), then the management types.
    for policy_type in sorted(types, key=lambda t: (t not in AUTHORIZATION_TYPES, t != SCP, t)):
        found = applied(path, details, policy_type)
        sections.append(_type_section(found, details, names, pending))
    sections[-1].tail = OPEN_HINT
    return sections


def _state_of(details: dict[str, Details], node_id: str, policy_type: str, pending: str) -> Text:
    found = details[node_id].by_type.get(policy_type)
    return state_text(found.state if found is not None else DetailState.PENDING, pending)


def _from(names: dict[str, str], node_id: str) -> str:
    return f"inherited from {names.get(node_id, node_id)}"


def _type_section(
    found: Applied, details: dict[str, Details], names: dict[str, str], pending: str
) -> Section:
    policy_type = found.policy_type
    here = found.chain[-1].node_id
    section = Section(type_name(policy_type), stacked=True)
    if policy_type in AUTHORIZATION_TYPES:
        # An action is allowed only if every level allows it: the whole chain, root first.
        section.note = "root first, each level must allow"
        for level in found.chain:
            label = (
                "attached here"
                if level.node_id == here
                else f"inherited from {names[level.node_id]}"
            )
            missing = _state_of(details, level.node_id, policy_type, pending)
            section.rows += _policy_rows(label, level.attached, missing)
        return section
    missing = _state_of(details, here, policy_type, pending)
    section.rows += _policy_rows("attached here", found.attached, missing)
    if len(found.chain) == 1:
        return section  # a root inherits nothing
    if found.inherited is None:
        unknown = next(lv.node_id for lv in found.chain[:-1] if lv.attached is None)
        section.rows.append((Text("inherited"), _state_of(details, unknown, policy_type, pending)))
    elif not found.inherited:
        section.rows.append((Text("inherited"), Text("none", style="dim")))
    for level in found.chain[:-1]:
        if level.attached:
            section.rows += _policy_rows(
                f"inherited from {names[level.node_id]}", level.attached, Text()
            )
    return section


def _facts_state(state: DetailState | None, pending: str) -> Text:
    if state is None:
        return Text("not fetched", style="dim")
    return state_text(state, pending)


def delegated_section(model: TreeView, node: Node, pending: str) -> Section | None:
    """The services an account is delegated administrator for (None: it is none)."""
    facts = model.facts_for(node.id)
    admins = facts.delegated_administrators
    if admins is None:
        state = facts.delegated_administrators_state
        if state in (DetailState.DENIED, DetailState.FAILED):
            said = Text(f"not known ({state.value})", style="yellow")
            return Section("Delegated administrator", [(Text(""), said)], stacked=True)
        return None
    admin = next((a for a in admins if a.account_id == node.id), None)
    if admin is None:
        return None
    if admin.services is None:
        rows = [(Text("for"), Text("services not known", style="yellow"))]
    else:
        services = admin.services or ("no service",)
        rows = [(Text("for" if i == 0 else ""), Text(visible(s))) for i, s in enumerate(services)]
    return Section("Delegated administrator", rows)


def _status(status: str) -> str:
    return status.replace("_", " ").lower()


def organization_section(model: TreeView, node: Node, pending: str) -> Section:
    """What a root shows of its organization as a whole."""
    organization = owner(model, node.id).organization
    facts = model.facts_for(node.id)
    rows: list[Row] = []
    feature_set = organization.feature_set if organization is not None else ""
    if feature_set == CONSOLIDATED:
        shown = Text("consolidated billing only (no policies)", style="yellow")
    elif feature_set == "ALL":
        shown = Text("all features")
    else:
        shown = Text(visible(feature_set) or "not known", style="" if feature_set else "dim")
    rows.append((Text("Feature set"), shown))
    types = facts.policy_types
    if types is None:
        rows.append((Text("Policy types"), Text("not known", style="dim")))
    elif not types:
        rows.append((Text("Policy types"), Text("none enabled", style="dim")))
    for i, (policy_type, status) in enumerate(sorted((types or {}).items())):
        name = SHORT_NAMES.get(policy_type) or type_name(policy_type)
        text = Text(f"{name}: {_status(status)}")
        rows.append((Text("Policy types" if i == 0 else ""), text))
    admins = facts.delegated_administrators
    if admins:
        rows += _admin_rows(admins)
    else:
        state = facts.delegated_administrators_state
        rows += _listed("Delegated administrators", admins, state, _admin_text, pending)
    rows += _listed(
        "Trusted services",
        facts.trusted_services,
        facts.trusted_services_state,
        lambda s: Text(visible(s)),
        pending,
    )
    return Section("Organization", rows, stacked=True)


def _admin_text(admin: DelegatedAdministrator) -> Text:
    name = visible(admin.name) or admin.account_id
    return Text(f"{name} ({admin.account_id})", style="bold")


def _admin_rows(admins: tuple[DelegatedAdministrator, ...]) -> list[Row]:
    """Each administrator on a line, the services it is delegated for below it."""
    rows: list[Row] = []
    for admin in admins:
        rows.append((Text("Delegated administrators" if not rows else ""), _admin_text(admin)))
        if admin.services is None:
            rows.append((Text(""), Text("  services not known", style="yellow")))
        for service in admin.services or ():
            rows.append((Text(""), Text(f"  {visible(service)}")))
    return rows


def _listed(
    label: str,
    items: tuple[T, ...] | None,
    state: DetailState | None,
    text: Callable[[T], Text],
    pending: str,
) -> list[Row]:
    if items is None:
        return [(Text(label), _facts_state(state, pending))]
    if not items:
        return [(Text(label), Text("none", style="dim"))]
    return [(Text(label if i == 0 else ""), text(item)) for i, item in enumerate(items)]
