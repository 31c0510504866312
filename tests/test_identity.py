"""Who the app runs as: --role-arn through STS (moto in-process), caller identity, the STS
allow-list, SSO logins that have expired (botocore's own errors), and the profile list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions as bexc
import pytest
from moto import mock_aws
from test_cli import one_error_line

from orgtree_tui.aws import Connection, ConnectionSettingsError, WriteRefusedError, explain
from orgtree_tui.cli import main
from orgtree_tui.identity import (
    IdentityError,
    caller_identity,
    list_profiles,
    open_session,
    sts_client,
    validate_role_arn,
)
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
    assert document["organization"] == {"id": org_id, "management_account_id": "111111111111"}
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
