"""AWS access: one boto3 Organizations client, read-only by construction, and error classes.

Every call goes through `OrgClient.call`, which refuses any operation not on the allow-list
before it is signed or sent; a botocore `before-call` hook refuses it again in case someone
reaches the raw client. Sessions, roles and STS (with its own allow-list) are `identity`'s.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from orgtree_tui.aws_errors import ErrorKind as ErrorKind
from orgtree_tui.aws_errors import classify as classify
from orgtree_tui.aws_errors import error_code as error_code
from orgtree_tui.aws_errors import explain as explain

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
    }
)

# AWS's largest page for every Organizations List call; fewer pages means fewer calls.
PAGE_SIZE = 20

DEFAULT_REGION = "us-east-1"
DEFAULT_SESSION_NAME = "orgtree-tui"


class WriteRefusedError(RuntimeError):
    """An operation outside the read-only allow-list was attempted."""


class ConnectionSettingsError(ValueError):
    """A connection setting (profile, endpoint URL, region) is unusable; one-line message."""


@dataclass(frozen=True, slots=True)
class Connection:
    profile: str | None = None
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    # Explicit keys are for the demo and tests; real use goes through the credential chain.
    access_key: str | None = None
    secret_key: str | None = None
    # Assumed on top of the profile's credentials before anything else is called.
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = DEFAULT_SESSION_NAME

    def describe(self) -> str:
        if self.endpoint_url:
            # Two profiles on one endpoint are two organizations: both need telling apart.
            base = (
                f"profile {self.profile} @ {self.endpoint_url}"
                if self.profile
                else self.endpoint_url
            )
        else:
            profile = self.profile or os.environ.get("AWS_PROFILE")
            base = f"profile {profile}" if profile else "default credentials"
        return f"{base} as {self.role_arn}" if self.role_arn else base


def validate_endpoint_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConnectionSettingsError(
            f"invalid endpoint URL {url!r}: expected http(s)://host[:port]"
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConnectionSettingsError(f"invalid endpoint URL {url!r}: {exc}") from None
    return url


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


def endpoint_for(conn: Connection) -> str | None:
    """The connection's endpoint URL, else AWS_ENDPOINT_URL, checked; None means AWS."""
    endpoint = conn.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return validate_endpoint_url(endpoint) if endpoint else None


def is_loopback(url: str) -> bool:
    """True for an endpoint on this machine (localhost, 127.0.0.0/8, ::1): a simulator."""
    host = urlparse(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_client(
    conn: Connection, *, max_pool: int = 8, session: boto3.session.Session | None = None
) -> OrgClient:
    """Build the one shared client. boto3 Sessions are not thread-safe, clients are.
    `session` defaults to `identity.open_session(conn)` (which assumes conn.role_arn)."""
    endpoint = endpoint_for(conn)
    if session is None:
        from orgtree_tui.identity import open_session  # identity builds on this module

        session = open_session(conn)
    raw = session.client(
        "organizations",
        region_name=conn.region,
        endpoint_url=endpoint,
        config=client_config(max_pool),
    )
    return OrgClient(raw)
