"""The cache file's format: encode a tree, decode and validate one read back.

Compact JSON with `format_version`. One fixed-order row per node (`columns` names them)
holding its fields, tags, policies and detail states; every distinct policy is stored once
and rows refer to it by index. At 50,000 accounts, objects with repeated keys and a copy of
FullAWSAccess per node would double the size and the time. Decoding checks every value,
because the file is outside our control, and raises `FormatError` saying what is wrong.
Where the file lives and when it is fresh is `store`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from orgtree_tui.gaps import Missing
from orgtree_tui.model import OrgTree
from orgtree_tui.records import (
    SCP,
    DelegatedAdministrator,
    DetailState,
    Node,
    NodeType,
    Organization,
    OrgFacts,
    Policy,
    PolicyDocument,
)
from orgtree_tui.text import short

FORMAT_VERSION = 2
# Format 1 (SCPs only, no organization facts) still loads: what it lacks reads as never
# asked for, and SCPs as the only type, as the crawl that wrote it fetched them.
READABLE_VERSIONS = (1, 2)
NODE_FIELDS = tuple(f.name for f in fields(Node))
COLUMNS = (*NODE_FIELDS, "tags", "tags_state", "policies", "policies_state")
# What `store.source_for` appends to a `--no-details` crawl's label; files from before the
# "details" key are told apart by it.
STRUCTURE_ONLY = " (structure only)"


@dataclass(frozen=True)
class Decoded:
    tree: OrgTree
    complete: bool
    crawled_at: datetime  # timezone-aware
    source: str


def encode(tree: OrgTree, label: str, *, complete: bool, crawled_at: datetime) -> dict[str, Any]:
    """The document `decode` reads back: one row per node, each distinct policy once."""
    rows: list[list[Any]] = []
    policy_table: dict[Policy, int] = {}
    # Most nodes share a handful of policy sets, so each set is turned into indexes once.
    refs: dict[tuple[Policy, ...], list[int]] = {}
    scps, scp_states = tree.raw_policies(SCP)

    def refs_of(attached: tuple[Policy, ...]) -> list[int]:
        found = refs.get(attached)
        if found is None:
            found = refs[attached] = [
                policy_table.setdefault(p, len(policy_table)) for p in attached
            ]
        return found

    for node in tree.nodes():
        details = tree.details(node.id)
        attached = scps.get(node.id)
        policies = refs_of(attached) if attached is not None else None
        policies_state = scp_states.get(node.id, DetailState.PENDING)
        joined = node.joined_timestamp
        rows.append(
            [
                node.id,
                node.type.value,
                node.name,
                node.arn,
                node.parent_id,
                node.email,
                node.state,
                node.joined_method,
                joined.isoformat() if joined is not None else None,
                details.tags,
                _state_name(details.tags_state, details.tags is not None),
                policies,
                _state_name(policies_state, policies is not None),
            ]
        )
    typed: dict[str, dict[str, Any]] = {}
    for policy_type in tree.policy_types_known():
        if policy_type == SCP:
            continue  # in the rows, as in format 1
        table, states = tree.raw_policies(policy_type)
        typed[policy_type] = {
            "policies": {i: refs_of(attached) for i, attached in table.items()},
            "states": {
                i: name
                for i, state in states.items()
                if (name := _state_name(state, i in table)) is not None
            },
        }
    org = tree.organization
    return {
        "format_version": FORMAT_VERSION,
        "source": label,
        "crawled_at": crawled_at.isoformat(),
        "complete": complete,
        "organization": {f.name: getattr(org, f.name) for f in fields(org)} if org else None,
        "policies": [_policy_row(p) for p in policy_table],
        "typed_policies": typed,
        "facts": _encode_facts(tree.facts()),
        # Documents opened (DescribePolicy on demand): the loaded ones, to show offline.
        "policy_documents": {
            i: [_policy_row(d.policy), d.content]
            for i, d in tree.policy_documents().items()
            if d.policy is not None and d.content is not None
        },
        "columns": COLUMNS,
        "nodes": rows,
        "incomplete": tree.incomplete(),
        # Added after format 1 shipped, so optional on load (see _read_gaps).
        "incomplete_causes": {i: c.value for i, c in tree.incomplete_causes().items()},
        "policy_targets_missing": {i: r.value for i, r in tree.policy_targets_missing().items()},
        "details": tree.details_wanted,
    }


def _policy_row(p: Policy) -> list[Any]:
    return [p.id, p.name, p.type, p.aws_managed, p.description]


def _encode_facts(facts: OrgFacts) -> dict[str, Any]:
    admins = facts.delegated_administrators
    return {
        "policy_types": facts.policy_types,
        "delegated_administrators": (
            None
            if admins is None
            else [
                [a.account_id, a.name, list(a.services) if a.services is not None else None]
                for a in admins
            ]
        ),
        "delegated_administrators_state": _name(facts.delegated_administrators_state),
        "trusted_services": (
            list(facts.trusted_services) if facts.trusted_services is not None else None
        ),
        "trusted_services_state": _name(facts.trusted_services_state),
    }


def _name(state: DetailState | None) -> str | None:
    return state.name if state is not None else None


def _state_name(state: DetailState, loaded: bool) -> str | None:
    # null stands for the state set_tags/set_policies imply (LOADED, or PENDING when
    # nothing was loaded), which is nearly every node: smaller file, fewer calls on load.
    implied = DetailState.LOADED if loaded else DetailState.PENDING
    return None if state is implied else state.name


# -- decoding: every value is checked, because the file is outside our control ----------


class FormatError(Exception):
    """The file is not a cache this version can use; str(e) says why, in one line."""


_TYPES = {t.value: t for t in NodeType}
_STATES = {s.name: s for s in DetailState}


def decode(data: object) -> Decoded:
    """The tree and facts of a parsed cache file, every value checked. Raises FormatError."""
    top = _mapping(data, "the file")
    version = top.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        shown = short(repr(version))
        raise FormatError(
            f"format version {shown}; this version of orgtree-tui reads "
            + " and ".join(str(v) for v in READABLE_VERSIONS)
        )
    if top.get("columns") != list(COLUMNS):
        raise FormatError("unexpected node columns")
    source, complete = top.get("source"), top.get("complete")
    if not isinstance(source, str) or not isinstance(complete, bool):
        raise FormatError("source or complete flag missing")
    stamp = top.get("crawled_at")
    crawled_at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    if crawled_at is None or crawled_at.tzinfo is None:
        raise FormatError("crawl time missing or without a time zone")

    tree = OrgTree(details=_details_wanted(top, source))
    organization = top.get("organization")
    if organization is not None:
        org = _mapping(organization, "organization")
        if not all(isinstance(v, str) for v in org.values()):
            raise FormatError("organization fields must be strings")
        tree.set_organization(Organization(**org))
    policy_table = [_policy(item) for item in _list(top.get("policies"), "policies")]
    rows = _list(top.get("nodes"), "nodes")
    nodes = {node.id: node for node in map(_node, rows)}
    if len(nodes) != len(rows):
        raise FormatError("a node is listed twice")
    _check_structure(nodes)
    tree.add_many(nodes.values())
    details = _Details()
    for row in rows:
        _read_details(details, row, policy_table)
    typed, typed_states = _read_typed(top.get("typed_policies", {}), policy_table)
    tree.set_details_many(details.tags, details.policies, details.states, typed, typed_states)
    if "facts" in top:
        tree.set_facts(_read_facts(top["facts"]))
    for policy_id, item in _mapping(top.get("policy_documents", {}), "policy documents").items():
        entry = _list(item, "a policy document")
        if len(entry) != 2 or not isinstance(entry[1], str):
            raise FormatError("a policy document has the wrong shape")
        document = PolicyDocument(policy_id, _policy(entry[0]), entry[1], DetailState.LOADED)
        tree.set_policy_document(document)
    _read_gaps(tree, top)
    return Decoded(tree, complete, crawled_at, source)


_MISSING = {m.value: m for m in Missing}


def _details_wanted(top: dict[str, Any], source: str) -> bool:
    wanted = top.get("details")
    if wanted is None:  # a file from before the key: `source_for` names structure-only ones
        return not source.endswith(STRUCTURE_ONLY)
    if not isinstance(wanted, bool):
        raise FormatError("details flag is not a boolean")
    return wanted


def _read_gaps(tree: OrgTree, top: dict[str, Any]) -> None:
    causes = _reasons(top.get("incomplete_causes", {}), "incomplete causes")
    for node_id, reason in _mapping(top.get("incomplete"), "incomplete").items():
        if not isinstance(reason, str):
            raise FormatError("incomplete reasons must be strings")
        tree.mark_incomplete(node_id, reason, cause=causes.get(node_id) or _guess_cause(reason))
    for policy_id, why in _reasons(top.get("policy_targets_missing", {}), "policy targets").items():
        tree.mark_policy_targets_missing(policy_id, why)


def _reasons(value: object, what: str) -> dict[str, Missing]:
    out: dict[str, Missing] = {}
    for key, name in _mapping(value, what).items():
        reason = _MISSING.get(name) if isinstance(name, str) else None
        if reason is None:
            raise FormatError(f"unknown reason {short(repr(name))} in {what}")
        out[key] = reason
    return out


def _guess_cause(reason: str) -> Missing:
    """For a file saved before causes were: the reason is `Operation: Code`, or says the
    crawl stopped."""
    if reason.startswith("not listed"):
        return Missing.NOT_FETCHED
    return Missing.DENIED if "AccessDenied" in reason else Missing.FAILED


def _node(row: object) -> Node:
    if type(row) is not list or len(row) != len(COLUMNS):
        raise FormatError("a node row has the wrong shape")
    node_id, kind, name, arn, parent_id, email, state, method, joined = row[:9]
    # Spelled out rather than all(...): this runs 50,000 times on a warm start.
    if not (
        type(node_id) is str
        and type(name) is str
        and type(arn) is str
        and (parent_id is None or type(parent_id) is str)
        and (email is None or type(email) is str)
        and (state is None or type(state) is str)
        and (method is None or type(method) is str)
        and (joined is None or type(joined) is str)
    ):
        raise FormatError("a node field has the wrong type")
    node_type = _TYPES.get(kind) if type(kind) is str else None
    if node_type is None:
        raise FormatError(f"unknown node type {short(repr(kind))}")
    when = datetime.fromisoformat(joined) if joined is not None else None
    return Node(node_id, node_type, name, arn, parent_id, email, state, method, when)


@dataclass
class _Details:
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    policies: dict[str, tuple[Policy, ...]] = field(default_factory=dict)
    states: dict[str, tuple[DetailState | None, DetailState | None]] = field(default_factory=dict)
    policy_sets: dict[tuple[int, ...], tuple[Policy, ...]] = field(default_factory=dict)


def _read_details(out: _Details, row: list[Any], policy_table: list[Policy]) -> None:
    node_id = row[0]
    tags, tags_state, refs, policies_state = row[9:]
    if tags is not None:
        if type(tags) is not dict:
            raise FormatError("tags are not an object")
        try:
            "".join(tags.values())  # the fastest check that every value is a string
        except TypeError:
            raise FormatError("tag values must be strings") from None
        out.tags[node_id] = tags
    if refs is not None:
        key = tuple(_list(refs, "policy references"))
        policies = out.policy_sets.get(key)
        if policies is None:
            if not all(type(i) is int and 0 <= i < len(policy_table) for i in key):
                raise FormatError("a policy reference is out of range")
            policies = out.policy_sets[key] = tuple(policy_table[i] for i in key)
        out.policies[node_id] = policies
    if tags_state is not None or policies_state is not None:
        out.states[node_id] = (
            _state(tags_state) if tags_state is not None else None,
            _state(policies_state) if policies_state is not None else None,
        )


def _state(name: object) -> DetailState:
    state = _STATES.get(name) if type(name) is str else None
    if state is None:
        raise FormatError(f"unknown detail state {short(repr(name))}")
    return state


def _check_structure(nodes: dict[str, Node]) -> None:
    # The model follows parent links without a guard, so a cycle would hang the app.
    # Every chain must end at a root, through OUs or roots only.
    reaches_root: set[str] = set()
    for node in nodes.values():
        if (node.type is NodeType.ROOT) != (node.parent_id is None):
            raise FormatError(f"node {short(node.id)} has a misplaced parent")
        chain: dict[str, None] = {}
        current = node
        while current.id not in reaches_root and current.parent_id is not None:
            if current.id in chain:
                raise FormatError(f"node {short(current.id)} is its own ancestor")
            chain[current.id] = None
            parent = nodes.get(current.parent_id)
            if parent is None or parent.type is NodeType.ACCOUNT:
                raise FormatError(f"node {short(current.id)} has a missing or invalid parent")
            current = parent
        reaches_root.update(chain)


def _read_typed(
    value: object, policy_table: list[Policy]
) -> tuple[dict[str, dict[str, tuple[Policy, ...]]], dict[str, dict[str, DetailState]]]:
    typed: dict[str, dict[str, tuple[Policy, ...]]] = {}
    states: dict[str, dict[str, DetailState]] = {}
    for policy_type, entry in _mapping(value, "typed policies").items():
        entry = _mapping(entry, "a policy type's entry")
        table = typed[policy_type] = {}
        for node_id, refs in _mapping(entry.get("policies", {}), "typed policies").items():
            key = _list(refs, "policy references")
            if not all(type(i) is int and 0 <= i < len(policy_table) for i in key):
                raise FormatError("a policy reference is out of range")
            table[node_id] = tuple(policy_table[i] for i in key)
        by_node = states[policy_type] = {}
        for node_id, name in _mapping(entry.get("states", {}), "typed states").items():
            by_node[node_id] = _state(name)
        for node_id in table.keys() - by_node.keys():
            by_node[node_id] = DetailState.LOADED
    return typed, states


def _read_facts(value: object) -> OrgFacts:
    facts = _mapping(value, "facts")
    types = facts.get("policy_types")
    if types is not None and not all(
        isinstance(v, str) for v in _mapping(types, "policy types").values()
    ):
        raise FormatError("policy type statuses must be strings")
    admins = facts.get("delegated_administrators")
    read_admins: tuple[DelegatedAdministrator, ...] | None = None
    if admins is not None:
        read_admins = tuple(_admin(item) for item in _list(admins, "delegated administrators"))
    services = facts.get("trusted_services")
    if services is not None and not all(
        isinstance(s, str) for s in _list(services, "trusted services")
    ):
        raise FormatError("trusted services must be strings")
    return OrgFacts(
        policy_types=dict(types) if types is not None else None,
        delegated_administrators=read_admins,
        delegated_administrators_state=_optional_state(facts.get("delegated_administrators_state")),
        trusted_services=tuple(services) if services is not None else None,
        trusted_services_state=_optional_state(facts.get("trusted_services_state")),
    )


def _admin(item: object) -> DelegatedAdministrator:
    if type(item) is not list or len(item) != 3:
        raise FormatError("a delegated administrator has the wrong shape")
    account_id, name, services = item
    if not (isinstance(account_id, str) and isinstance(name, str)):
        raise FormatError("a delegated administrator has the wrong shape")
    if services is not None and not all(
        isinstance(s, str) for s in _list(services, "delegated services")
    ):
        raise FormatError("delegated services must be strings")
    return DelegatedAdministrator(
        account_id, name, tuple(services) if services is not None else None
    )


def _optional_state(name: object) -> DetailState | None:
    return None if name is None else _state(name)


def _policy(item: object) -> Policy:
    # Format 1: [id, name] (an SCP); format 2: [id, name, type, aws_managed, description].
    if type(item) is not list or len(item) not in (2, 5):
        raise FormatError("a policy has the wrong shape")
    if len(item) == 2:
        item = [*item, SCP, False, ""]
    policy_id, name, policy_type, aws_managed, description = item
    if not (
        isinstance(policy_id, str)
        and isinstance(name, str)
        and isinstance(policy_type, str)
        and isinstance(aws_managed, bool)
        and isinstance(description, str)
    ):
        raise FormatError("a policy has the wrong shape")
    return Policy(policy_id, name, policy_type, aws_managed, description)


def _mapping(value: object, what: str) -> dict[str, Any]:
    # json.loads only makes str keys, so the values are all that needs checking.
    if not isinstance(value, dict):
        raise FormatError(f"{what} is not an object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise FormatError(f"{what} is not a list")
    return value
