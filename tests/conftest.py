"""Fixtures that switch off everything machine-specific: no real AWS config, no profile."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orgtree_tui.aws import READ_ONLY_OPERATIONS, OrgClient
from orgtree_tui.quotas import Quota

from pinned import mismatch

FAST = {op: Quota(10_000, 10_000) for op in READ_ONLY_OPERATIONS}


def pytest_configure(config: pytest.Config) -> None:
    # Snapshots drawn by another Textual would silently become the new truth.
    if config.getoption("--snapshot-update", default=False) and (why := mismatch("textual")):
        raise pytest.UsageError(f"refusing --snapshot-update: {why}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    why = mismatch("textual")
    if why is None:
        return
    skip = pytest.mark.skip(reason=f"snapshots need the pinned Textual: {why}")
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("aws-home")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Never read or write the user's own cache or settings.
    monkeypatch.setenv("ORGTREE_TUI_CACHE_DIR", str(home / "cache"))
    # An empty file, so all defaults: a file ORGTREE_TUI_CONFIG names must exist.
    (home / "settings.toml").touch()
    monkeypatch.setenv("ORGTREE_TUI_CONFIG", str(home / "settings.toml"))


@pytest.fixture
def moto_client() -> Iterator[Any]:
    """A boto3 Organizations client on moto in-process, with no organization yet."""
    with mock_aws():
        yield boto3.client("organizations", region_name="us-east-1")


@pytest.fixture
def org_client(moto_client: Any) -> OrgClient:
    return OrgClient(moto_client)
