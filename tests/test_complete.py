"""What "complete" means, everywhere: the crawl outcome, every export format, the CLI's exit
status and stderr line, the cache. Missing tags, SCPs or policy targets make a crawl
incomplete unless it was not asked for them (`--no-details`).

Expectations come from what the tests did to the endpoint (which calls were refused, how
often), the organization they built, and hand-written literals.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from orgtree_tui.aws import make_client
from orgtree_tui.cache import store
from orgtree_tui.connection import Connection
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.crawl.topics import BranchError
from orgtree_tui.export import render
from orgtree_tui.identity import open_session
from orgtree_tui.main import main
from orgtree_tui.sim.server import SimServer
from orgtree_tui.sim.throttle import Fault

from orgs import Built, OrgBuilder

DENIED = "AccessDeniedException"
MANAGEMENT = "123456789012"  # moto's own account: the organization's management account


@pytest.fixture
def sim() -> Iterator[tuple[SimServer, Built]]:
    """Root > Workloads > Prod (payments, search), Root > Sandbox (sandbox-ana), and the
    management account under the root: 8 nodes."""
    with SimServer(latency=(0.0, 0.0), throttle=False) as server:
        org = OrgBuilder(server.admin_client())
        workloads = org.ou("Workloads", tags={"Owner": "platform"})
        prod = org.ou("Prod", workloads)
        org.account("payments", prod, tags={"Env": "prod"})
        org.account("search", prod)
        org.account("sandbox-ana", org.ou("Sandbox"))
        yield server, org.built


def every_node(built: Built) -> set[str]:
    return {built.root_id, MANAGEMENT, *built.parents}


def crawler_for(server: SimServer, **options: Any) -> Crawler:
    conn = Connection(endpoint_url=server.endpoint_url, access_key="testing", secret_key="testing")
    return Crawler(
        make_client(conn, session=open_session(conn)), CrawlOptions(**options), connection=conn
    )


def refuse_first(server: SimServer, operation: str, times: int) -> None:
    """The first `times` calls of `operation` are refused (AccessDenied is never retried)."""
    lock, sent = threading.Lock(), {"n": 0}

    def hook(op: str) -> Fault | None:
        if op != operation:
            return None
        with lock:
            sent["n"] += 1
            return Fault.error(DENIED) if sent["n"] <= times else None

    server.middleware.fault = hook


def refuse(server: SimServer, *operations: str) -> None:
    server.middleware.fault = lambda op: Fault.error(DENIED) if op in operations else None


# -- the crawl outcome ---------------------------------------------------------------------


def test_refused_tags_make_the_crawl_incomplete(sim: tuple[SimServer, Built]) -> None:
    server, built = sim
    refuse_first(server, "ListTagsForResource", 2)
    crawler = crawler_for(server)
    outcome = crawler.run()

    assert outcome.state is CrawlState.INCOMPLETE
    assert outcome.incomplete == {}  # every branch was listed
    assert len(outcome.gaps.tags) == 2
    assert set(outcome.gaps.tags) <= every_node(built)
    assert {str(r) for r in outcome.gaps.tags.values()} == {"denied"}
    assert outcome.gaps.policies == {} and outcome.gaps.structure == {}
    assert outcome.gaps.summary() == "tags of 2 nodes not permitted"


def test_refused_policies_make_the_crawl_incomplete(sim: tuple[SimServer, Built]) -> None:
    server, built = sim
    refuse(server, "ListPolicies", "ListTargetsForPolicy", "ListPoliciesForTarget")
    outcome = crawler_for(server).run()
    assert outcome.state is CrawlState.INCOMPLETE
    assert set(outcome.gaps.policies) == every_node(built)
    assert outcome.gaps.summary() == "policies of 8 nodes not permitted"


def test_a_structure_only_crawl_lacks_details_on_purpose(sim: tuple[SimServer, Built]) -> None:
    server, _ = sim
    refuse(server, "ListPolicies", "ListTagsForResource")  # never called without details
    outcome = crawler_for(server, details=False).run()
    assert outcome.state is CrawlState.COMPLETE
    assert not outcome.gaps


def test_a_policy_whose_targets_failed_makes_the_crawl_incomplete(
    sim: tuple[SimServer, Built], tmp_path: Path
) -> None:
    """The interface the crawl uses when one policy's ListTargetsForPolicy fails."""
    server, _ = sim
    crawler = crawler_for(server)
    sent: list[bool] = []

    def after_the_first_policy_listing(node_id: str, policies: Any, policy_type: str) -> None:
        if not sent:
            sent.append(True)
            error = BranchError(
                node_id="p-deleted1",
                part="policy_targets",
                operation="ListTargetsForPolicy",
                code="PolicyNotFoundException",
                message="deleted mid-crawl",
                denied=False,
            )
            crawler.publisher.sendMessage(topics.BRANCH_ERROR, error=error)

    crawler.publisher.subscribe(after_the_first_policy_listing, topics.POLICIES)
    outcome = crawler.run()

    assert sent, "the crawl published policies"
    assert outcome.state is CrawlState.INCOMPLETE
    assert {k: str(v) for k, v in outcome.gaps.policy_targets.items()} == {"p-deleted1": "failed"}
    assert outcome.gaps.policies == {}  # every node's list arrived, maybe short of that one
    root = crawler.tree.roots()[0].id
    doc = json.loads(render(crawler.tree, root, "json", complete=True))
    assert doc["complete"] is False
    assert doc["incomplete"]["policy_targets"] == {"p-deleted1": "failed"}

    # A warm start keeps it.
    path = store.save(
        crawler.tree, source="profile x", complete=False, crawled_at=_now(), path=tmp_path / "c"
    )
    cached = store.load("profile x", path=path).cached
    assert cached is not None
    again = json.loads(render(cached.tree, root, "json", complete=True))
    assert again["incomplete"] == doc["incomplete"]


