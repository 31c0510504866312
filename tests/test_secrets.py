"""Credentials, session tokens and signatures never reach exports, stderr or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from orgtree_tui.main import main
from orgtree_tui.sim.server import SimServer

from orgs import OrgBuilder

KEY_ID = "AKIAORGTREESENTINEL1"
SECRET = "orgtree/secret+sentinel/0123456789abcdefghij"
TOKEN = "orgtree-session-token-sentinel"


@pytest.mark.parametrize("fmt", ["json", "csv", "text", "mermaid", "dot"])
def test_no_secret_in_any_export_or_message(
    fmt: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG, logger="orgtree_tui")
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        org = OrgBuilder(sim.admin_client())
        org.account("visible-account", org.ou("X"), tags={"k": "v"})
        target = tmp_path / f"out.{fmt}"
        assert (
            main(["export", "--endpoint-url", sim.endpoint_url, "--format", fmt, "-o", str(target)])
            == 0
        )
    seen = target.read_text() + capsys.readouterr().err + caplog.text
    assert "visible-account" in seen  # the export really has the data
    for secret in (KEY_ID, SECRET, TOKEN, "Signature=", "X-Amz-Security-Token"):
        assert secret not in seen
