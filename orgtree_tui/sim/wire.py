"""What the simulator reads from a request and how it answers an error, in AWS's JSON
protocol (`x-amz-json-1.1`): shared by the throttle and the pager."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ADMIN_HEADER = "X-Orgtree-Sim-Admin"
ADMIN_ENVIRON_KEY = "HTTP_X_ORGTREE_SIM_ADMIN"
TARGET_ENVIRON_KEY = "HTTP_X_AMZ_TARGET"
# moto keeps one set of backends (so one organization) per account id in this header.
MOTO_ACCOUNT_ENVIRON_KEY = "HTTP_X_MOTO_ACCOUNT_ID"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def operation_of(environ: WSGIEnvironment) -> str:
    """`ListRoots` for `X-Amz-Target: AWSOrganizationsV20161128.ListRoots`; '' if none."""
    return str(environ.get(TARGET_ENVIRON_KEY) or "").rpartition(".")[2]


def caller_of(environ: WSGIEnvironment) -> str:
    """The access key that signed the request: the simulator's idea of the calling account
    (two profiles with two keys are two callers); '' when unsigned."""
    found = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION") or ""))
    return found.group(1) if found else ""


def aws_error(
    start_response: StartResponse, status: int, code: str, message: str, **fields: str
) -> list[bytes]:
    """An error as AWS sends it: `{"__type": code, "Message": ..., **fields}`."""
    body = json.dumps({"__type": code, "Message": message, **fields}).encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [
            ("Content-Type", JSON_CONTENT_TYPE),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [body]
