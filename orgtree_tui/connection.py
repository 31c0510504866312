"""Where and as whom the app connects: `Connection`, its defaults and its checks (a leaf).

Everything AWS-facing (`aws`, `aws_errors`, `identity`) and the command line read these;
this module imports nothing of the package, so none of them has to import another to
learn what a connection is.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlparse

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
