"""What an AWS error means for the crawl (retry, stop, skip a branch) and for the user.

`classify` sorts botocore's exceptions into kinds the task loop acts on; `explain` turns one
into a sentence or two that says what to do, naming the profile's `aws sso login` (or
`aws login`, for botocore's login provider) when a login has expired, and the clock when a
signature was refused because the request time was too far off.
"""

from __future__ import annotations

import re
from enum import Enum

import botocore.exceptions as bexc

from orgtree_tui.connection import Connection


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
_TRANSIENT_CODES = {
    "ServiceException",
    "InternalFailure",
    "ServiceUnavailable",
    "InternalError",
    # AWS: "the target of the operation is being modified; try again later".
    "ConcurrentModificationException",
}
_SKEW_CODES = {"RequestTimeTooSkewed"}
# What AWS says when a signature is refused for its time, not its key.
_SKEW_MESSAGE = re.compile(
    r"signature expired|signature not yet current|too skewed|request time|clock", re.IGNORECASE
)
# botocore's `aws login` provider (botocore 1.41+); matched by name so an older botocore,
# which has no such classes, still loads, and a newer one that renames a subclass still counts.
_LOGIN_ERROR_NAMES = frozenset(
    {
        "LoginError",
        "LoginRefreshRequired",
        "LoginTokenLoadError",
        "LoginAuthorizationCodeError",
        "LoginInsufficientPermissions",
    }
)
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
        if code in _CREDENTIAL_CODES or code in _SKEW_CODES:
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
    if isinstance(exc, _CREDENTIAL_ERRORS) or is_login_error(exc):
        return ErrorKind.CREDENTIALS
    if isinstance(exc, _CONNECTION_ERRORS):
        return ErrorKind.TRANSIENT
    return ErrorKind.OTHER


def is_login_error(exc: BaseException) -> bool:
    """An error of botocore's `aws login` credential provider."""
    return any(cls.__name__ in _LOGIN_ERROR_NAMES for cls in type(exc).__mro__)


def is_clock_skew(exc: BaseException) -> bool:
    """A request refused because this machine's clock is too far from AWS's."""
    if not isinstance(exc, bexc.ClientError):
        return False
    code = error_code(exc)
    if code in _SKEW_CODES:
        return True
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return code in ("InvalidSignatureException", "SignatureDoesNotMatch") and bool(
        _SKEW_MESSAGE.search(message)
    )


def explain(exc: BaseException, conn: Connection | None = None) -> str:
    """What went wrong and what to do about it, in one or two readable sentences."""
    kind = classify(exc)
    profile = conn.profile if conn and conn.profile else None
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, bexc.NoCredentialsError):
        if profile:
            return (
                f"Profile {profile} gives no AWS credentials. Give it some "
                f"(`aws configure sso --profile {profile}`, or keys with `aws configure "
                f"--profile {profile}`), or run `{login}` if it uses SSO."
            )
        return (
            "No AWS credentials found. Configure a profile (`aws configure sso`) and pass "
            "--profile, or set AWS_PROFILE; try --demo to explore a sample organization."
        )
    if isinstance(exc, bexc.SSOTokenLoadError | bexc.UnauthorizedSSOTokenError):
        return f"Your AWS SSO session has expired or is missing. Run `{login}` and retry."
    if isinstance(exc, bexc.TokenRetrievalError):
        return f"Could not refresh AWS credentials ({exc}). Run `{login}` and retry."
    if is_login_error(exc):
        aws_login = f"aws login --profile {profile}" if profile else "aws login"
        return (
            f"Your `aws login` session has expired or could not be read ({exc}). "
            f"Run `{aws_login}` and retry."
        )
    if is_clock_skew(exc):
        return (
            f"AWS refused the request's time ({error_code(exc)}): this machine's clock is "
            "off. Set it right (turn on NTP time sync) and retry; the credentials are fine."
        )
    if _is_assume_role(exc) and kind is not ErrorKind.CREDENTIALS:
        # Also when a refresh fails mid-crawl: the role, not Organizations, said no.
        role = conn.role_arn if conn and conn.role_arn else "the role"
        return (
            f"Could not assume {role} ({error_code(exc)}): check that its trust policy lets "
            "your identity in (and the external id, if it wants one) and that your "
            "credentials allow sts:AssumeRole."
        )
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


def _is_assume_role(exc: BaseException) -> bool:
    return isinstance(exc, bexc.ClientError) and exc.operation_name == "AssumeRole"
