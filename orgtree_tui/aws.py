"""AWS access: one boto3 Organizations client, read-only by construction, and error classes.

Every call goes through `OrgClient.call`, which refuses any operation not on the allow-list
before it is signed or sent; a botocore `before-call` hook refuses it again in case someone
reaches the raw client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions as bexc
from botocore.config import Config

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
            base = self.endpoint_url
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

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        if operation not in READ_ONLY_OPERATIONS:
            raise WriteRefusedError(f"refusing {operation}: orgtree-tui is read-only")
        method = getattr(self.raw, self._methods[operation])
        response: dict[str, Any] = method(**params)
        return response


def _refuse_writes(model: Any, **_: Any) -> None:
    if model.name not in READ_ONLY_OPERATIONS:
        raise WriteRefusedError(f"refusing {model.name}: orgtree-tui is read-only")


def endpoint_for(conn: Connection) -> str | None:
    """The connection's endpoint URL, else AWS_ENDPOINT_URL, checked; None means AWS."""
    endpoint = conn.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    return validate_endpoint_url(endpoint) if endpoint else None


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


class ErrorKind(Enum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"  # 5xx, dropped connections, timeouts: worth retrying
    DENIED = "denied"
    CREDENTIALS = "credentials"  # missing or expired: the whole crawl must stop
    NOT_IN_ORGANIZATION = "not-in-organization"
    NOT_FOUND = "not-found"
    OTHER = "other"


_THROTTLE_CODES = {
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "SlowDown",
}
_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "AccessDeniedForDependencyException"}
_CREDENTIAL_CODES = {
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "RequestExpired",
}
_NOT_FOUND_CODES = {
    "ParentNotFoundException",
    "ChildNotFoundException",
    "TargetNotFoundException",
    "AccountNotFoundException",
    "OrganizationalUnitNotFoundException",
    "PolicyNotFoundException",
}
_TRANSIENT_CODES = {"ServiceException", "InternalFailure", "ServiceUnavailable", "InternalError"}
_CONNECTION_ERRORS = (
    bexc.EndpointConnectionError,
    bexc.ConnectionClosedError,
    bexc.ReadTimeoutError,
    bexc.ConnectTimeoutError,
    bexc.ProxyConnectionError,
)
_CREDENTIAL_ERRORS = (
    bexc.NoCredentialsError,
    bexc.PartialCredentialsError,
    bexc.TokenRetrievalError,
    bexc.SSOTokenLoadError,
    bexc.UnauthorizedSSOTokenError,
    bexc.CredentialRetrievalError,
)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, bexc.ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def classify(exc: BaseException) -> ErrorKind:
    if isinstance(exc, bexc.ClientError):
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _THROTTLE_CODES:
            return ErrorKind.THROTTLED
        if code in _CREDENTIAL_CODES:
            return ErrorKind.CREDENTIALS
        if code in _DENIED_CODES:
            return ErrorKind.DENIED
        if code == "AWSOrganizationsNotInUseException":
            return ErrorKind.NOT_IN_ORGANIZATION
        if code in _NOT_FOUND_CODES:
            return ErrorKind.NOT_FOUND
        if code in _TRANSIENT_CODES or (isinstance(status, int) and status >= 500):
            return ErrorKind.TRANSIENT
        return ErrorKind.OTHER
    if isinstance(exc, _CREDENTIAL_ERRORS):
        return ErrorKind.CREDENTIALS
    if isinstance(exc, _CONNECTION_ERRORS):
        return ErrorKind.TRANSIENT
    return ErrorKind.OTHER


def explain(exc: BaseException, conn: Connection | None = None) -> str:
    """What went wrong and what to do about it, in one or two readable sentences."""
    kind = classify(exc)
    profile = conn.profile if conn and conn.profile else None
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, bexc.NoCredentialsError):
        return (
            "No AWS credentials found. Configure a profile (`aws configure sso`) and pass "
            "--profile, or set AWS_PROFILE; try --demo to explore a sample organization."
        )
    if isinstance(exc, bexc.SSOTokenLoadError | bexc.UnauthorizedSSOTokenError):
        return f"Your AWS SSO session has expired or is missing. Run `{login}` and retry."
    if isinstance(exc, bexc.TokenRetrievalError):
        return f"Could not refresh AWS credentials ({exc}). Run `{login}` and retry."
    if kind is ErrorKind.CREDENTIALS:
        return (
            f"AWS rejected the credentials ({error_code(exc)}). They may have expired: "
            f"run `{login}` (or refresh your keys) and retry."
        )
    if kind is ErrorKind.NOT_IN_ORGANIZATION:
        return (
            "This account is not a member of an AWS Organization. Use credentials for the "
            "organization's management account or a delegated administrator."
        )
    if kind is ErrorKind.DENIED:
        return (
            f"Access denied ({error_code(exc)}). orgtree-tui needs organizations:List* and "
            "organizations:Describe* in the management account or a delegated administrator "
            "account."
        )
    if isinstance(exc, bexc.EndpointConnectionError):
        return f"Could not reach the AWS endpoint: {exc}."
    return f"{error_code(exc)}: {exc}"
