"""Who orgtree-tui calls AWS as: profiles, an assumed role, and the caller's identity.

STS is the one service besides Organizations that the app talks to, and only for
`AssumeRole` (with `--role-arn`) and `GetCallerIdentity` (the header). Every STS client made
here refuses any other operation before it is signed, the way `aws.OrgClient` does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.exceptions as bexc
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    RefreshableCredentials,
)

from orgtree_tui.aws_errors import explain
from orgtree_tui.connection import (
    Connection,
    ConnectionSettingsError,
    WriteRefusedError,
    endpoint_for,
    is_loopback,
    validate_endpoint_url,
)

STS_OPERATIONS = frozenset({"AssumeRole", "GetCallerIdentity"})

# The IAM limits, so a typo fails here in one line instead of as a botocore report.
_ROLE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}", re.ASCII
)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)


class IdentityError(RuntimeError):
    """Credentials could not be set up (say, the role could not be assumed); one line."""


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str

    def describe(self) -> str:
        return f"{self.arn} (account {self.account})"

    @property
    def principal(self) -> str:
        """The ARN's resource part (`assumed-role/Admin/alice`, `user/bob`): who, without
        the account, which the header already shows as the management account."""
        return self.arn.split(":", 5)[-1]


def validate_role_arn(arn: str) -> str:
    if not _ROLE_ARN.fullmatch(arn):
        raise ConnectionSettingsError(
            f"invalid role ARN {arn!r}: expected arn:aws:iam::123456789012:role/NAME"
        )
    return arn


def validate_session_name(name: str) -> str:
    if not _SESSION_NAME.fullmatch(name):
        raise ConnectionSettingsError(
            f"invalid role session name {name!r}: 2 to 64 of letters, digits and +=,.@_-"
        )
    return name


def validate_external_id(value: str) -> str:
    if not _EXTERNAL_ID.fullmatch(value):
        raise ConnectionSettingsError(
            f"invalid external id {value!r}: 2 to 1224 of letters, digits and +=,.@:/_-"
        )
    return value


def list_profiles() -> list[str]:
    """Profile names from the AWS config and credentials files, sorted, for a picker."""
    try:
        # botocore's Session, not boto3's: boto3 resolves AWS_PROFILE on construction and
        # would fail on a stale one, which is exactly when someone wants to pick another.
        return sorted(botocore.session.Session().available_profiles)
    except (bexc.ConfigParseError, bexc.ConfigNotFound) as exc:
        raise ConnectionSettingsError(f"cannot read the AWS config files: {exc}") from None


def open_session(conn: Connection) -> boto3.session.Session:
    """The session every client of this connection is made from: the profile's (or the
    explicit keys'), then, with `conn.role_arn`, the role's, refreshed before it expires."""
    base = _base_session(conn)
    if conn.role_arn is None:
        return base
    return _assume_role(base, conn)


def caller_identity(
    conn: Connection, session: boto3.session.Session | None = None
) -> CallerIdentity:
    """sts:GetCallerIdentity as this connection. Pass the session the org client was made
    from to avoid assuming the role a second time. Raises IdentityError."""
    session = session or open_session(conn)
    try:
        response = sts_client(session, conn).get_caller_identity()
    except (bexc.BotoCoreError, bexc.ClientError) as exc:
        raise IdentityError(explain(exc, conn)) from exc
    return CallerIdentity(
        account=str(response["Account"]), arn=str(response["Arn"]), user_id=str(response["UserId"])
    )


def sts_client(session: boto3.session.Session, conn: Connection) -> Any:
    """An STS client limited to STS_OPERATIONS, on the connection's endpoint if it has one
    (a simulated endpoint serves STS too; real AWS uses the regional STS endpoint)."""
    client = session.client("sts", region_name=conn.region, **sts_client_args(conn))
    guard_sts(client)
    return client


def sts_endpoint(conn: Connection) -> str | None:
    """Where STS is called: AWS_ENDPOINT_URL_STS if set; else the connection's endpoint when
    it is on this machine (a simulator serves STS and Organizations on one port); else None,
    AWS's STS. A FIPS or VPC endpoint of Organizations does not serve STS, so `--role-arn`
    with one must still reach the default STS endpoint."""
    explicit = os.environ.get("AWS_ENDPOINT_URL_STS")
    if explicit:
        return validate_endpoint_url(explicit)
    endpoint = endpoint_for(conn)
    return endpoint if endpoint is not None and is_loopback(endpoint) else None


def sts_client_args(conn: Connection) -> dict[str, Any]:
    """`endpoint_url` (and, when needed, `config`) for an STS client of this connection."""
    endpoint = sts_endpoint(conn)
    if endpoint is not None:
        return {"endpoint_url": endpoint}
    global_url = os.environ.get("AWS_ENDPOINT_URL")
    if global_url and not is_loopback(global_url):
        # botocore would send STS to AWS_ENDPOINT_URL too: that one is Organizations'.
        # (botocore-stubs lag behind botocore 1.31's option)
        return {"config": Config(ignore_configured_endpoint_urls=True)}  # type: ignore[call-arg]
    return {}


def guard_sts(client: Any) -> None:
    client.meta.events.register("before-call.sts", _refuse_other_sts_calls)


def _refuse_other_sts_calls(model: Any, **_: Any) -> None:
    if model.name not in STS_OPERATIONS:
        raise WriteRefusedError(f"refusing sts:{model.name}: orgtree-tui only reads")


def _base_session(conn: Connection) -> boto3.session.Session:
    try:
        return boto3.session.Session(
            profile_name=conn.profile,
            aws_access_key_id=conn.access_key,
            aws_secret_access_key=conn.secret_key,
        )
    except bexc.ProfileNotFound:
        named = (
            repr(conn.profile)
            if conn.profile
            else f"{os.environ.get('AWS_PROFILE')!r} (AWS_PROFILE)"
        )
        raise ConnectionSettingsError(
            f"unknown AWS profile {named}: see `aws configure list-profiles`"
        ) from None


def _assume_role(base: boto3.session.Session, conn: Connection) -> boto3.session.Session:
    assert conn.role_arn is not None

    def make_sts(service: str, **kwargs: Any) -> Any:
        # The fetcher builds a fresh STS client on every refresh, with frozen source keys.
        client = base._session.create_client(
            service, region_name=conn.region, **sts_client_args(conn), **kwargs
        )
        guard_sts(client)
        return client

    extra: dict[str, Any] = {"RoleSessionName": conn.role_session_name}
    if conn.external_id:
        extra["ExternalId"] = conn.external_id
    try:
        source: Credentials | None = base.get_credentials()
        if source is None:
            raise bexc.NoCredentialsError()
        fetcher = AssumeRoleCredentialFetcher(make_sts, source, conn.role_arn, extra_args=extra)
        # Assume once now, so a wrong ARN or trust policy is reported before the crawl.
        metadata = fetcher.fetch_credentials()
    except (bexc.BotoCoreError, bexc.ClientError) as exc:
        raise IdentityError(explain(exc, conn)) from exc
    credentials = RefreshableCredentials.create_from_metadata(
        metadata, refresh_using=fetcher.fetch_credentials, method="assume-role"
    )
    # The source profile's session settings (CA bundle, proxies, retries) still apply.
    core = botocore.session.Session(profile=conn.profile)
    core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
    return boto3.session.Session(botocore_session=core)


class _Fixed(CredentialProvider):
    METHOD = "assume-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials
