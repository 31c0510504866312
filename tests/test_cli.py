"""The command line: headless export end to end, and one-line errors with exit status 2."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgtree_tui import __version__
from orgtree_tui.cli import parse_args
from orgtree_tui.main import main
from orgtree_tui.options import UsageError
from orgtree_tui.sim.server import SimServer

from orgs import Built, OrgBuilder


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Built]]:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        org = OrgBuilder(sim.admin_client())
        workloads = org.ou("Workloads", tags={"Owner": "platform"})
        prod = org.ou("Prod", workloads)
        org.account("payments", prod, tags={"Env": "prod"})
        org.account("search", prod)
        org.account("sandbox-ana", org.ou("Sandbox"))
        yield sim.endpoint_url, org.built


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--bogus"], "unrecognized arguments"),
        (["--workers", "0"], "between 1 and 64"),
        (["--workers", "many"], "whole number"),
        (["--endpoint-url", "not a url"], "invalid endpoint URL"),
        (["export", "--format", "xml"], "invalid choice"),
        (["--demo", "--profile", "x"], "--demo cannot be combined"),
        (["--cache-ttl", "soon"], "expected a duration"),
        (["export", "--cached", "--no-cache"], "--cached cannot be combined"),
        (["export", "--demo", "--subtree", ""], "--subtree: empty"),
        (["export", "--demo", "--subtree", " \t"], "--subtree: empty"),
        (["export", "--demo", "--subtree", "Root/Workloads"], "a name path like /Root/OU"),
        (["export", "--demo", "--subtree", "ou-1"], "an OU id (ou-"),
        (["export", "--demo", "--subtree", " r-ncf1"], "a root id (r-"),
        (["export", "--demo", "--subtree", "12345678901"], "a 12-digit account id"),
        (["export", "--demo", "--subtree", "o-abcdefghij"], "a root id (r-"),
        (["export", "--demo", "--subtree", "/"], "--subtree: '/' names no root, OU or account"),
        (["export", "--demo", "--subtree", "//"], "--subtree: '//' names no root"),
        (["export", "--demo", "-o", ""], "--output: empty output path"),
        (["--region", "no such region!"], "--region: expected an AWS region like eu-west-1"),
        (["--region", ""], "--region: expected an AWS region"),
        (["--region", "EU-WEST-1"], "--region: expected an AWS region"),
        (["export", "--region", "eu-west"], "--region: expected an AWS region"),
    ],
)
def test_bad_flags_get_one_line_and_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code  # type: ignore[assignment]
    assert code == 2
    assert says in one_error_line(capsys)


@pytest.mark.parametrize(
    "flags",
    [
        ["--demo"],
        ["--workers", "3", "--no-details", "--region", "eu-west-1"],
        ["--profile", "a", "--profile", "b", "--cache-ttl", "15m", "--no-cache"],
        ["--profile", "a", "--role-arn", "arn:aws:iam::123456789012:role/R", "--external-id", "x1"],
        ["--endpoint-url", "http://127.0.0.1:9", "--role-session-name", "me"],
    ],
)
def test_shared_flags_mean_the_same_before_and_after_export(flags: list[str]) -> None:
    after = parse_args(["export", *flags])
    before = parse_args([*flags, "export"])
    assert before == after
    assert after != parse_args(["export"])  # the flags did something


@pytest.mark.parametrize(
    "subtree",
    [
        "r-ncf1",
        "r-" + "a1" * 16,
        "ou-ncf1-58z6tnov",
        "ou-" + "a" * 32 + "-" + "0" * 32,
        "123456789012",
        "/Root",
        "/Root/Workloads/Prod",
        "/Root/My OU ",  # AWS allows spaces at the end of a name
        "/Root/A\\/B",  # a slash inside a name, escaped
    ],
)
def test_every_subtree_form_the_tree_can_find_is_accepted(subtree: str) -> None:
    assert parse_args(["export", "--subtree", subtree]).subtree == subtree


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-west-1",
        "us-gov-west-1",
        "cn-north-1",
        "eu-central-2",
        "il-central-1",
        "ap-southeast-5",
        "mx-central-1",
        "us-isob-east-1",
    ],
)
def test_every_region_shape_is_accepted(region: str) -> None:
    assert parse_args(["--region", region]).region == region
    assert parse_args(["export", "--region", region]).region == region


def test_profiles_before_and_after_export_add_up() -> None:
    assert parse_args(["--profile", "a", "export", "--profile", "b"]).profiles == ("a", "b")
    with pytest.raises(UsageError, match="twice"):
        parse_args(["--profile", "a", "export", "--profile", "a"])


def test_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--profile", "no-such-profile"]) == 2
    assert "unknown AWS profile 'no-such-profile'" in one_error_line(capsys)


def test_existing_file_needs_force_and_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "org.json"
    target.write_text("precious")
    code = main(["export", "--endpoint-url", "http://127.0.0.1:9", "-o", str(target)])
    assert code == 2
    assert "--force" in one_error_line(capsys)
    assert target.read_text() == "precious"


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nope" / "org.json"
    assert main(["export", "--endpoint-url", "http://127.0.0.1:9", "-o", str(target)]) == 2
    assert "nope" in one_error_line(capsys)
    assert not target.parent.exists()


def test_export_whole_org_to_stdout(
    endpoint: tuple[str, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    url, built = endpoint
    assert main(["export", "--endpoint-url", url, "-q"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "orgtree-tui/2"
    assert document["complete"] is True
    tree = document["tree"]
    assert tree["id"] == built.root_id
    assert [c["name"] for c in tree["children"]][:2] == ["Sandbox", "Workloads"]


def test_the_summary_counts_in_words(
    endpoint: tuple[str, Built], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = endpoint
    target = tmp_path / "prod.json"
    argv = ["--endpoint-url", url, "export", "--subtree", "/Root/Workloads/Prod", "-o", str(target)]
    assert main(argv) == 0
    assert f"wrote 1 OU and 2 accounts to {target}" in capsys.readouterr().err


def test_export_subtree_by_path_to_csv(endpoint: tuple[str, Built], tmp_path: Path) -> None:
    url, _ = endpoint
    target = tmp_path / "prod.csv"
    code = main(
        ["export", "--endpoint-url", url, "--subtree", "/Root/Workloads/Prod"]
        + ["--format", "csv", "-o", str(target), "-q"]
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["name"] for r in rows] == ["Prod", "payments", "search"]
    assert json.loads(rows[1]["tags"]) == {"Env": "prod"}
    assert target.stat().st_mode & 0o777 == 0o600


def test_export_subtree_by_id_with_force(endpoint: tuple[str, Built], tmp_path: Path) -> None:
    url, built = endpoint
    target = tmp_path / "w.txt"
    target.write_text("old")
    ou = built.ous["Workloads"]
    code = main(
        ["export", "--endpoint-url", url, "--subtree", ou, "--format", "text"]
        + ["-o", str(target), "--force", "-q"]
    )
    assert code == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("# organization o-")  # every export names its organization
    assert lines[1] == f"Workloads ({ou})"
    assert any("payments" in line for line in lines)


def test_unknown_subtree(endpoint: tuple[str, Built], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = endpoint
    assert main(["export", "--endpoint-url", url, "--subtree", "/Root/Nope", "-q"]) == 2
    assert "/Root/Nope" in one_error_line(capsys)


def test_not_in_an_organization(capsys: pytest.CaptureFixture[str]) -> None:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        assert main(["export", "--endpoint-url", sim.endpoint_url, "-q"]) == 2
    assert "not a member of an AWS Organization" in one_error_line(capsys)


def test_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--endpoint-url", "http://127.0.0.1:9", "-q"]) == 2
    assert "Could not reach" in one_error_line(capsys)


def test_export_saves_the_cache_and_cached_export_needs_no_aws(
    endpoint: tuple[str, Built], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = endpoint
    first = tmp_path / "live.json"
    assert main(["export", "--endpoint-url", url, "-o", str(first), "-q"]) == 0
    # The endpoint's port is closed after this point in real life; --cached must not care.
    second = tmp_path / "cached.json"
    code = main(["export", "--endpoint-url", url, "--cached", "-o", str(second)])
    assert code == 0
    assert "from the cache" in capsys.readouterr().err
    assert json.loads(second.read_text()) == json.loads(first.read_text())


def test_cached_export_without_a_cache_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["export", "--endpoint-url", "http://127.0.0.1:9", "--cached"]) == 2
    assert "no cached tree" in one_error_line(capsys)


def test_no_cache_writes_no_cache(endpoint: tuple[str, Built], tmp_path: Path) -> None:
    url, _ = endpoint
    assert main(["export", "--endpoint-url", url, "--no-cache", "-q"]) == 0
    assert main(["export", "--endpoint-url", url, "--cached", "-q"]) == 2


def test_cache_ttl_refuses_an_old_cache(
    endpoint: tuple[str, Built], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = endpoint
    assert main(["export", "--endpoint-url", url, "-q"]) == 0
    capsys.readouterr()
    assert main(["export", "--endpoint-url", url, "--cached", "--cache-ttl", "0s", "-q"]) == 2
    assert "older than --cache-ttl" in one_error_line(capsys)
    assert main(["export", "--endpoint-url", url, "--cached", "--cache-ttl", "1h", "-q"]) == 0
