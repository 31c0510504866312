"""Quitting mid-crawl, and errors that must read as advice, never as tracebacks."""

from __future__ import annotations

import os
import pty
import random
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import botocore.exceptions as bexc
import pytest
from rich.console import Console
from ui_support import SIZE, SPEC, GatedClient, SampleOrg, app_for, crawled, wait_for

from orgtree_tui.aws import OrgClient, make_client
from orgtree_tui.connection import Connection, ConnectionSettingsError
from orgtree_tui.demo import build_org
from orgtree_tui.identity import open_session
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault
from orgtree_tui.ui.launch import make_app
from orgtree_tui.ui.screens.error import ErrorScreen
from orgtree_tui.ui.screens.main import NOTHING_CRAWLED


def crawl_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("orgtree-crawl")]


def wait_threads_gone(timeout: float = 10.0) -> list[threading.Thread]:
    """The crawl threads still alive after waiting up to `timeout` seconds for them to end
    (a bound for a busy machine, not a speed: a cancel ends them once the calls on the
    wire return)."""
    deadline = time.monotonic() + timeout
    while crawl_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    return crawl_threads()


def error_shown(app: Any) -> bool:
    return isinstance(app.screen, ErrorScreen) and bool(app.screen.query("#error-message"))


def screen_text(screen: ErrorScreen) -> str:
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(screen.query_one("#error-message").render())
    return console.export_text()


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quit_mid_crawl_leaves_no_crawl_thread(org: SampleOrg, key: str) -> None:
    client = GatedClient(OrgClient(org.client), delay=0.1)  # a slow org: minutes, not ms
    app = app_for(client)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.controller.state == "crawling" and app.main.model.totals().ous > 0
        )
        assert crawl_threads()
        await pilot.press(key)
    assert app.return_code == 0
    assert wait_threads_gone() == [], "crawl threads still running 10 s after quitting"
    assert (
        app.controller.session.crawler is not None
        and app.controller.session.crawler.cancel_event.is_set()
    )


def app_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    return env


@pytest.mark.slow
def test_q_ends_the_process_while_its_calls_are_still_on_the_wire(tmp_path: Path) -> None:
    """The real thing: `orgtree-tui` on a pty against the simulated endpoint, which holds
    every ListAccountsForParent call; q mid-crawl ends the process without those calls
    ever being answered, and the terminal is restored. Speed: bench/quit_latency.py."""
    held, release = threading.Semaphore(0), threading.Event()

    def hold_accounts(operation: str) -> Fault | None:
        if operation == "ListAccountsForParent":
            held.release()
            release.wait(30)
        return None

    with SimServer(latency=(0.05, 0.1), seed=11) as server:
        build_org(server.admin_client(), SPEC)
        server.middleware.fault = hold_accounts
        env = app_env(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_CONFIG_FILE=str(tmp_path / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        )
        env.pop("AWS_PROFILE", None)
        argv = [sys.executable, "-m", "orgtree_tui", "--endpoint-url", server.endpoint_url]
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the app
            os.execvpe(sys.executable, [*argv, "--no-cache"], env)
        seen = b""
        try:
            deadline = time.monotonic() + 60
            while b"crawling" not in seen and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.1)[0]:
                    seen += _read(fd)
            assert b"crawling" in seen, "the app never started crawling"
            assert held.acquire(timeout=30), "no ListAccountsForParent call reached the sim"
            os.write(fd, b"q")
            status, output = _wait_for_exit(pid, fd, timeout=10)
            seen += output
            assert status is not None, "the app was still running 10 s after q"
            assert not release.is_set()  # its held calls were never answered
            assert os.waitstatus_to_exitcode(status) == 0
            seen += _drain(fd)
            assert b"\x1b[?1049l" in seen  # the terminal left the alternate screen: restored
        finally:
            release.set()
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            os.close(fd)


def _wait_for_exit(pid: int, fd: int, timeout: float) -> tuple[int | None, bytes]:
    """The child's wait status once it exits (None if it is still running after
    `timeout` seconds), and what it wrote meanwhile."""
    output = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.02)[0]:
            output += _read(fd)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status, output
    return None, output


