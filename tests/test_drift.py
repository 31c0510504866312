"""The drift report against ground truth: an organization on moto, exported before and after
boto3 calls that change it, compared with the changes written out by hand."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from orgtree_tui import api
from orgtree_tui.drift_render import render
from orgtree_tui.drift_sides import SideError, from_document

from drift_fixtures import RCP, SCP, Ids, as_v1, build, change, expected, export_now, find


@pytest.fixture
def exports(moto_client: Any) -> tuple[dict[str, Any], dict[str, Any], Ids]:
    ids = build(moto_client)
    before = export_now()
    change(moto_client, ids)
    return before, export_now(), ids


def changes(old: Any, new: Any) -> list[dict[str, Any]]:
    return [c.as_json() for c in api.diff(old, new).changes]


def test_every_kind_of_change_between_two_v2_exports(exports: Any) -> None:
    before, after, ids = exports
    drift = api.diff(before, after)
    assert [c.as_json() for c in drift.changes] == expected(ids)
    assert not drift.partial and drift.not_compared == () and drift.notes == ()


def test_an_export_compared_with_itself_has_no_changes(exports: Any) -> None:
    before, _, _ = exports
    drift = api.diff(before, copy.deepcopy(before))
    assert drift.changes == () and drift.summary() == "no changes"


def test_two_v1_exports_compare_their_scps(exports: Any) -> None:
    before, after, ids = exports
    assert changes(as_v1(before), as_v1(after)) == expected(ids, rcp=False)


def test_v1_against_v2_compares_what_both_carry(exports: Any) -> None:
    before, after, ids = exports
    drift = api.diff(as_v1(before), after)
    # The RCP detached at Prod is not seen: /1 carries SCPs only, and the report says so.
    assert [c.as_json() for c in drift.changes] == expected(ids, rcp=False)
    assert drift.notes == (
        f"{RCP}: old (orgtree-tui/1) does not carry them; they were not compared",
    )
    assert not drift.partial


def test_a_type_not_enabled_on_one_side_has_nothing_attached(exports: Any) -> None:
    before, after, ids = exports
    # As if RCPs were enabled only after the first export: nothing of them attached then.
    del before["organization"]["policy_types"][RCP]
    stack = [before["tree"]]
    while stack:
        node = stack.pop()
        node["policies"].pop(RCP)
        stack.extend(node["children"])
    found = [c for c in changes(before, after) if c.get("policy_type") == RCP]
    # moto attaches RCPFullAWSAccess to every node once RCPs are enabled (as AWS does);
    # RcpNoPublic was detached from Prod, so that is all "after" has of them.
    mgmt = after["organization"]["management_account_id"]
    # Export order: depth first, OUs before accounts, by name; the management account is
    # the root's one account.
    in_both = [ids.root, ids.sandbox, ids.payments, ids.ana, ids.workloads, ids.prod]
    in_both += [ids.search, mgmt]
    assert [(c["id"], c["attached"], c["detached"]) for c in found] == [
        (node, [{"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess"}], []) for node in in_both
    ]


def incomplete_branch(document: dict[str, Any], node_id: str) -> None:
    """What an export says when a branch could not be listed: the node has no children,
    `"incomplete": true`, and is listed under "incomplete"."structure"."""
    node = find(document, node_id)
    node["children"], node["incomplete"] = [], True
    document["incomplete"]["structure"][node_id] = "denied"
    document["complete"] = False


def failed_tags(document: dict[str, Any], node_id: str) -> None:
    node = find(document, node_id)
    node["tags"], node["tags_state"] = {}, "failed"
    document["incomplete"]["tags"][node_id] = "failed"
    document["complete"] = False


def test_an_incomplete_side_never_reports_missing_nodes_as_removed(exports: Any) -> None:
    before, after, ids = exports
    incomplete_branch(after, ids.workloads)  # Prod, search and fresh are not in it now
    failed_tags(after, ids.payments)
    drift = api.diff(before, after)
    assert drift.partial
    by_kind = {k: [c for c in expected(ids) if c["kind"] == k] for k in ("moved", "renamed")}
    assert [c.as_json() for c in drift.changes] == [
        *by_kind["moved"],
        *by_kind["renamed"],
        next(c for c in expected(ids) if c["kind"] == "state"),
        next(c for c in expected(ids) if c["kind"] == "tags" and c["id"] == ids.workloads),
        next(c for c in expected(ids) if c["kind"] == "policies" and c["id"] == ids.payments),
    ]
    assert [u.as_json() for u in drift.not_compared] == [
        {"what": "presence", "id": ids.legacy, "name": "Legacy", "side": "new",
         "reason": "not listed"},
        {"what": "presence", "id": ids.old_app, "name": "old-app", "side": "new",
         "reason": "not listed"},
        {"what": "presence", "id": ids.prod, "name": "Prod", "side": "new",
         "reason": "not listed"},
        {"what": "presence", "id": ids.search, "name": "search", "side": "new",
         "reason": "not listed"},
        {"what": "tags", "id": ids.payments, "name": "payments", "side": "new",
         "reason": "failed"},
    ]  # fmt: skip
    text = render(drift, "text")
    assert "partial comparison:" in text
    assert "new is incomplete: children of 1 branch not permitted; tags of 1 node failed" in text
    assert f"  old-app ({ids.old_app}): not in new, which did not list every branch" in text
    assert text.endswith(f"  tags of payments ({ids.payments}): failed in new\n")


def test_an_old_side_with_a_branch_not_listed_adds_nothing(exports: Any) -> None:
    before, after, ids = exports
    incomplete_branch(before, ids.workloads)
    drift = api.diff(before, after)
    # fresh is not in "before", whose Workloads was not listed: it may have been there.
    assert not [c for c in drift.changes if c.kind == "added"]
    assert ("presence", ids.fresh, "old") in [(u.what, u.id, u.side) for u in drift.not_compared]
    assert [c.id for c in drift.changes if c.kind == "removed"] == [ids.legacy, ids.old_app]


def test_a_stopped_crawl_with_no_gaps_listed_is_partial(exports: Any) -> None:
    before, after, _ = exports
    after["complete"] = False  # the crawl stopped: anything may be missing
    drift = api.diff(before, after)
    assert drift.partial
    assert not [c for c in drift.changes if c.kind == "removed"]


def test_policies_not_known_on_one_side_are_not_compared(exports: Any) -> None:
    before, after, ids = exports
    find(after, ids.search)["policies"][SCP] = None
    after["incomplete"]["policies"][ids.search] = "failed"
    after["complete"] = False
    drift = api.diff(before, after)
    assert ids.search not in [c.id for c in drift.changes if c.kind == "policies"]
    assert [u.as_json() for u in drift.not_compared] == [
        {
            "what": "policies",
            "id": ids.search,
            "name": "search",
            "side": "new",
            "policy_type": SCP,
            "reason": "failed",
        }
    ]


def test_a_policy_whose_targets_were_not_all_listed_is_never_detached(exports: Any) -> None:
    before, after, ids = exports
    # What a crawl that could not list DenyIam's targets writes: no node shows it, and
    # "incomplete" says its targets are missing.
    after["incomplete"]["policy_targets"][ids.deny_iam] = "failed"
    after["complete"] = False
    drift = api.diff(before, after)
    assert ids.payments not in [c.id for c in drift.changes if c.kind == "policies"]
    assert [u.as_json() for u in drift.not_compared] == [
        {"what": "policies", "id": ids.payments, "name": "payments", "side": "new",
         "policy_type": SCP, "reason": "failed"}
    ]  # fmt: skip
    # The other policy changes are still found.
    assert [c.id for c in drift.changes if c.kind == "policies"] == [ids.prod, ids.search]


def test_a_no_details_export_compares_structure_only(exports: Any) -> None:
    before, after, _ = exports
    stack = [after["tree"]]
    while stack:  # what a --no-details crawl writes: tags pending, no gap for them
        node = stack.pop()
        node["tags"], node["tags_state"] = {}, "pending"
        node["policies"] = {t: None for t in node["policies"]}
        stack.extend(node["children"])
    drift = api.diff(before, after)
    assert {c.kind for c in drift.changes} == {"added", "removed", "moved", "renamed", "state"}
    assert drift.not_compared == () and not drift.partial
    assert drift.notes == (
        "new has no tags or policies (a --no-details crawl): they were not compared",
    )


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"format": "orgtree-tui-diff/1"}, "is not an orgtree-tui JSON export (format"),
        ([1, 2], "(no format; expected orgtree-tui/1 or orgtree-tui/2)"),
        ({"format": "orgtree-tui/2", "tree": {}}, "is not a valid orgtree-tui/2 export"),
        (
            {"format": "orgtree-tui/2", "complete": True, "organizations": [{}, {}]},
            "holds several organizations",
        ),
    ],
)
def test_documents_it_cannot_compare(document: Any, says: str) -> None:
    with pytest.raises(SideError, match=r"^x\.json ") as info:
        from_document(document, "x.json")
    assert says in str(info.value) and "\n" not in str(info.value)


def test_two_organizations_or_two_subtrees_are_not_compared(exports: Any) -> None:
    before, after, ids = exports
    other = copy.deepcopy(after)
    other["organization"]["id"] = "o-someoneelse"
    with pytest.raises(SideError, match="is organization"):
        api.diff(before, other)
    sub = copy.deepcopy(after)
    sub["tree"] = find(after, ids.workloads)
    with pytest.raises(SideError, match="compare exports of the same subtree"):
        api.diff(before, sub)


def test_a_multi_organization_export_of_one_organization_is_read(exports: Any) -> None:
    before, after, ids = exports
    grouped = {"format": "orgtree-tui/2", "complete": True, "organizations": [after]}
    assert changes(before, grouped) == expected(ids)


def test_the_three_formats_say_the_same_changes(exports: Any) -> None:
    before, after, ids = exports
    drift = api.diff(before, after)
    doc = json.loads(render(drift, "json"))
    assert doc["format"] == "orgtree-tui-diff/1" and doc["changes"] == expected(ids)
    assert doc["partial"] is False and doc["not_compared"] == []
    text = render(drift, "text").splitlines()
    assert text[1:-1] == [
        f"added    account fresh ({ids.fresh}): /Root/Workloads/fresh",
        f"removed  OU Legacy ({ids.legacy}): /Root/Legacy",
        f"removed  account old-app ({ids.old_app}): /Root/Legacy/old-app",
        f"moved    account payments ({ids.payments}): /Root/Workloads/Prod/payments"
        " -> /Root/Playground/payments",
        f"renamed  OU Playground ({ids.sandbox}): Sandbox -> Playground",
        f"state    account sandbox-ana ({ids.ana}): ACTIVE -> SUSPENDED",
        f"tags     account payments ({ids.payments}): +Cost=42; Env: prod -> staging;"
        " -Team (was pay)",
        f"tags     OU Workloads ({ids.workloads}): Owner: platform -> core",
        f"policies account payments ({ids.payments}): {SCP} -DenyIam ({ids.deny_iam})",
        f"policies OU Prod ({ids.prod}): {RCP} -RcpNoPublic ({ids.rcp})",
        f"policies account search ({ids.search}): {SCP} +DenyLeave ({ids.deny_leave})",
    ]
    assert text[-1] == (
        "11 changes: 1 added, 2 removed, 1 moved, 1 renamed, 1 state change, 2 tag changes,"
        " 3 policy changes"
    )
    markdown = render(drift, "markdown")
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert rows[0] == "| change | type | name | id | what changed |"
    assert rows[1] == f"| added | account | fresh | `{ids.fresh}` | /Root/Workloads/fresh |"
    assert len(rows) == 1 + 11


def test_names_cannot_break_the_text_or_the_table(exports: Any) -> None:
    before, after, ids = exports
    find(after, ids.sandbox)["name"] = "Play|gr\x1b[31mound\n"
    drift = api.diff(before, after)
    text = render(drift, "text")
    assert "\x1b" not in text and "Play|gr\\x1b[31mound\\x0a" in text
    row = next(
        line for line in render(drift, "markdown").splitlines() if line.startswith("| renamed")
    )
    assert row.count(" | ") == 4 and "Play\\|gr" in row
