"""Helpers and fixtures for tests that talk to the simulated Organizations endpoint.

Import fixtures by name into a test module (`from sim_fixtures import sim`); moto's state is
process-wide, so only one SimServer runs at a time and mock_aws must not be active meanwhile.

The SimServer pages as AWS does (at most 20 a page, empty pages, bound NextTokens); in-process
`mock_aws` keeps moto's own paging. Tests about paging, or whose counts depend on it, belong on
the SimServer (tests/test_paging.py, tests/test_crawl_strict.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config

from orgtree_tui.demo import GroundTruth
from orgtree_tui.model import OrgTree
from orgtree_tui.records import (
    DelegatedAdministrator,
    DetailState,
    Node,
    NodeType,
    OrgFacts,
    Policy,
)
from orgtree_tui.sim.paging import paged_operations
from orgtree_tui.sim.server import SimServer

# One attempt, so a throttle or fault reaches the test instead of being retried away.
NO_RETRY = Config(retries={"total_max_attempts": 1})
TARGET_PREFIX = "AWSOrganizationsV20161128."


@pytest.fixture
def sim() -> Iterator[SimServer]:
    """A server without latency, holding an organization with no OUs or members."""
    with SimServer(latency=(0.0, 0.0), seed=1) as server:
        server.admin_client().create_organization(FeatureSet="ALL")
        yield server


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


def raw_call(
    endpoint_url: str, operation: str, params: object = None, headers: dict[str, str] | None = None
) -> RawResponse:
    """An unsigned JSON-protocol request, to see exactly what the middleware sends back."""
    request = urllib.request.Request(
        endpoint_url + "/",
        data=json.dumps(params or {}).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET_PREFIX + operation,
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return RawResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return RawResponse(error.code, dict(error.headers), error.read())


def tree_from_truth(truth: GroundTruth) -> OrgTree:
    """What a perfect crawl would have produced."""
    tree = OrgTree()
    for node in truth.nodes.values():
        tree.add(
            Node(
                id=node.id,
                type=NodeType(node.type),
                name=node.name,
                arn=f"arn:aws:organizations::{truth.management_account_id}:x/{node.id}",
                parent_id=node.parent_id,
                state=node.state,
            )
        )
        tree.set_tags(node.id, truth.tags[node.id])
        tree.set_policies(
            node.id,
            tuple(Policy(p, truth.policy_names.get(p, p)) for p in truth.policies[node.id]),
        )
        for policy_type, table in truth.typed_policies.items():
            attached = table.get(node.id, frozenset())
            tree.set_policies(
                node.id,
                tuple(Policy(p, truth.policy_names.get(p, p), policy_type) for p in attached),
                policy_type,
            )
    admins = tuple(
        DelegatedAdministrator(a, truth.nodes[a].name, tuple(sorted(s)))
        for a, s in sorted(truth.delegated_administrators.items())
    )
    tree.set_facts(
        OrgFacts(
            policy_types=dict.fromkeys(truth.policy_types, "ENABLED"),
            delegated_administrators=admins,
            delegated_administrators_state=DetailState.LOADED,
            trusted_services=tuple(sorted(truth.trusted_services)),
            trusted_services_state=DetailState.LOADED,
        )
    )
    return tree


def pages(client: Any, operation: str, **params: Any) -> list[list[Any]]:
    """Every page of one listing, following NextToken to the end."""
    op = paged_operations()[operation]
    method = getattr(client, _method(client, operation))
    found: list[list[Any]] = []
    token = None
    for _ in range(100):
        response = method(**params, **({"NextToken": token} if token else {}))
        found.append(response[op.result_key])
        token = response.get("NextToken")
        if not token:
            return found
    raise AssertionError(f"{operation} never ended")


def _method(client: Any, operation: str) -> str:
    return next(py for py, api in client.meta.method_to_api_mapping.items() if api == operation)


def sizes(client: Any, operation: str, **params: Any) -> list[int]:
    return [len(page) for page in pages(client, operation, **params)]
