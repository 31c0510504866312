"""The Python API: the README's example run as written against moto, and each function
checked against an organization built by hand."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from test_tools import readme_block

from orgtree_tui import api
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.main import main
from orgtree_tui.sim.server import SimServer

from drift_fixtures import build, change, expected


def test_the_readme_example_runs_against_moto(
    moto_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = build(moto_client)
    # The example diffs against the last crawl's cache: one crawl first, then a week's changes.
    first = api.crawl()
    assert first.complete and first.label == "default credentials"
    assert api.save_cache(first) is not None
    change(moto_client, ids)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_block("python-api"), "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    # The walk: every account, indented by depth (the root is depth 0).
    assert f"    sandbox-ana {ids.ana} SUSPENDED" in lines
    assert f"      search {ids.search} ACTIVE" in lines
    # The changes, one line each, in the report's order.
    said = [line for line in lines if line.split(" ")[0] in {c["kind"] for c in expected(ids)}]
    assert said == [f"{c['kind']} {c['id']} {c['name']}" for c in expected(ids)]
    assert "## Organization changes" in lines
    written = json.loads((tmp_path / "org.json").read_text())
    assert written["format"] == "orgtree-tui/2" and written["complete"] is True
    # save_cache replaced the cache: it now holds the tree after the changes.
    assert api.diff(api.load_cache(), api.crawl()).changes == ()


def test_walk_goes_depth_first_in_export_order(moto_client: Any) -> None:
    ids = build(moto_client)
    result = api.run_crawl(api.new_crawler(boto3.client("organizations")), "test")
    walked = [(v.depth, v.node.name, v.path) for v in api.walk(result)]
    assert walked[:4] == [
        (0, "Root", "/Root"),
        (1, "Legacy", "/Root/Legacy"),
        (2, "old-app", "/Root/Legacy/old-app"),
        (1, "Sandbox", "/Root/Sandbox"),
    ]
    assert [v.node.id for v in api.walk(result, "/Root/Workloads")] == [
        ids.workloads, ids.prod, ids.payments, ids.search
    ]  # fmt: skip


def test_progress_callbacks_and_cancel(moto_client: Any) -> None:
    build(moto_client)
    seen: list[CrawlStats] = []
    result = api.crawl(on_progress=seen.append)
    assert result.complete and seen and seen[-1].total_calls > 0
    stop = threading.Event()
    stop.set()  # cancelled before it starts: nothing to save over a cached tree
    stopped = api.crawl(cancel_event=stop)
    assert not stopped.finished


def test_export_to_a_string_or_a_path(moto_client: Any, tmp_path: Path) -> None:
    ids = build(moto_client)
    result = api.crawl()
    text = api.export(result, "text", subtree="/Root/Workloads")
    assert text.splitlines()[1:3] == [f"Workloads ({ids.workloads})", f"└── Prod ({ids.prod})"]
    written = api.export_to(result, tmp_path / "w.csv", "csv", subtree=ids.workloads)
    assert (written.ous, written.accounts) == (2, 2)
    with pytest.raises(api.ExportError, match="already exists"):
        api.export_to(result, tmp_path / "w.csv", "csv")
    with pytest.raises(api.ExportError, match="no root, OU or account '/Root/Nope'"):
        api.export(result, subtree="/Root/Nope")


def test_load_cache_without_one_says_so() -> None:
    with pytest.raises(api.CacheError, match="no cached tree for default credentials"):
        api.load_cache()


def test_a_subtree_crawl_is_not_cached(moto_client: Any) -> None:
    build(moto_client)
    scoped = api.crawl(subtree="/Root/Workloads")
    assert scoped.complete and api.save_cache(scoped) is None


def test_aws_endpoint_url_keys_the_cache_as_the_command_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimServer(latency=(0.0, 0.0), throttle=False) as server:
        build(server.admin_client())
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
        # The command's crawl saves the cache under the endpoint it followed...
        assert main(["export", "-q", "-o", str(tmp_path / "org.json")]) == 0, capsys.readouterr()
        # ...and a script reading the same environment finds that file, never the real
        # default credentials' one.
        assert api.load_cache().tree.organization is not None
        assert api.crawl().label == server.endpoint_url
    with pytest.raises(api.CacheError, match="no cached tree for default credentials"):
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        api.load_cache()


def test_render_diff_refuses_an_unknown_format_in_one_line() -> None:
    drift = api.diff(_document("Old"), _document("New"))
    assert [c.kind for c in drift.changes] == ["renamed"]
    with pytest.raises(ValueError, match=r"^unknown diff format 'xml'; choose one of text, json"):
        api.render_diff(drift, "xml")


def _document(root_name: str) -> dict[str, Any]:
    # The smallest /2 export: a root and nothing else.
    root = {"id": "r-ab12", "type": "ROOT", "name": root_name, "path": f"/{root_name}"}
    tree = {**root, "tags": {}, "policies": {}, "children": []}
    return {
        "format": "orgtree-tui/2",
        "organization": {"id": "o-x"},
        "tree": tree,
        "complete": True,
    }
