"""`DetailTable`: each node's tags and SCPs, and where fetching them stands.

Not locked: the `OrgTree` that owns it calls it under its own lock. What it hands out is
immutable or a fresh copy.
"""

from __future__ import annotations

from collections.abc import Iterable

from orgtree_tui.records import Details, DetailState, Policy

_PENDING = DetailState.PENDING


def _in_order(policies: Iterable[Policy]) -> tuple[Policy, ...]:
    return tuple(sorted(policies, key=lambda p: (p.name, p.id)))


class DetailTable:
    def __init__(self) -> None:
        self._tags: dict[str, dict[str, str]] = {}
        self._tags_state: dict[str, DetailState] = {}
        self._policies: dict[str, tuple[Policy, ...]] = {}
        self._policies_state: dict[str, DetailState] = {}

    def set_tags(self, node_id: str, tags: dict[str, str]) -> None:
        self._tags[node_id] = dict(tags)
        self._tags_state[node_id] = DetailState.LOADED

    def set_tags_state(self, node_id: str, state: DetailState) -> None:
        self._tags_state[node_id] = state

    def set_policies(self, node_id: str, policies: tuple[Policy, ...]) -> None:
        self._policies[node_id] = _in_order(policies)
        self._policies_state[node_id] = DetailState.LOADED

    def add_policy_attachments(self, policy: Policy, node_ids: Iterable[str]) -> None:
        for node_id in node_ids:
            attached = self._policies.get(node_id, ())
            if policy not in attached:
                self._policies[node_id] = _in_order((*attached, policy))

    def set_policies_state(self, node_id: str, state: DetailState) -> None:
        self._policies_state[node_id] = state

    def set_many(
        self,
        tags: dict[str, dict[str, str]],
        policies: dict[str, tuple[Policy, ...]],
        states: dict[str, tuple[DetailState | None, DetailState | None]],
    ) -> None:
        for node_id, found in tags.items():
            self.set_tags(node_id, found)
        for node_id, attached in policies.items():
            self.set_policies(node_id, attached)
        for node_id, (tags_state, policies_state) in states.items():
            if tags_state is not None:
                self._tags_state[node_id] = tags_state
            if policies_state is not None:
                self._policies_state[node_id] = policies_state

    def forget(self, node_id: str) -> None:
        for table in (self._tags, self._tags_state, self._policies, self._policies_state):
            table.pop(node_id, None)

    def of(self, node_id: str) -> Details:
        tags = self._tags.get(node_id)
        return Details(
            tags=dict(tags) if tags is not None else None,
            tags_state=self._tags_state.get(node_id, _PENDING),
            policies=self._policies.get(node_id),
            policies_state=self._policies_state.get(node_id, _PENDING),
        )

    def of_many(self, node_ids: Iterable[str]) -> dict[str, Details]:
        tags, tags_state = self._tags, self._tags_state
        policies, policies_state = self._policies, self._policies_state
        out: dict[str, Details] = {}
        for node_id in node_ids:
            found = tags.get(node_id)
            out[node_id] = Details(
                tags=dict(found) if found is not None else None,
                tags_state=tags_state.get(node_id, _PENDING),
                policies=policies.get(node_id),
                policies_state=policies_state.get(node_id, _PENDING),
            )
        return out

    def states(self, node_id: str) -> tuple[DetailState, DetailState]:
        """(tags, policies) states: no copy of the tags, for what asks of every node."""
        return (
            self._tags_state.get(node_id, _PENDING),
            self._policies_state.get(node_id, _PENDING),
        )

    def states_of(self, node_ids: Iterable[str]) -> dict[str, tuple[DetailState, DetailState]]:
        tags, policies = self._tags_state, self._policies_state
        return {i: (tags.get(i, _PENDING), policies.get(i, _PENDING)) for i in node_ids}
