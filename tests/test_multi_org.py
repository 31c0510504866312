"""Several organizations at once: `--profile a --profile b`, each an AWS profile that
assumes a role in its own management account (moto in-process keeps the accounts apart)."""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from test_cli import one_error_line
from test_identity import create_org_as

from orgtree_tui.cli import parse_args
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.main import main
from orgtree_tui.model import OrgTree
from orgtree_tui.progress import ProgressLine
from orgtree_tui.source import connections, open_sources, source_labels, with_profile

ACCOUNTS = {"org-a": "111111111111", "org-b": "222222222222", "no-org": "333333333333"}


def role(profile: str) -> str:
    return f"arn:aws:iam::{ACCOUNTS[profile]}:role/OrgReader"


@pytest.fixture
def orgs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Profiles org-a and org-b reach one organization each; no-org reaches none."""
    config = tmp_path / "config"
    config.write_text(
        "".join(
            f"[profile {name}]\nrole_arn = {role(name)}\nsource_profile = base\n\n"
            for name in ACCOUNTS
        )
    )
    creds = tmp_path / "credentials"
    creds.write_text("[base]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    with mock_aws():
        ids = {name: create_org_as(role(name)) for name in ("org-a", "org-b")}
        yield ids


def export(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["export", "-q", "--profile", "org-a", "--profile", "org-b", *argv]) == 0
    return capsys.readouterr().out


def test_options_keep_every_profile_in_order() -> None:
    options = parse_args(["--profile", "b", "--profile", "a"])
    assert options.profiles == ("b", "a") and options.profile == "b"
    assert [c.profile for c in connections(options)] == ["b", "a"]
    assert source_labels(options) == ["profile b", "profile a"]
    # On one endpoint too, each profile is its own organization with its own cache.
    options = parse_args(["--profile", "b", "--profile", "a", "--endpoint-url", "http://h:1"])
    assert source_labels(options) == ["profile b @ http://h:1", "profile a @ http://h:1"]
    assert with_profile(connections(options)[0], "c").profile == "c"


def test_json_lists_each_organization_document(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(export(capsys))
    assert document["format"] == "orgtree-tui/2"
    assert document["complete"] is True
    found = [
        (d["organization"]["id"], d["organization"]["management_account_id"])
        for d in document["organizations"]
    ]
    assert found == [(orgs["org-a"], ACCOUNTS["org-a"]), (orgs["org-b"], ACCOUNTS["org-b"])]
    for doc in document["organizations"]:
        assert doc["format"] == "orgtree-tui/2"  # each is a whole single-org document
        assert "member" in [c["name"] for c in doc["tree"]["children"]]


def test_two_profiles_on_one_organization_get_a_warning(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path(os.environ["AWS_CONFIG_FILE"])
    config.write_text(
        config.read_text() + f"[profile org-a-too]\nrole_arn = {role('org-a')}\n"
        "source_profile = base\n"
    )
    assert main(["export", "-q", "--profile", "org-a", "--profile", "org-a-too"]) == 0
    err = capsys.readouterr().err
    assert f"profile org-a and profile org-a-too reach the same organization {orgs['org-a']}" in err
    assert main(["export", "-q", "--profile", "org-a", "--profile", "org-b"]) == 0
    assert "same organization" not in capsys.readouterr().err


def test_csv_puts_the_organization_first(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(csv.DictReader(io.StringIO(export(capsys, "--format", "csv"), newline="")))
    assert next(iter(rows[0])) == "organization_id"
    by_org: dict[str, list[str]] = {}
    for row in rows:
        by_org.setdefault(row["organization_id"], []).append(row["type"])
    assert set(by_org) == set(orgs.values())
    assert all(types[0] == "ROOT" and "ACCOUNT" in types for types in by_org.values())


def test_text_draws_one_tree_per_organization(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = export(capsys, "--format", "text")
    headers = [line for line in text.splitlines() if line.startswith("# organization")]
    assert headers == [
        f"# organization {orgs[p]} (management account {ACCOUNTS[p]})" for p in ("org-a", "org-b")
    ]
    assert text.count("\nRoot (r-") == 2


def test_a_subtree_path_is_taken_from_every_organization_that_has_it(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(export(capsys, "--subtree", "/Root/member"))
    assert len(document["organizations"]) == 2
    assert {d["tree"]["name"] for d in document["organizations"]} == {"member"}
    account = document["organizations"][1]["tree"]["id"]
    # An id lives in one organization only; the grouped shape stays for scripts.
    document = json.loads(export(capsys, "--subtree", account))
    assert [d["organization"]["id"] for d in document["organizations"]] == [orgs["org-b"]]
    assert (
        main(
            ["export", "-q", "--profile", "org-a", "--profile", "org-b", "--subtree", "/Root/Nope"]
        )
        == 2
    )
    assert "in any of the organizations" in one_error_line(capsys)


def test_an_organization_that_fails_is_named(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "-q", "--profile", "org-a", "--profile", "no-org"]) == 2
    line = one_error_line(capsys)
    assert line.startswith("orgtree-tui: error: profile no-org: ")
    assert "not a member of an AWS Organization" in line
    assert "profile org-a" not in line


def test_cached_export_of_several_organizations(
    orgs: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    live = json.loads(export(capsys))
    cached = json.loads(export(capsys, "--cached"))
    assert cached == live


def test_each_organization_has_its_own_client_and_crawls_at_the_same_time(
    orgs: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    options = parse_args(["--profile", "org-a", "--profile", "org-b"])
    sources = open_sources(options)
    assert len({id(s.client) for s in sources}) == 2
    assert [s.caller_identity().account for s in sources] == [ACCOUNTS["org-a"], ACCOUNTS["org-b"]]
    for s in sources:
        s.close()
    # Both crawls must be under way together: each waits at its start for the other.
    barrier = threading.Barrier(2, timeout=10)
    real_run = Crawler.run

    def run(self: Crawler) -> Any:
        barrier.wait()
        return real_run(self)

    monkeypatch.setattr(Crawler, "run", run)
    json.loads(export(capsys))


def test_progress_line_sums_every_organization() -> None:
    stream = io.StringIO()
    trees = [OrgTree(), OrgTree()]
    line = ProgressLine(trees, stream)
    listeners = [line.listener(0), line.listener(1)]
    publishers = [topics.new_publisher(), topics.new_publisher()]
    for publisher, listener in zip(publishers, listeners, strict=True):
        publisher.subscribe(listener, topics.PROGRESS)
    publishers[0].sendMessage(topics.PROGRESS, stats=CrawlStats(calls={"ListRoots": 3}))
    publishers[1].sendMessage(topics.PROGRESS, stats=CrawlStats(calls={"ListChildren": 4}))
    assert "2 orgs" in stream.getvalue()
    assert stream.getvalue().rsplit("\r", 1)[1].count("calls 7") == 1