@pytest.mark.parametrize("how", ["--profile", "AWS_PROFILE"])
def test_an_unknown_profile_is_one_line_and_status_2_before_any_screen(
    tmp_path: Path, how: str
) -> None:
    config = tmp_path / "config"
    config.write_text("[profile real]\nregion = us-east-1\n")
    env = app_env(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(config))
    env.pop("AWS_PROFILE", None)
    argv = [sys.executable, "-m", "orgtree_tui", "--no-cache"]
    if how == "--profile":
        argv += ["--profile", "no-such-profile"]
    else:
        env["AWS_PROFILE"] = "no-such-profile"
    try:
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("the app opened instead of refusing the profile") from None
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr.count("\n") == 1 and "unknown AWS profile 'no-such-profile'" in stderr
    assert "Traceback" not in stderr
    assert done.stdout == b""  # no screen was drawn


def _drain(fd: int) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.05)[0]:
        chunk = _read(fd)
        if not chunk:
            break
        out += chunk
    return out


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


async def test_an_account_outside_any_organization(bare_account: Any) -> None:
    app = app_for(bare_account)
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        assert app.controller.state == "failed"
        await wait_for(pilot, lambda: error_shown(app))
        text = screen_text(app.screen)  # type: ignore[arg-type]
        assert "not a member of an AWS Organization" in text
        assert "Traceback" not in text
        await pilot.press("q")
    assert app.return_code == 0


class NoCredentials:
    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        raise bexc.NoCredentialsError()


async def test_no_credentials() -> None:
    app = app_for(NoCredentials())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: error_shown(app))
        text = screen_text(app.screen)  # type: ignore[arg-type]
        assert "No AWS credentials found" in text and "--profile" in text
        assert app.main.status_bar.text.plain.strip().startswith("● failed")
        # The tree says nothing came, not "crawling..." under a failed status.
        shown = [str(tn.label) for tn in app.main.org_tree.root.children]
        assert shown == [NOTHING_CRAWLED]


async def test_a_source_that_cannot_open_is_explained_and_retried() -> None:
    attempts = 0

    def open_source() -> Any:
        nonlocal attempts
        attempts += 1
        raise ConnectionSettingsError(
            "unknown AWS profile 'nope': see `aws configure list-profiles`"
        )

    app = make_app(open_source, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: error_shown(app))
        assert "unknown AWS profile 'nope'" in screen_text(app.screen)  # type: ignore[arg-type]
        await pilot.press("r")
        await wait_for(pilot, lambda: attempts == 2 and error_shown(app))
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorScreen)


@pytest.mark.slow
async def test_quit_under_a_throttle_storm_is_at_once() -> None:
    """Half of all calls throttled, with latency: q still ends the crawl within a second."""
    with SimServer(latency=(0.05, 0.15), seed=11) as server:
        build_org(server.admin_client(), SPEC)
        rng = random.Random(3)
        server.middleware.fault = lambda op: (
            Fault.error("TooManyRequestsException", 400, "Rate exceeded")
            if rng.random() < 0.5
            else None
        )
        conn = Connection(
            endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing"
        )
        app = app_for(make_client(conn, session=open_session(conn)), connection=conn)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: (
                    app.controller.stats.total_throttled >= 3 and app.controller.state == "crawling"
                ),
                20,
            )
            await pilot.press("q")
        assert app.return_code == 0
        assert wait_threads_gone() == [], "crawl threads still running 10 s after quitting"


async def test_the_theme_from_the_settings_is_used(org: SampleOrg) -> None:
    app = app_for(org.client, theme="nord")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "nord"


async def test_an_unknown_theme_is_a_warning_not_a_crash(org: SampleOrg) -> None:
    app = app_for(org.client, theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await crawled(pilot)
        messages = [n.message for n in app._notifications]  # type: ignore[attr-defined]
        assert any("Unknown theme 'no-such-theme'" in m and "nord" in m for m in messages)
        assert app.controller.state == "complete"
