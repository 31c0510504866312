"""UI test fixtures: a seeded moto organization per test (ids are the same on every run)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from test_multi_org import orgs  # noqa: F401  (profiles reaching two organizations)
from ui_support import SampleOrg, build_test_org


@pytest.fixture
def org() -> Iterator[SampleOrg]:
    with mock_aws():
        mock_random.seed(11)  # moto's ids and timestamps-free fields repeat exactly
        client: Any = boto3.client("organizations", region_name="us-east-1")
        yield build_test_org(client)


@pytest.fixture
def bare_account() -> Iterator[Any]:
    """Credentials for an account that is in no organization."""
    with mock_aws():
        yield boto3.client("organizations", region_name="us-east-1")


@pytest.fixture(autouse=True)
def outside_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as outside tmux even when the suite runs in it: a copy would otherwise load the
    text into the user's tmux buffer (test_ui_copy.py starts a tmux server of its own)."""
    monkeypatch.delenv("TMUX", raising=False)