def test_a_stopped_crawl_says_its_details_were_not_fetched(sim: tuple[SimServer, Built]) -> None:
    server, built = sim
    crawler = crawler_for(server)

    def stop_at_the_first_account(node: Any) -> None:
        crawler.cancel()

    crawler.publisher.subscribe(stop_at_the_first_account, topics.ACCOUNT)
    outcome = crawler.run()
    assert outcome.state is CrawlState.CANCELLED
    reasons = {
        str(r) for kind in ("tags", "policies") for r in getattr(outcome.gaps, kind).values()
    }
    assert "not fetched" in reasons
    assert set(outcome.gaps.tags) <= every_node(built)


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


# -- the CLI: exit status 3, one stderr line, every format ------------------------------------


def _stderr_lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    captured = capsys.readouterr()
    return captured.out, [line for line in captured.err.splitlines() if line.strip()]


def test_an_incomplete_export_exits_3_after_one_line(
    sim: tuple[SimServer, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    server, built = sim
    refuse(server, "ListPolicies", "ListTargetsForPolicy", "ListPoliciesForTarget")
    code = main(["export", "--endpoint-url", server.endpoint_url, "-q", "--no-cache"])
    out, err = _stderr_lines(capsys)
    assert code == 3
    assert err == ["orgtree-tui: incomplete: policies of 8 nodes not permitted"]
    doc = json.loads(out)  # written all the same
    assert doc["complete"] is False
    assert doc["incomplete"] == {
        "structure": {},
        "tags": {},
        "policies": dict.fromkeys(doc["incomplete"]["policies"], "denied"),
        "policy_targets": {},
        "organization": {},
    }
    assert set(doc["incomplete"]["policies"]) == every_node(built)


def test_allow_incomplete_exits_0_and_still_says_what_is_missing(
    sim: tuple[SimServer, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = sim
    refuse_first(server, "ListTagsForResource", 1)
    argv = ["export", "--endpoint-url", server.endpoint_url, "-q", "--no-cache"]
    assert main([*argv, "--allow-incomplete"]) == 0
    _, err = _stderr_lines(capsys)
    assert err == ["orgtree-tui: warning: incomplete: tags of 1 node not permitted"]


def test_a_complete_export_exits_0_and_a_structure_only_one_too(
    sim: tuple[SimServer, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = sim
    argv = ["export", "--endpoint-url", server.endpoint_url, "-q", "--no-cache"]
    assert main(argv) == 0
    assert main([*argv, "--no-details"]) == 0
    _, err = _stderr_lines(capsys)
    assert err == []


def test_usage_errors_stay_2(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["export", "--allow-incomplete", "--format", "xml"])
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    assert code == 2


def test_a_cached_incomplete_tree_exports_with_status_3(
    sim: tuple[SimServer, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = sim
    refuse_first(server, "ListTagsForResource", 2)
    argv = ["export", "--endpoint-url", server.endpoint_url, "-q"]
    assert main(argv) == 3
    capsys.readouterr()
    assert main([*argv, "--cached"]) == 3
    out, err = _stderr_lines(capsys)
    assert err == ["orgtree-tui: incomplete: tags of 2 nodes not permitted"]
    assert len(json.loads(out)["incomplete"]["tags"]) == 2


@pytest.mark.parametrize("fmt", ["json", "csv", "text", "mermaid", "dot", "graphml"])
def test_every_format_says_it_is_incomplete(
    fmt: str, sim: tuple[SimServer, Built], tmp_path: Path
) -> None:
    server, built = sim
    refuse_first(server, "ListTagsForResource", 1)
    target = tmp_path / f"org.{fmt}"
    argv = ["export", "--endpoint-url", server.endpoint_url, "-q", "--no-cache"]
    assert main([*argv, "--format", fmt, "-o", str(target)]) == 3
    text = target.read_text(encoding="utf-8")
    line = "incomplete: tags of 1 node not permitted"
    if fmt == "json":
        tags = json.loads(text)["incomplete"]["tags"]
        assert list(tags.values()) == ["denied"] and set(tags) <= every_node(built)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        states = {r["id"]: r["tags_state"] for r in rows if r["tags_state"]}
        assert list(states.values()) == ["denied"]
        assert all(r["policies_state"] == "" for r in rows)
    elif fmt == "graphml":
        graph = nx.read_graphml(target)
        assert graph.graph["complete"] is False
        assert graph.graph["missing"] == "tags of 1 node not permitted"
        denied = [n for n, data in graph.nodes(data=True) if data.get("tags_state") == "denied"]
        assert len(denied) == 1
    elif fmt == "text":
        assert text.splitlines()[-1] == f"({line})"
    elif fmt == "mermaid":
        assert f"    %% {line}" in text.splitlines()
    else:
        assert f"    // {line}" in text.splitlines()
        if shutil.which("dot"):  # the note is a comment Graphviz ignores
            subprocess.run(["dot", "-Tsvg", str(target)], check=True, capture_output=True)


def test_a_grouped_export_names_the_organization_that_lacks_something(
    sim: tuple[SimServer, Built], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    server, _ = sim
    config = tmp_path / "config"
    config.write_text("[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n")
    refuse(server, "ListPolicies", "ListTargetsForPolicy", "ListPoliciesForTarget")
    creds = tmp_path / "credentials"
    keys = "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    creds.write_text(f"[a]\n{keys}[b]\n{keys}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_CONFIG_FILE", str(config))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
        argv = ["--endpoint-url", server.endpoint_url, "--profile", "a", "--profile", "b"]
        code = main(["export", *argv, "-q", "--no-cache"])
    out, err = _stderr_lines(capsys)
    assert code == 3, err
    doc = json.loads(out)
    assert doc["complete"] is False
    assert [len(d["incomplete"]["policies"]) for d in doc["organizations"]] == [8, 8]
    org = doc["organizations"][0]["organization"]["id"]
    missing = f"{org}: policies of 8 nodes not permitted"
    assert err[-1] == f"orgtree-tui: incomplete: {missing}; {missing}"
