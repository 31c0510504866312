"""A reader that goes away early (`| head -c1`, `| true`, a jq that fails) ends the export
quietly: exit status 141, as a shell reports SIGPIPE, and nothing on stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import orgtree_tui
from orgtree_tui.sim.server import SimServer

from orgs import OrgBuilder

# The package under test, wherever it was imported from, so the subprocess runs the same code.
PACKAGE_HOME = Path(orgtree_tui.__file__).resolve().parent.parent
TIMEOUT = 120  # seconds; a crawl of this org takes well under one


@pytest.fixture
def endpoint() -> Iterator[str]:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        org = OrgBuilder(sim.admin_client())
        # Far bigger (about 1 MB) than what a pipe's buffer and a reader's first read hold
        # (64 KiB each on Linux), so a reader that stops early always cuts the export off.
        for i in range(6):
            ou = org.ou(f"Team {i}", tags={f"k{n}": "x" * 250 for n in range(40)})
            for j in range(4):
                org.account(f"team-{i}-{j}", ou, tags={f"k{n}": "y" * 250 for n in range(40)})
        yield sim.endpoint_url


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PACKAGE_HOME)}


def export_argv(url: str) -> list[str]:
    return [sys.executable, "-m", "orgtree_tui", "export", "--endpoint-url", url, "--no-cache"]


def test_a_pipe_closed_before_the_export_is_written(endpoint: str) -> None:
    process = subprocess.Popen(
        export_argv(endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env()
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # no reader at all: the first write fails with EPIPE
    err = process.stderr.read()
    assert process.wait(timeout=TIMEOUT) == 141
    assert err == b""


def run_pipeline(url: str, reader: str) -> subprocess.CompletedProcess[bytes]:
    """`orgtree-tui export -q | reader`, with the export's own exit status."""
    command = " ".join(export_argv(url)) + f" -q | {reader}"
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        env=env(),
        timeout=TIMEOUT,
        check=False,
    )


def test_a_reader_that_never_reads(endpoint: str) -> None:
    done = run_pipeline(endpoint, "true")  # gone long before the crawl ends
    assert done.returncode == 141
    assert done.stderr == b""


def test_a_reader_that_takes_one_byte(endpoint: str) -> None:
    """Whether the writer sees the pipe close depends on how much the kernel's pipe holds
    (gVisor's holds the whole export): either way no traceback and nothing on stderr."""
    done = run_pipeline(endpoint, "head -c1 >/dev/null")
    assert done.returncode in (0, 141)
    assert done.stderr == b""


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (apt-get install jq)")
def test_a_jq_that_fails_on_its_program(endpoint: str) -> None:
    """jq exits at once on a syntax error, before reading anything."""
    command = " ".join(export_argv(endpoint)) + " | jq 'this is not jq' 2>/dev/null"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", "{ " + command + "; } ; echo ${PIPESTATUS[0]} >&2"],
        capture_output=True,
        env=env(),
        timeout=TIMEOUT,
        check=False,
    )
    assert done.stderr == b"141\n"  # the export's own status, and nothing else on stderr
