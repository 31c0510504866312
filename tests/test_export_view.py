"""Policies in the GraphML, text, Mermaid and DOT exports (issue 13 item 9) and `--label`
templates (issue 15 item 3), read back by the tools people use: networkx, Graphviz's dot,
the strict Mermaid grammar. Expectations are written out by hand from `policy_org` and
from test_export's tree."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_crawl_trust import Faulty, error
from test_export import GOLDEN, LEGACY, PAYMENTS, UPDATE, WORKLOADS, build_tree
from test_tools import GROUPED, SVG, check_mermaid

from orgtree_tui.cli import main as cli_main
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.export import EXTENSIONS, render, render_grouped
from orgtree_tui.exporters.view import LabelError, LabelTemplate, View
from orgtree_tui.model import OrgTree

from conftest import FAST
from orgs import PolicyOrg, policy_org

POLICIES = View(policies=True)
FULL = "FullAWSAccess (p-FullAWSAccess) [AWS managed]"
RCP_FULL = "RCPFullAWSAccess (p-RCPFullAWSAccess) [AWS managed]"
TAG_DENIED = "tag policy attached: not known (not permitted)"


def _crawl(client: Any) -> OrgTree:
    crawler = Crawler(client, CrawlOptions(quotas=FAST))
    crawler.run()
    return crawler.tree


def _tag_policies_refused() -> Faulty:
    client = Faulty()

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "ListPolicies" and params.get("Filter") == "TAG_POLICY":
            return error("AccessDeniedException", op)
        return None

    client.fault = fault
    return client


def _block(lines: list[str], header: str) -> list[str]:
    """The policy lines printed under the node line `header`, up to the next node."""
    start = lines.index(header) + 1
    end = next(i for i in range(start, len(lines)) if "── " in lines[i] or i == len(lines) - 1)
    return lines[start:end]


# -- golden files: test_export's tree with --policies (regenerate with UPDATE_GOLDEN=1) --


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot"])
def test_golden_with_policies(fmt: str) -> None:
    got = render(build_tree(), WORKLOADS, fmt, complete=True, view=POLICIES)
    golden = GOLDEN / f"workloads-policies.{EXTENSIONS[fmt]}"
    if UPDATE:
        golden.write_text(got, encoding="utf-8", newline="")
    assert golden.read_text(encoding="utf-8") == got


# -- text ------------------------------------------------------------------------------


def test_text_policies_show_attached_and_inherited_from_each_ancestor(moto_client: Any) -> None:
    org: PolicyOrg = policy_org(moto_client)
    b, p = org.built, org.policies
    app, prod = b.accounts["app-prod"], b.ous["Prod"]
    text = render(_crawl(Faulty()), b.root_id, "text", complete=True, view=POLICIES)
    lines = text.splitlines()
    assert lines[1] == "# policy types: AI opt-out policy, RCP, SCP, tag policy"
    # app-prod is the last child of Prod, the last child of Workloads (Security comes before
    # it, the management account after it): its lines hang from Root's guide only.
    under_app = "│" + " " * 14
    assert _block(lines, f"│       └── app-prod ({app})") == [
        under_app + line
        for line in (
            f"AI opt-out policy attached: NoAi ({p['NoAi']})",
            f"RCP attached: {RCP_FULL}",
            f"RCP inherited from Root: {RCP_FULL}",
            f"RCP inherited from Workloads: {RCP_FULL}; RcpNoPublic ({p['RcpNoPublic']})",
            f"RCP inherited from Prod: {RCP_FULL}",
            f"SCP attached: DenyIam ({p['DenyIam']}); {FULL}",
            f"SCP inherited from Root: DenyLeave ({p['DenyLeave']}); {FULL}",
            f"SCP inherited from Workloads: DenyRegions ({p['DenyRegions']}); {FULL}",
            f"SCP inherited from Prod: {FULL}",
            f"tag policy inherited from Prod: CostCenter ({p['CostCenter']})",
        )
    ]
    # An OU with children: its lines run on the guide its children hang from.
    assert f"│       │  tag policy attached: CostCenter ({p['CostCenter']})" in _block(
        lines, f"│   └── Prod ({prod})"
    )
    # Without --policies the text export is what it always was.
    plain = render(_crawl(Faulty()), b.root_id, "text", complete=True)
    assert "attached" not in plain and f"│       └── app-prod ({app})" in plain.splitlines()


def test_a_subtree_says_what_its_top_inherits_from_above_by_name(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b, p = org.built, org.policies
    text = render(_crawl(Faulty()), b.ous["Prod"], "text", complete=True, view=POLICIES)
    assert f"│  SCP inherited from Workloads: DenyRegions ({p['DenyRegions']}); {FULL}" in (
        text.splitlines()
    )
    dot = render(_crawl(Faulty()), b.ous["Prod"], "dot", complete=True, view=POLICIES)
    top = next(line for line in dot.splitlines() if line.startswith(f'    "{b.ous["Prod"]}"'))
    assert "SCP inherited from Workloads: DenyRegions; FullAWSAccess [AWS managed]" in top


# -- refused: missing, never empty, in every format --------------------------------------


def test_refused_policies_show_as_not_known_in_every_format(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b = org.built
    tree = _crawl(_tag_policies_refused())
    every = {b.root_id, *b.ous.values(), *b.accounts.values(), "123456789012"}
    assert len(every) == 7  # root, Workloads, Prod, Security, app-prod, audit, management

    text = render(tree, b.root_id, "text", complete=True, view=POLICIES).splitlines()
    assert sum(line.endswith(TAG_DENIED) for line in text) == 7
    assert (
        sum(line.endswith("tag policy inherited: not known (Root: not permitted)") for line in text)
        == 6
    )
    assert not any("tag policy" in line and "none" in line for line in text)

    graph = nx.parse_graphml(render(tree, b.root_id, "graphml", complete=True))
    assert set(graph.nodes) == every
    for _, data in graph.nodes(data=True):
        assert "tag_policy_attached" not in data and "tag_policy_inherited" not in data
        assert "FullAWSAccess" in data["service_control_policy_attached"]
        assert data["policies_state"] == "denied"

    mermaid = render(tree, b.root_id, "mermaid", complete=True, view=POLICIES)
    nodes, _, _ = check_mermaid(mermaid)
    (classed,) = [line.split()[1] for line in mermaid.splitlines() if line.startswith("    class ")]
    assert set(classed.split(",")) == nodes and len(nodes) == 7
    assert mermaid.count("tag policy#58; not known (not permitted)") == 7

    dot = render(tree, b.root_id, "dot", complete=True, view=POLICIES)
    node_lines = [line for line in dot.splitlines() if "[label=" in line]
    assert len(node_lines) == 7
    assert all("tag policy: not known (not permitted)" in line for line in node_lines)
    assert all("style=dashed" in line for line in node_lines)


# -- graphml ------------------------------------------------------------------------


def test_networkx_reads_every_types_policies_and_the_organizations_facts(
    moto_client: Any,
) -> None:
    org = policy_org(moto_client)
    b, p = org.built, org.policies
    root, workloads, prod = b.root_id, b.ous["Workloads"], b.ous["Prod"]
    graph = nx.parse_graphml(render(_crawl(Faulty()), root, "graphml", complete=True))
    app = graph.nodes[b.accounts["app-prod"]]

    def pairs(key: str) -> list[tuple[str, str, bool, str]]:
        found = json.loads(app[key])
        return sorted((e["id"], e["name"], e["aws_managed"], e.get("from", "")) for e in found)

    assert pairs("service_control_policy_attached") == sorted(
        [(p["DenyIam"], "DenyIam", False, ""), ("p-FullAWSAccess", "FullAWSAccess", True, "")]
    )
    assert pairs("service_control_policy_inherited") == sorted(
        [
            (p["DenyLeave"], "DenyLeave", False, root),
            ("p-FullAWSAccess", "FullAWSAccess", True, root),
            (p["DenyRegions"], "DenyRegions", False, workloads),
            ("p-FullAWSAccess", "FullAWSAccess", True, workloads),
            ("p-FullAWSAccess", "FullAWSAccess", True, prod),
        ]
    )
    assert pairs("tag_policy_inherited") == [(p["CostCenter"], "CostCenter", False, prod)]
    assert pairs("tag_policy_attached") == []  # known to be none: an empty list, not absent
    assert pairs("aiservices_opt_out_policy_attached") == [(p["NoAi"], "NoAi", False, "")]
    assert not any("backup_policy_attached" in d for _, d in graph.nodes(data=True))
    (facts,) = json.loads(graph.graph["organizations"])
    assert facts["feature_set"] == "ALL"
    assert facts["policy_types"] == {
        "AISERVICES_OPT_OUT_POLICY": "ENABLED",
        "RESOURCE_CONTROL_POLICY": "ENABLED",
        "SERVICE_CONTROL_POLICY": "ENABLED",
        "TAG_POLICY": "ENABLED",
    }
    assert facts["delegated_administrators"] == [
        {
            "account_id": org.admin,
            "services": ["access-analyzer.amazonaws.com", "guardduty.amazonaws.com"],
        }
    ]
    assert facts["trusted_services"] == ["config.amazonaws.com"]


# -- dot and mermaid ------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graphviz_draws_attached_policies_and_tooltips_the_chain(moto_client: Any) -> None:
    org = policy_org(moto_client)
    b, p = org.built, org.policies
    dot = render(_crawl(Faulty()), b.root_id, "dot", complete=True, view=POLICIES)
    result = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr
    svg = ET.fromstring(result.stdout)
    nodes = {g.findtext(f"{SVG}title"): g for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}
    app = nodes[b.accounts["app-prod"]]
    texts = [t.text for t in app.iter(f"{SVG}text")]
    assert texts == [
        "app-prod",
        b.accounts["app-prod"],
        "AI opt-out policy: NoAi",
        "RCP: RCPFullAWSAccess [AWS managed]",
        "SCP: DenyIam; FullAWSAccess [AWS managed]",
    ]
    (link,) = list(app.iter(f"{SVG}a"))
    tip = link.get("{http://www.w3.org/1999/xlink}title", "").split("\n")
    assert f"SCP inherited from Workloads: DenyRegions ({p['DenyRegions']}); {FULL}" in tip
    assert f"tag policy inherited from Prod: CostCenter ({p['CostCenter']})" in tip


def test_mermaid_with_policies_is_valid_and_labels_each_nodes_attachments(
    moto_client: Any,
) -> None:
    org = policy_org(moto_client)
    b = org.built
    text = render(_crawl(Faulty()), b.root_id, "mermaid", complete=True, view=POLICIES)
    nodes, edges, _ = check_mermaid(text)
    assert len(nodes) == 7 and len(edges) == 6
    app = b.accounts["app-prod"]
    assert f'    n_{app}["app-prod<br/>{app}<br/>AI opt-out policy#58; NoAi<br/>' in text
    assert not any(line.startswith("    class ") for line in text.splitlines())  # all known


# -- labels ---------------------------------------------------------------------------


def test_label_fields_in_text_mermaid_and_dot() -> None:
    tree = build_tree()
    label = LabelTemplate.parse("{name} <{email}> {state}")
    text = render(tree, WORKLOADS, "text", complete=True, view=View(label)).splitlines()
    # An OU has no email: the empty field takes its brackets and a space with it.
    assert text[1:5] == [
        "Workloads",
        "├── Dev/Test [incomplete]",
        "│   └── evil\\x1b[31mred\\x1b[0m <aws+666666666666@example.com> ACTIVE",
        "├── Prod",
    ]
    assert "│   └── Legacy <aws+555555555555@example.com> SUSPENDED" in text
    every = LabelTemplate.parse("{type}|{id}|{path}|{arn}|{joined}|{tag:owner}|{{x}}")
    text = render(tree, WORKLOADS, "text", complete=True, view=View(every)).splitlines()
    assert (
        "│   │   └── account|444444444444|/Root/Workloads/Prod/Zürich 生产/"
        'Payments "core" <v2> & #1|arn:aws:organizations::111111111111:account/'
        "o-exampleorg/444444444444|2021-03-04T05:06:07+00:00|ops|{x}"
    ) in text
    assert text[1] == "ou|ou-ab12-wkl00001|/Root/Workloads|" + (
        "arn:aws:organizations::111111111111:ou/o-exampleorg/ou-ab12-wkl00001|||{x}"
    )
    mermaid = render(tree, WORKLOADS, "mermaid", complete=True, view=View(label))
    check_mermaid(mermaid)
    assert f'    n_{LEGACY}["Legacy #60;aws+555555555555@example.com#62; SUSPENDED"]' in mermaid
    dot = render(tree, WORKLOADS, "dot", complete=True, view=View(label))
    assert f'"{PAYMENTS}" [label="Payments \\"core\\" <v2> & #1 <aws+{PAYMENTS}@' in dot


@pytest.mark.parametrize(
    ("template", "ou", "account"),
    [
        ("{name} ({email})", "Workloads", "Legacy (aws+555555555555@example.com)"),
        ("{email} {name}", "Workloads", "aws+555555555555@example.com Legacy"),
        ("({email}) {name}", "Workloads", "(aws+555555555555@example.com) Legacy"),
        (
            "{name} [{email}] {state}",
            "Workloads",
            "Legacy [aws+555555555555@example.com] SUSPENDED",
        ),
        ("{name} {email} {state}", "Workloads", "Legacy aws+555555555555@example.com SUSPENDED"),
        ("{name}: {email}", "Workloads:", "Legacy: aws+555555555555@example.com"),
        ("<{email}>", "Workloads", "<aws+555555555555@example.com>"),
        ("{email}", "Workloads", "aws+555555555555@example.com"),
    ],
)
def test_an_empty_field_takes_its_brackets_and_a_space_with_it(
    template: str, ou: str, account: str
) -> None:
    text = render(
        build_tree(), WORKLOADS, "text", complete=True, view=View(LabelTemplate.parse(template))
    ).splitlines()
    assert text[1] == ou
    assert f"│   └── {account}" in text


@pytest.mark.parametrize(
    "template", ["{nme}", "{name", "name}", "{tag:}", "{}", "", "  ", "{Name}", "{name:>10}"]
)
def test_a_bad_template_is_refused(template: str) -> None:
    with pytest.raises(LabelError):
        LabelTemplate.parse(template)


# Any literal text around the fields (braces doubled, as the template language wants).
literal = st.text(max_size=12).map(lambda s: s.replace("{", "{{").replace("}", "}}"))


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(literal, literal)
def test_any_label_text_keeps_mermaid_and_dot_valid(before: str, after: str) -> None:
    template = f"{before}{{name}}{after}{{tag:owner}}"
    if not template.strip():
        return
    view = View(LabelTemplate.parse(template), policies=True)
    tree = build_tree()
    check_mermaid(render(tree, WORKLOADS, "mermaid", complete=True, view=view))
    dot = render(tree, WORKLOADS, "dot", complete=True, view=view)
    # One statement a line, and every quote inside a label escaped.
    assert dot.splitlines() == dot.split("\n")[:-1]
    for line in dot.splitlines():
        if "[label=" in line:
            assert line.replace("\\\\", "").replace('\\"', "").count('"') == 4 + 2 * (
                "tooltip=" in line
            ), line


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_graphviz_reads_a_hostile_label() -> None:
    hostile = 'a"b\\c\\l}} ]; x -> y; {{ -- %%{{init}}%% <br/> {name}'
    view = View(LabelTemplate.parse(hostile))
    dot = render(build_tree(), WORKLOADS, "dot", complete=True, view=view)
    result = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr
    svg = ET.fromstring(result.stdout)
    texts = {t.text for t in svg.iter(f"{SVG}text")}
    assert 'a"b\\c\\l} ]; x -> y; { -- %%{init}%% <br/> Legacy' in texts
    titles = {g.findtext(f"{SVG}title") for g in svg.iter(f"{SVG}g") if g.get("class") == "node"}
    assert len(titles) == 8  # no node made up from the label


# -- the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--format", "text", "--label", "{nme}"], "unknown label field {nme}"),
        (["--format", "dot", "--label", "{name"], "a lone '{'"),
        (["--format", "csv", "--label", "{name}"], "--label is for the text, mermaid and dot"),
        (["--format", "text", "--label", "{name}", "--policy", "x"], "--policy writes"),
    ],
)
def test_a_bad_label_is_a_usage_error_and_writes_nothing(
    argv: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    try:
        code: object = cli_main(["--demo", "export", *argv, "-o", str(target)], tui=lambda _: 0)
    except SystemExit as exc:  # argparse's own check of the flag's value
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and said in err and "Traceback" not in err
    assert not target.exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_several_organizations_with_policies_and_labels_stay_valid() -> None:
    view = View(LabelTemplate.parse("{name} [{type}]"), policies=True)
    mermaid = render_grouped(GROUPED, "mermaid", view=view)
    nodes, _, groups = check_mermaid(mermaid)
    assert groups == 2 and len(nodes) == 10
    # Neither tree has its policies read: every node is drawn as not known, in its group.
    assert sum(line.strip().startswith("class ") for line in mermaid.splitlines()) == 2
    dot = render_grouped(GROUPED, "dot", view=view)
    result = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr
    texts = [t.text for t in ET.fromstring(result.stdout).iter(f"{SVG}text")]
    assert texts.count("SCP: not known (not fetched)") == 10
    assert "Root [root]" in texts
    text = render_grouped(GROUPED, "text", view=view)
    assert text.count("# policy types: SCP") == 2
