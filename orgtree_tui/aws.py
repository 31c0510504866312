"""AWS access: one boto3 Organizations client, read-only by construction.

Every call goes through `OrgClient.call`, which refuses any operation not on the allow-list
before it is signed or sent; a botocore `before-call` hook refuses it again in case someone
reaches the raw client. Sessions, roles and STS (with its own allow-list) are `identity`'s:
the caller opens the session there and hands it to `make_client`.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from orgtree_tui.connection import DEFAULT_REGION, Connection, WriteRefusedError, endpoint_for

# The only operations orgtree-tui ever sends. Everything here is List*/Describe*.
READ_ONLY_OPERATIONS = frozenset(
    {
        "DescribeOrganization",
        "DescribeAccount",
        "DescribeOrganizationalUnit",
        "ListRoots",
        "ListOrganizationalUnitsForParent",
        "ListAccountsForParent",
        "ListAccounts",
        "ListChildren",
        "ListParents",
        "ListTagsForResource",
        "ListPolicies",
        "ListPoliciesForTarget",
        "ListTargetsForPolicy",
        "DescribePolicy",
        "ListDelegatedAdministrators",
        "ListDelegatedServicesForAccount",
        "ListAWSServiceAccessForOrganization",
    }
)

# AWS's largest page for every Organizations List call; fewer pages means fewer calls.
PAGE_SIZE = 20


def client_config(max_pool: int) -> Config:
    # Retries are the task loop's job: it rate-limits per operation and retries throttles
    # until a deadline. Botocore makes exactly one attempt so throttles surface at once.
    return Config(
        region_name=DEFAULT_REGION,
        retries={"mode": "standard", "total_max_attempts": 1},
        max_pool_connections=max(10, max_pool + 2),
        connect_timeout=5,
        read_timeout=20,
        user_agent_extra="orgtree-tui",
    )


class OrgClient:
    """A thread-safe, read-only Organizations client (boto3 clients are thread-safe)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._methods: dict[str, str] = {
            api: py for py, api in raw.meta.method_to_api_mapping.items()
        }
        raw.meta.events.register("before-call.organizations", _refuse_writes)
        self._page_sizes = _page_sizes(raw.meta.service_model)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation not in READ_ONLY_OPERATIONS:
            raise WriteRefusedError(f"refusing {operation}: orgtree-tui is read-only")
        size = self._page_sizes.get(operation)
        if size is not None:
            # One place for every task: AWS's default page may be smaller than its maximum.
            params.setdefault("MaxResults", size)
        method = getattr(self.raw, self._methods[operation])
        response: dict[str, Any] = method(**params)
        return response


def _page_sizes(model: Any) -> dict[str, int]:
    """PAGE_SIZE (or the model's smaller maximum) for each allowed operation whose input
    takes MaxResults, read from botocore's model so a new List call gets it too."""
    sizes: dict[str, int] = {}
    for operation in READ_ONLY_OPERATIONS:
        shape = model.operation_model(operation).input_shape
        limit = shape.members.get("MaxResults") if shape is not None else None
        if limit is not None:
            sizes[operation] = min(PAGE_SIZE, int(limit.metadata.get("max", PAGE_SIZE)))
    return sizes


def _refuse_writes(model: Any, **_: Any) -> None:
    if model.name not in READ_ONLY_OPERATIONS:
        raise WriteRefusedError(f"refusing {model.name}: orgtree-tui is read-only")


def make_client(
    conn: Connection, *, session: boto3.session.Session, max_pool: int = 8
) -> OrgClient:
    """Build the one shared client from `session` (`identity.open_session(conn)`, which
    assumes conn.role_arn). boto3 Sessions are not thread-safe, clients are."""
    raw = session.client(
        "organizations",
        region_name=conn.region,
        endpoint_url=endpoint_for(conn),
        config=client_config(max_pool),
    )
    return OrgClient(raw)
