"""The ground truth a crawl is checked against, and how a crawled tree differs from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from orgtree_tui.demo.spec import (
    SCP,
    NodeKind,
)
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts, NodeType


@dataclass(frozen=True, slots=True)
class TruthNode:
    id: str
    type: NodeKind
    name: str
    parent_id: str | None
    state: str | None = None  # accounts only: ACTIVE, SUSPENDED...


@dataclass(frozen=True)
class Comparison:
    """How a crawled OrgTree differs from the truth; empty fields mean it matched."""

    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    wrong_parent: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    wrong_name: dict[str, tuple[str, str]] = field(default_factory=dict)
    wrong_state: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    missing_tags: tuple[str, ...] = ()
    wrong_tags: dict[str, tuple[dict[str, str], dict[str, str]]] = field(default_factory=dict)
    missing_policies: tuple[str, ...] = ()
    wrong_policies: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    # (policy type, node id) -> (expected ids, crawled ids or None when missing): every
    # type but SCPs, which are `wrong_policies`'.
    wrong_typed_policies: dict[tuple[str, str], tuple[frozenset[str], frozenset[str] | None]] = (
        field(default_factory=dict)
    )
    wrong_facts: tuple[str, ...] = ()  # "policy_types", "delegated_administrators", ...

    @property
    def ok(self) -> bool:
        return not any(getattr(self, name) for name in self._problem_fields())

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self._problem_fields()}

    def summary(self) -> str:
        problems = {k: v for k, v in self.counts().items() if v}
        return "matches" if not problems else ", ".join(f"{k}={v}" for k, v in problems.items())

    @staticmethod
    def _problem_fields() -> tuple[str, ...]:
        return (
            "missing",
            "extra",
            "wrong_parent",
            "wrong_name",
            "wrong_state",
            "missing_tags",
            "wrong_tags",
            "missing_policies",
            "wrong_policies",
            "wrong_typed_policies",
            "wrong_facts",
        )


@dataclass(frozen=True)
class GroundTruth:
    organization_id: str
    management_account_id: str
    root_id: str
    nodes: dict[str, TruthNode]
    tags: dict[str, dict[str, str]]  # every node; {} when untagged
    policies: dict[str, frozenset[str]]  # attached SCP ids per node, FullAWSAccess included
    policy_names: dict[str, str] = field(default_factory=dict)
    # The policy types enabled on the root, and the attachments of every type but SCPs
    # (type -> node -> policy ids; RCPFullAWSAccess included on every node with RCPs).
    policy_types: frozenset[str] = frozenset({SCP})
    typed_policies: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    delegated_administrators: dict[str, frozenset[str]] = field(default_factory=dict)
    trusted_services: frozenset[str] = frozenset()

    def policies_of(self, policy_type: str) -> dict[str, frozenset[str]]:
        return self.policies if policy_type == SCP else self.typed_policies.get(policy_type, {})

    def counts(self) -> Counts:
        ous = sum(1 for n in self.nodes.values() if n.type == "ORGANIZATIONAL_UNIT")
        accounts = sum(1 for n in self.nodes.values() if n.type == "ACCOUNT")
        return Counts(ous, accounts)

    def children(self, node_id: str) -> list[TruthNode]:
        return [n for n in self.nodes.values() if n.parent_id == node_id]

    def level(self, node_id: str) -> int:
        """0 for the root, 1 for its children, and so on."""
        level, node = 0, self.nodes[node_id]
        while node.parent_id is not None:
            level, node = level + 1, self.nodes[node.parent_id]
        return level

    def max_ou_depth(self) -> int:
        ous = [n.id for n in self.nodes.values() if n.type == "ORGANIZATIONAL_UNIT"]
        return max((self.level(i) for i in ous), default=0)

    def compare(self, tree: OrgTree, *, tags: bool = True, policies: bool = True) -> Comparison:
        """Compare by node id; `tags`/`policies` False skip details a crawl did not fetch."""
        crawled = {n.id: n for n in tree.nodes()}
        wrong_parent: dict[str, tuple[str | None, str | None]] = {}
        wrong_name: dict[str, tuple[str, str]] = {}
        wrong_state: dict[str, tuple[str | None, str | None]] = {}
        missing_tags: list[str] = []
        wrong_tags: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        missing_policies: list[str] = []
        wrong_policies: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        for node_id, want in self.nodes.items():
            got = crawled.get(node_id)
            if got is None:
                continue
            if got.parent_id != want.parent_id:
                wrong_parent[node_id] = (want.parent_id, got.parent_id)
            if got.name != want.name:
                wrong_name[node_id] = (want.name, got.name)
            if got.type is NodeType.ACCOUNT and got.state is not None and got.state != want.state:
                wrong_state[node_id] = (want.state, got.state)
            details = tree.details(node_id)
            if tags:
                if details.tags is None:
                    missing_tags.append(node_id)
                elif details.tags != self.tags.get(node_id, {}):
                    wrong_tags[node_id] = (self.tags.get(node_id, {}), details.tags)
            if policies:
                if details.policies is None:
                    missing_policies.append(node_id)
                else:
                    have = frozenset(p.id for p in details.policies)
                    expected = self.policies.get(node_id, frozenset())
                    if have != expected:
                        wrong_policies[node_id] = (expected, have)
        typed = self._compare_typed(tree, crawled) if policies else {}
        facts = self._compare_facts(tree) if policies else ()
        return Comparison(
            wrong_typed_policies=typed,
            wrong_facts=facts,
            missing=tuple(sorted(set(self.nodes) - set(crawled))),
            extra=tuple(sorted(set(crawled) - set(self.nodes))),
            wrong_parent=wrong_parent,
            wrong_name=wrong_name,
            wrong_state=wrong_state,
            missing_tags=tuple(sorted(missing_tags)),
            wrong_tags=wrong_tags,
            missing_policies=tuple(sorted(missing_policies)),
            wrong_policies=wrong_policies,
        )

    def _compare_typed(
        self, tree: OrgTree, crawled: Mapping[str, object]
    ) -> dict[tuple[str, str], tuple[frozenset[str], frozenset[str] | None]]:
        wrong: dict[tuple[str, str], tuple[frozenset[str], frozenset[str] | None]] = {}
        every = tree.details_of([i for i in self.nodes if i in crawled])
        for node_id, details in every.items():
            for policy_type in sorted(self.policy_types - {SCP}):
                found = details.by_type.get(policy_type)
                have = (
                    frozenset(p.id for p in found.policies)
                    if found is not None and found.policies is not None
                    else None
                )
                expected = self.policies_of(policy_type).get(node_id, frozenset())
                if have != expected:
                    wrong[(policy_type, node_id)] = (expected, have)
        return wrong

    def _compare_facts(self, tree: OrgTree) -> tuple[str, ...]:
        facts = tree.facts()
        wrong: list[str] = []
        types = facts.policy_types
        if types is None or {t for t, s in types.items() if s == "ENABLED"} != self.policy_types:
            wrong.append("policy_types")
        admins = facts.delegated_administrators
        if (
            admins is None
            or {a.account_id: frozenset(a.services or ()) for a in admins}
            != self.delegated_administrators
        ):
            wrong.append("delegated_administrators")
        services = facts.trusted_services
        if services is None or frozenset(services) != self.trusted_services:
            wrong.append("trusted_services")
        return tuple(wrong)
