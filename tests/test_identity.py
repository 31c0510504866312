"""Who the app runs as: --role-arn through STS (moto in-process), caller identity, the STS
allow-list, SSO logins that have expired (botocore's own errors), and the profile list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.exceptions as bexc
import pytest
from moto import mock_aws
from test_cli import one_error_line

from orgtree_tui.aws_errors import ErrorKind, classify, explain
from orgtree_tui.connection import Connection, ConnectionSettingsError, WriteRefusedError
from orgtree_tui.identity import (
    IdentityError,
    caller_identity,
    list_profiles,
    open_session,
    sts_client,
    sts_endpoint,
    validate_role_arn,
)
from orgtree_tui.main import main
from orgtree_tui.source import open_connection

ROLE = "arn:aws:iam::111111111111:role/OrgReader"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> None:
    """Write an AWS config file and point HOME at tmp_path (SSO token caches live there)."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(config)
    (home / ".aws" / "credentials").write_text("[base]\naws_access_key_id = AKIDBASE\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))


def create_org_as(role_arn: str) -> str:
    """An organization whose management account is the role's account; returns its id."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=role_arn, RoleSessionName="setup"
    )["Credentials"]
    org = boto3.client(
        "organizations",
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    org_id: str = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    org.create_account(Email="a@example.com", AccountName="member")
    return org_id


# -- --role-arn -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        ROLE,
        "arn:aws-us-gov:iam::111111111111:role/path/to/Reader",
        "arn:aws:iam::111111111111:role/a+b=c,d.e@f_g-h",
    ],
)
def test_good_role_arns(arn: str) -> None:
    assert validate_role_arn(arn) == arn


@pytest.mark.parametrize(
    "arn",
    [
        "OrgReader",
        "arn:aws:iam::1111:role/OrgReader",  # short account
        "arn:aws:iam::111111111111:user/alice",  # not a role
        "arn:aws:sts::111111111111:assumed-role/OrgReader/x",
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role/white space",
        "arn:aws:iam::111111111111:role/Reader\n",
    ],
)
def test_bad_role_arns(arn: str) -> None:
    with pytest.raises(ConnectionSettingsError, match="invalid role ARN"):
        validate_role_arn(arn)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["export", "--role-arn", "arn:aws:iam::1:role/x"], "invalid role ARN"),
        (["--role-arn", ROLE, "--role-session-name", "x"], "invalid role session name"),
        (["--role-arn", ROLE, "--external-id", "a b"], "invalid external id"),
        (["--external-id", "ext-1234"], "--external-id needs --role-arn"),
        (["--role-arn", ROLE, "--profile", "a", "--profile", "b"], "--role-arn takes one"),
        (["--demo", "--role-arn", ROLE], "--demo cannot be combined"),
        (["--profile", "a", "--profile", "a"], "given twice"),
    ],
)
def test_bad_identity_flags_get_one_line_and_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert says in one_error_line(capsys)


def test_role_session_is_the_roles_and_caller_identity_says_so(moto: None) -> None:
    conn = Connection(role_arn=ROLE, role_session_name="alice", external_id="ext-1234")
    session = open_session(conn)
    me = caller_identity(conn, session)
    assert me.account == "111111111111"
    assert me.arn == "arn:aws:sts::111111111111:assumed-role/OrgReader/alice"
    assert me.user_id.endswith(":alice")
    plain = caller_identity(Connection())
    assert plain.account == "123456789012"  # moto's default: the source identity


def test_export_with_role_arn_crawls_the_roles_organization(
    moto: None, capsys: pytest.CaptureFixture[str]
) -> None:
    org_id = create_org_as(ROLE)
    # Without the role, the caller's own account is in no organization.
    assert main(["export", "-q", "--no-cache"]) == 2
    assert "not a member of an AWS Organization" in one_error_line(capsys)
    assert main(["export", "-q", "--no-cache", "--role-arn", ROLE]) == 0
    document = json.loads(capsys.readouterr().out)
    organization = document["organization"]  # format /2 adds the facts after these two
    assert {k: organization[k] for k in ("id", "management_account_id")} == {
        "id": org_id,
        "management_account_id": "111111111111",
    }
    names = [c["name"] for c in document["tree"]["children"]]
    assert "member" in names


def test_assumed_credentials_refresh_before_they_expire(moto: None) -> None:
    session = open_session(Connection(role_arn=ROLE))
    credentials: Any = session.get_credentials()
    first = credentials.get_frozen_credentials().access_key
    assert credentials.method == "assume-role"
    # Pretend the hour is nearly up (for the credentials and the fetcher's own cache of
    # the last AssumeRole answer): the next use must assume the role again.
    credentials._expiry_time = datetime.now(UTC) + timedelta(seconds=30)
    credentials._refresh_using.__self__._cache.clear()
    second = credentials.get_frozen_credentials().access_key
    assert second != first
    assert caller_identity(Connection(role_arn=ROLE), session).account == "111111111111"


def test_a_role_that_cannot_be_assumed_is_one_clear_line(
    moto: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def denied(*_: Any, **__: Any) -> Any:
        raise bexc.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not trusted"}}, "AssumeRole"
        )

    monkeypatch.setattr("botocore.credentials.AssumeRoleCredentialFetcher._get_credentials", denied)
    assert main(["export", "-q", "--role-arn", ROLE]) == 2
    line = one_error_line(capsys)
    assert f"Could not assume {ROLE} (AccessDenied)" in line
    assert "trust policy" in line


def test_a_role_refresh_refused_mid_crawl_is_explained_as_the_role() -> None:
    error = bexc.ClientError({"Error": {"Code": "AccessDenied", "Message": "x"}}, "AssumeRole")
    message = explain(error, Connection(profile="me", role_arn=ROLE))
    assert message.startswith(f"Could not assume {ROLE} (AccessDenied)")
    expired = bexc.ClientError({"Error": {"Code": "ExpiredToken", "Message": "x"}}, "AssumeRole")
    assert "aws sso login --profile me" in explain(expired, Connection(profile="me"))


def test_no_credentials_advice_names_the_profile_in_use() -> None:
    named = explain(bexc.NoCredentialsError(), Connection(profile="org-a"))
    assert "Profile org-a gives no AWS credentials" in named
    assert "aws sso login --profile org-a" in named and "set AWS_PROFILE" not in named
    anonymous = explain(bexc.NoCredentialsError(), Connection())
    assert "pass --profile, or set AWS_PROFILE" in anonymous


def test_source_caller_identity_is_asked_once(moto: None) -> None:
    source = open_connection(Connection(role_arn=ROLE), workers=2)
    calls: list[str] = []
    source.session.events.register(  # type: ignore[union-attr]
        "before-call.sts.GetCallerIdentity", lambda **_: calls.append("x")
    )
    assert source.caller_identity().account == "111111111111"
    assert source.caller_identity() is source.caller_identity()
    assert calls == ["x"]


# -- the STS allow-list ---------------------------------------------------------------


def test_sts_clients_refuse_everything_but_assume_role_and_caller_identity(moto: None) -> None:
    conn = Connection()
    client = sts_client(open_session(conn), conn)
    assert client.get_caller_identity()["Account"] == "123456789012"
    with pytest.raises(WriteRefusedError, match="GetSessionToken"):
        client.get_session_token()
    with pytest.raises(WriteRefusedError, match="DecodeAuthorizationMessage"):
        client.decode_authorization_message(EncodedMessage="xx")


def test_the_role_refresher_uses_a_guarded_sts_client(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded: list[Any] = []
    import orgtree_tui.identity as identity

    real = identity.guard_sts
    monkeypatch.setattr(identity, "guard_sts", lambda c: (guarded.append(c), real(c)))
    open_session(Connection(role_arn=ROLE))
    (client,) = guarded
    with pytest.raises(WriteRefusedError):
        client.get_session_token()


# -- SSO --------------------------------------------------------------------------------

SSO_CONFIG = """
[profile sso-legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly

[profile sso-new]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
"""


@pytest.mark.parametrize("profile", ["sso-legacy", "sso-new"])
@pytest.mark.parametrize("role", [[], ["--role-arn", ROLE]])
def test_an_sso_login_that_is_missing_says_aws_sso_login(
    profile: str,
    role: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws_files(tmp_path, monkeypatch, SSO_CONFIG)  # and no token in HOME's SSO cache
    assert main(["export", "-q", "--profile", profile, *role]) == 2
    assert f"`aws sso login --profile {profile}`" in one_error_line(capsys)


@pytest.mark.parametrize(
    "error",
    [
        bexc.SSOTokenLoadError(error_msg="Token for x does not exist"),
        bexc.UnauthorizedSSOTokenError(),
        bexc.TokenRetrievalError(provider="sso", error_msg="the token has expired"),
        bexc.ClientError({"Error": {"Code": "ExpiredTokenException", "Message": "x"}}, "ListRoots"),
    ],
)
def test_explain_sends_expired_sso_sessions_to_aws_sso_login(error: Exception) -> None:
    message = explain(error, Connection(profile="org-admin"))
    assert "aws sso login --profile org-admin" in message
    assert "\n" not in message


# -- profiles -------------------------------------------------------------------------


def test_list_profiles_reads_both_aws_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_files(tmp_path, monkeypatch, "[default]\nregion = us-east-1\n" + SSO_CONFIG)
    assert list_profiles() == ["base", "default", "sso-legacy", "sso-new"]
    # A stale AWS_PROFILE is exactly when someone wants the list to pick another.
    monkeypatch.setenv("AWS_PROFILE", "gone")
    assert "sso-new" in list_profiles()


def test_list_profiles_with_no_files_is_empty() -> None:
    assert list_profiles() == []


def test_a_broken_aws_config_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_files(tmp_path, monkeypatch, "[profile x\nregion = us-east-1\n")
    with pytest.raises(ConnectionSettingsError, match="cannot read the AWS config files"):
        list_profiles()


def test_identity_errors_are_one_line(moto: None) -> None:
    with pytest.raises(IdentityError) as info:
        caller_identity(Connection(endpoint_url="http://127.0.0.1:9"))
    assert "\n" not in str(info.value) and "Could not reach" in str(info.value)


def test_a_stale_aws_profile_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "gone")
    assert main(["export", "-q"]) == 2
    assert "unknown AWS profile 'gone' (AWS_PROFILE)" in one_error_line(capsys)


def test_the_role_session_keeps_the_source_profiles_settings(
    moto: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_files(tmp_path, monkeypatch, "[profile base]\nregion = eu-west-1\n")
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # else it would win over the profile's
    (tmp_path / "home" / ".aws" / "credentials").write_text(
        "[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    session = open_session(Connection(profile="base", role_arn=ROLE))
    assert session.profile_name == "base"
    assert session.region_name == "eu-west-1"
    assert caller_identity(Connection(profile="base", role_arn=ROLE), session).account == (
        "111111111111"
    )


# -- where STS is called (issue 11 item 9) ------------------------------------------------

FIPS = "https://organizations-fips.us-east-1.amazonaws.com"
VPCE = "https://vpce-0abc123-def456.organizations.us-east-1.vpce.amazonaws.com"


def sts_clients_made(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    import orgtree_tui.identity as identity

    made: list[Any] = []
    real = identity.guard_sts
    monkeypatch.setattr(identity, "guard_sts", lambda c: (made.append(c), real(c)))
    return made


@pytest.mark.parametrize("endpoint", [FIPS, VPCE])
def test_a_fips_or_vpc_organizations_endpoint_with_a_role_still_reaches_sts(
    moto: None, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    made = sts_clients_made(monkeypatch)
    conn = Connection(endpoint_url=endpoint, role_arn=ROLE)
    session = open_session(conn)  # assumes the role: moto answers at AWS's STS only
    assert caller_identity(conn, session).account == "111111111111"
    hosts = {urlparse(c.meta.endpoint_url).hostname for c in made}
    assert hosts and all(h is not None and h.startswith("sts.") for h in hosts), hosts


def test_a_fips_endpoint_in_aws_endpoint_url_is_not_used_for_sts(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", FIPS)
    made = sts_clients_made(monkeypatch)
    open_session(Connection(role_arn=ROLE))
    assert [urlparse(c.meta.endpoint_url).hostname for c in made] == ["sts.us-east-1.amazonaws.com"]


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:5000", "http://localhost:5000", "http://[::1]:5000", "http://127.0.0.2"],
)
def test_a_loopback_endpoint_serves_sts_too(endpoint: str) -> None:
    assert sts_endpoint(Connection(endpoint_url=endpoint)) == endpoint


@pytest.mark.parametrize("endpoint", [FIPS, VPCE, "https://10.0.0.5", None])
def test_other_endpoints_leave_sts_to_botocore(endpoint: str | None) -> None:
    assert sts_endpoint(Connection(endpoint_url=endpoint)) is None


def test_aws_endpoint_url_sts_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.test")
    assert sts_endpoint(Connection(endpoint_url=FIPS)) == "https://sts.example.test"
    assert sts_endpoint(Connection(endpoint_url="http://127.0.0.1:5000")) == (
        "https://sts.example.test"
    )


# -- `aws login` and clock skew (issue 11 item 8) ------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [bexc.LoginRefreshRequired(), bexc.LoginTokenLoadError(error_msg="no cached token")],
    ids=["LoginRefreshRequired", "LoginTokenLoadError"],
)
def test_aws_login_errors_are_credential_errors_that_say_aws_login(exc: Exception) -> None:
    assert classify(exc) is ErrorKind.CREDENTIALS
    message = explain(exc, Connection(profile="dev"))
    assert "`aws login --profile dev`" in message
    assert "sso" not in message


def test_a_login_error_botocore_does_not_define_is_matched_by_name() -> None:
    class LoginRefreshRequired(bexc.BotoCoreError):  # as a botocore without the class might
        fmt = "Your session has expired."

    assert classify(LoginRefreshRequired()) is ErrorKind.CREDENTIALS
    assert "`aws login`" in explain(LoginRefreshRequired())


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "InvalidSignatureException",
            "Signature expired: 20260101T000000Z is now earlier than 20260101T000500Z "
            "(20260101T001000Z - 5 min.)",
        ),
        (
            "SignatureDoesNotMatch",
            "Signature not yet current: 20260101T002000Z is still later than 20260101T001500Z",
        ),
        (
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        ),
    ],
)
def test_clock_skew_says_the_clock_is_off(code: str, message: str) -> None:
    exc = bexc.ClientError({"Error": {"Code": code, "Message": message}}, "ListRoots")
    assert classify(exc) is ErrorKind.CREDENTIALS  # stops the crawl, resumable
    said = explain(exc)
    assert "clock" in said
    assert "expired" not in said and "sso login" not in said


def test_a_bad_signature_that_is_not_about_time_is_still_about_credentials() -> None:
    exc = bexc.ClientError(
        {
            "Error": {
                "Code": "InvalidSignatureException",
                "Message": "The request signature "
                "we calculated does not match the signature you provided.",
            }
        },
        "ListRoots",
    )
    assert "clock" not in explain(exc)
    assert "aws sso login" in explain(exc)


def test_concurrent_modification_is_transient() -> None:
    exc = bexc.ClientError(
        {
            "Error": {"Code": "ConcurrentModificationException", "Message": "try again later"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "DescribeOrganization",
    )
    assert classify(exc) is ErrorKind.TRANSIENT
