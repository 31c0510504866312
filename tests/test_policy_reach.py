"""`export --policy NAME_OR_ID`: the nodes one policy applies to, attached or inherited, with
where from; expectations written out from `policy_org` by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from orgtree_tui.main import main
from orgtree_tui.sim.server import SimServer

from orgs import PolicyOrg, policy_org


@pytest.fixture
def endpoint() -> Iterator[tuple[str, PolicyOrg]]:
    with SimServer(latency=(0.0, 0.0), throttle=False) as sim:
        yield sim.endpoint_url, policy_org(sim.admin_client())


def _export(url: str, *extra: str) -> list[str]:
    return ["export", "--endpoint-url", url, "-q", "--no-cache", *extra]


def test_the_reach_of_an_scp_attached_two_levels_up(
    endpoint: tuple[str, PolicyOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    url, org = endpoint
    b = org.built
    workloads, prod, app = b.ous["Workloads"], b.ous["Prod"], b.accounts["app-prod"]
    assert main(_export(url, "--policy", "DenyRegions")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["policy"] == {
        "id": org.policies["DenyRegions"],
        "name": "DenyRegions",
        "type": "SERVICE_CONTROL_POLICY",
        "aws_managed": False,
    }
    assert doc["complete"] is True
    assert doc["attached_to"] == [workloads]
    assert [(n["id"], n["from"]) for n in doc["applies_to"]] == [
        (workloads, [workloads]),
        (prod, [workloads]),
        (app, [workloads]),
    ]
    assert doc["accounts"] == 1
    # By id, as text: the same nodes, each saying how.
    assert main(_export(url, "--policy", org.policies["DenyRegions"], "--format", "text")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# DenyRegions (") and "applies to 1 accounts" in lines[0]
    assert lines[1:] == [
        f"/Root/Workloads ({workloads}): attached",
        f"/Root/Workloads/Prod ({prod}): inherited from {workloads}",
        f"/Root/Workloads/Prod/app-prod ({app}): inherited from {workloads}",
    ]


def test_a_policy_attached_at_the_root_applies_to_every_node(
    endpoint: tuple[str, PolicyOrg], capsys: pytest.CaptureFixture[str]
) -> None:
    url, org = endpoint
    assert main(_export(url, "--policy", "DenyLeave")) == 0
    doc = json.loads(capsys.readouterr().out)
    every = {org.built.root_id, *org.built.ous.values(), *org.built.accounts.values()}
    management = {n["id"] for n in doc["applies_to"]} - every
    assert len(management) == 1  # the management account, which the builder did not make
    assert all(n["from"] == [org.built.root_id] for n in doc["applies_to"])
    assert doc["accounts"] == 3


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--policy", "NoSuchPolicy"], "no policy with the id or name 'NoSuchPolicy'"),
        (["--policy", "DenyLeave", "--format", "csv"], "--policy writes json or text"),
    ],
)
def test_a_policy_that_is_not_there_is_one_line_and_exit_2(
    endpoint: tuple[str, PolicyOrg],
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    says: str,
) -> None:
    url, _ = endpoint
    assert main(_export(url, *extra)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and says in err[0], err
