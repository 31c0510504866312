"""`orgtree-tui diff` end to end: exit statuses, the three formats, bad input, and the cached
tree against a fresh crawl on the simulated endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import orgtree_tui
from orgtree_tui.main import main
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault

from drift_fixtures import Ids, as_v1, build, change, expected, find

PACKAGE_HOME = Path(orgtree_tui.__file__).resolve().parent.parent


@pytest.fixture
def sim() -> Iterator[tuple[SimServer, Ids]]:
    with SimServer(latency=(0.0, 0.0), throttle=False) as server:
        yield server, build(server.admin_client())


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def export(url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, _, err = run(["export", "--endpoint-url", url, "-q", "-o", str(path)], capsys)
    assert code == 0, err
    document: dict[str, Any] = json.loads(path.read_text())
    return document


@pytest.fixture
def files(
    sim: tuple[SimServer, Ids], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path, Ids]:
    server, ids = sim
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    export(server.endpoint_url, old, capsys)
    change(server.admin_client(), ids)
    export(server.endpoint_url, new, capsys)
    return old, new, ids


def test_changes_exit_1_and_json_lists_them(
    files: tuple[Path, Path, Ids], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, ids = files
    code, out, err = run(["diff", str(old), str(new), "--format", "json"], capsys)
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert report["format"] == "orgtree-tui-diff/1"
    assert report["changes"] == expected(ids)
    assert report["old"]["source"] == str(old) and report["partial"] is False


def test_no_changes_exit_0(
    files: tuple[Path, Path, Ids], capsys: pytest.CaptureFixture[str]
) -> None:
    _, new, _ = files
    code, out, _ = run(["diff", str(new), str(new)], capsys)
    assert code == 0
    assert out.splitlines()[-1] == "no changes"


def test_text_is_the_default_and_markdown_makes_a_table(
    files: tuple[Path, Path, Ids], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, ids = files
    code, out, _ = run(["diff", str(old), str(new)], capsys)
    assert code == 1
    assert f"state    account sandbox-ana ({ids.ana}): ACTIVE -> SUSPENDED" in out.splitlines()
    code, out, _ = run(["diff", str(old), str(new), "--format", "markdown"], capsys)
    assert code == 1 and out.startswith("## Organization changes\n")
    assert f"| renamed | OU | Playground | `{ids.sandbox}` | Sandbox -> Playground |" in out


def test_a_v1_export_against_a_v2_one(
    files: tuple[Path, Path, Ids], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new, ids = files
    v1 = tmp_path / "old-v1.json"
    v1.write_text(json.dumps(as_v1(json.loads(old.read_text()))))
    code, out, _ = run(["diff", str(v1), str(new), "--format", "json"], capsys)
    assert code == 1 and json.loads(out)["changes"] == expected(ids, rcp=False)


def test_a_partial_comparison_exits_2_unless_allowed(
    files: tuple[Path, Path, Ids], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old, new, ids = files
    document = json.loads(new.read_text())
    node = find(document, ids.payments)
    node["tags"], node["tags_state"] = {}, "denied"
    document["incomplete"]["tags"][ids.payments] = "denied"
    document["complete"] = False
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(document))
    code, out, err = run(["diff", str(old), str(partial)], capsys)
    assert code == 2
    assert err == f"orgtree-tui: partial comparison: {partial}: tags of 1 node not permitted\n"
    assert f"  tags of payments ({ids.payments}): not permitted in new" in out.splitlines()
    assert "partial comparison:" in out.splitlines()
    code, out, err = run(["diff", str(old), str(partial), "--allow-partial"], capsys)
    assert code == 1 and err.startswith("orgtree-tui: warning: partial comparison:")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "is not valid JSON (diff compares JSON exports)"),
        ('{"format": "orgtree-tui/2", "policy": {}}', "is one policy's reach (export --policy)"),
        ('{"format": "orgtree-tui-diff/1", "changes": []}', "is not an orgtree-tui JSON export"),
        ('{"format": "orgtree-tui/2"}', "is not a valid orgtree-tui/2 export (no 'tree')"),
        ('{"format": "orgtree-tui/1", "tree": {"id": "r-1"}}', "export (no 'tags')"),
    ],
)
def test_a_file_that_is_not_an_export_is_one_line_and_exit_2(
    content: str, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, out, err = run(["diff", str(bad), str(bad)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"orgtree-tui: error: {bad} ") and says in err


def test_a_file_too_large_to_be_an_export_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The real cap is 1 GiB; a small one shows the same rule without writing a gigabyte.
    monkeypatch.setattr("orgtree_tui.drift_sides.MAX_BYTES", 1000, raising=False)
    big = tmp_path / "big.json"
    big.write_text(" " * 1000 + '{"format": "orgtree-tui/2"}')
    code, out, err = run(["diff", str(big), str(big)], capsys)
    assert (code, out) == (2, "")
    assert err == f"orgtree-tui: error: {big} is larger than 1,000 bytes: too large for an export\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["diff", "one.json"], "diff takes two JSON exports"),
        (["diff", "a.json", "b.json", "c.json"], "diff takes two JSON exports"),
        (["diff", "--format", "csv"], "invalid choice"),
        (["diff", "missing.json", "missing.json"], "cannot read missing.json"),
        (["diff", "--profile", "a", "--profile", "b"], "diff compares one organization"),
        (["diff", "a.json", "b.json", "--profile", "prod"], "--profile is for a diff against a"),
        (["--demo", "diff", "a.json", "b.json"], "--demo is for a diff against a fresh crawl"),
        (["diff", "a.json", "b.json", "--no-details"], "--no-details is for a diff against"),
        (["diff", "--cache-ttl", "15m"], "diff always crawls to compare with the cached tree"),
        (["diff", "--demo"], "; a crawl creates it (the app, or export without --cached)"),
    ],
)
def test_usage_errors(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2 and err.count("\n") == 1 and says in err


def test_diff_help_does_not_offer_several_organizations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["diff", "--help"], capsys)
    assert code == 0 and "--profile PROFILE" in out
    assert "several organizations" not in " ".join(out.split())


def test_a_bad_flag_points_at_the_subcommands_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["diff", "--format", "csv"], capsys)
    assert code == 2 and err.endswith("(see orgtree-tui diff --help)\n")


def test_the_cache_against_a_fresh_crawl(
    sim: tuple[SimServer, Ids], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ids = sim
    url = server.endpoint_url
    code, _, err = run(["diff", "--endpoint-url", url, "-q"], capsys)
    assert code == 2 and "no cached tree for" in err  # nothing to compare with yet
    export(url, tmp_path / "first.json", capsys)  # an export saves the cache
    change(server.admin_client(), ids)
    code, out, _ = run(["diff", "--endpoint-url", url, "-q", "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    assert report["changes"] == expected(ids)
    assert report["old"]["source"].startswith("cache (") and report["new"]["source"] == "crawl"
    # The crawl became the cached tree: nothing changed since.
    code, out, _ = run(["diff", "--endpoint-url", url, "-q"], capsys)
    assert code == 0 and out.splitlines()[-1] == "no changes"


def test_no_cache_leaves_the_cached_tree_as_it_was(
    sim: tuple[SimServer, Ids], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ids = sim
    url = server.endpoint_url
    export(url, tmp_path / "first.json", capsys)
    change(server.admin_client(), ids)
    for _ in range(2):
        code, _, _ = run(["diff", "--endpoint-url", url, "-q", "--no-cache"], capsys)
        assert code == 1


def test_a_crawl_that_lacks_tags_is_partial(
    sim: tuple[SimServer, Ids], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ids = sim
    url = server.endpoint_url
    export(url, tmp_path / "first.json", capsys)
    change(server.admin_client(), ids)
    server.middleware.fault = lambda op: (
        Fault.error("AccessDeniedException") if op == "ListTagsForResource" else None
    )
    code, out, err = run(["diff", "--endpoint-url", url, "-q", "--format", "json"], capsys)
    assert code == 2 and "orgtree-tui: partial comparison: crawl: tags of" in err
    report = json.loads(out)
    assert report["partial"] is True and report["new"]["complete"] is False
    # Everything but the tag changes is still found; the tags are listed as not compared.
    assert report["changes"] == [c for c in expected(ids) if c["kind"] != "tags"]
    assert {u["what"] for u in report["not_compared"]} == {"tags"}
    assert {(u["side"], u["reason"]) for u in report["not_compared"]} == {("new", "denied")}


def test_a_closed_stdout_ends_quietly_with_141(files: tuple[Path, Path, Ids]) -> None:
    old, new, _ = files
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader, before the process starts: every write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "orgtree_tui", "diff", str(old), str(new)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(PACKAGE_HOME)},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")
