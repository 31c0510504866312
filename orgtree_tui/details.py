"""`DetailTable`: each node's tags and attached policies (per type), and where fetching stands.

Not locked: the `OrgTree` that owns it calls it under its own lock. What it hands out is
immutable or a fresh copy. The types a node must have are the caller's (`types`: the types
enabled on the root, or SCPs alone when the tree does not know them, as before policy types
were read), so a type the root does not enable reads as NOT_ENABLED, never as an empty list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from orgtree_tui.records import SCP, Details, DetailState, Policy, PolicySet

_PENDING = DetailState.PENDING
_LOADED = DetailState.LOADED
# A node's policies, all types together, stand as the worst of its types: what `gaps` reads.
_WORST_FIRST = (DetailState.FAILED, DetailState.DENIED, DetailState.PENDING)


def worst_state(by_type: Mapping[str, PolicySet]) -> DetailState:
    """How a node's policies stand, all its types together (LOADED when it needs none)."""
    found = {p.state for p in by_type.values()}
    return next((s for s in _WORST_FIRST if s in found), _LOADED)


def _in_order(policies: Iterable[Policy]) -> tuple[Policy, ...]:
    return tuple(sorted(policies, key=lambda p: (p.name, p.id)))


class DetailTable:
    def __init__(self) -> None:
        self._tags: dict[str, dict[str, str]] = {}
        self._tags_state: dict[str, DetailState] = {}
        # policy type -> node id -> attached / state
        self._policies: dict[str, dict[str, tuple[Policy, ...]]] = {}
        self._policies_state: dict[str, dict[str, DetailState]] = {}

    def set_tags(self, node_id: str, tags: dict[str, str]) -> None:
        self._tags[node_id] = dict(tags)
        self._tags_state[node_id] = DetailState.LOADED

    def set_tags_state(self, node_id: str, state: DetailState) -> None:
        self._tags_state[node_id] = state

    def set_policies(
        self, node_id: str, policies: tuple[Policy, ...], policy_type: str = SCP
    ) -> None:
        self._policies.setdefault(policy_type, {})[node_id] = _in_order(policies)
        self._policies_state.setdefault(policy_type, {})[node_id] = DetailState.LOADED

    def add_policy_attachments(self, policy: Policy, node_ids: Iterable[str]) -> None:
        table = self._policies.setdefault(policy.type, {})
        for node_id in node_ids:
            attached = table.get(node_id, ())
            if policy not in attached:
                table[node_id] = _in_order((*attached, policy))

    def set_policies_state(self, node_id: str, state: DetailState, policy_type: str = SCP) -> None:
        self._policies_state.setdefault(policy_type, {})[node_id] = state

    def set_many(
        self,
        tags: dict[str, dict[str, str]],
        policies: dict[str, tuple[Policy, ...]],
        states: dict[str, tuple[DetailState | None, DetailState | None]],
        typed: Mapping[str, Mapping[str, tuple[Policy, ...]]] | None = None,
        typed_states: Mapping[str, Mapping[str, DetailState]] | None = None,
    ) -> None:
        """`policies` and the second of `states` are SCPs; `typed` and `typed_states`
        (type -> node -> ...) any type."""
        for node_id, found in tags.items():
            self.set_tags(node_id, found)
        for node_id, attached in policies.items():
            self.set_policies(node_id, attached)
        for policy_type, table in (typed or {}).items():
            for node_id, attached in table.items():
                self.set_policies(node_id, attached, policy_type)
        for node_id, (tags_state, policies_state) in states.items():
            if tags_state is not None:
                self._tags_state[node_id] = tags_state
            if policies_state is not None:
                self._policies_state.setdefault(SCP, {})[node_id] = policies_state
        for policy_type, by_node in (typed_states or {}).items():
            self._policies_state.setdefault(policy_type, {}).update(by_node)

    def forget(self, node_id: str) -> None:
        self._tags.pop(node_id, None)
        self._tags_state.pop(node_id, None)
        for tables in (self._policies, self._policies_state):
            for table in tables.values():
                table.pop(node_id, None)

    def raw(self, policy_type: str) -> tuple[dict[str, tuple[Policy, ...]], dict[str, DetailState]]:
        """Copies of one type's attachments and states as stored (what the cache writes)."""
        return (
            dict(self._policies.get(policy_type, {})),
            dict(self._policies_state.get(policy_type, {})),
        )

    def known_types(self) -> list[str]:
        """Every type any node has word of (what the cache writes)."""
        return sorted(set(self._policies) | set(self._policies_state))

    def _set(self, node_id: str, policy_type: str, required: frozenset[str]) -> PolicySet:
        if policy_type not in required:
            return PolicySet(None, DetailState.NOT_ENABLED)
        policies = self._policies.get(policy_type, {}).get(node_id)
        state = self._policies_state.get(policy_type, {}).get(node_id, _PENDING)
        return PolicySet(policies, state)

    def of(self, node_id: str, types: Iterable[str]) -> Details:
        return self.of_many([node_id], types)[node_id]

    def of_many(self, node_ids: Iterable[str], types: Iterable[str]) -> dict[str, Details]:
        required = frozenset(types)
        tags, tags_state = self._tags, self._tags_state
        out: dict[str, Details] = {}
        for node_id in node_ids:
            found = tags.get(node_id)
            by_type = {t: self._set(node_id, t, required) for t in sorted(required)}
            scp = by_type.get(SCP) or PolicySet(None, DetailState.NOT_ENABLED)
            out[node_id] = Details(
                tags=dict(found) if found is not None else None,
                tags_state=tags_state.get(node_id, _PENDING),
                policies=scp.policies,
                policies_state=scp.state,
                by_type=by_type,
            )
        return out

    def states(self, node_id: str, types: Iterable[str]) -> tuple[DetailState, DetailState]:
        """(tags, policies) states, the policies' the worst of the `types`: no copy of the
        tags, for what asks of every node."""
        return self.states_of([node_id], types)[node_id]

    def states_of(
        self, node_ids: Iterable[str], types: Iterable[str]
    ) -> dict[str, tuple[DetailState, DetailState]]:
        tags = self._tags_state
        tables = [self._policies_state.get(t, {}) for t in sorted(set(types))]
        out: dict[str, tuple[DetailState, DetailState]] = {}
        for node_id in node_ids:
            found = {table.get(node_id, _PENDING) for table in tables}
            worst = next((s for s in _WORST_FIRST if s in found), _LOADED)
            out[node_id] = (tags.get(node_id, _PENDING), worst)
        return out
