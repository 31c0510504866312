"""Every policy type enabled on the root, fetched by policy; the organization's feature set,
delegated administrators and trusted services; what a refused call or a disabled type
reads as (never an empty list). Expectations are written out by hand from `policy_org`."""

from __future__ import annotations

from typing import Any

from test_crawl_trust import Faulty, Finishes, error

from orgtree_tui.aws import READ_ONLY_OPERATIONS
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions, CrawlState
from orgtree_tui.gaps import Missing
from orgtree_tui.quotas import DOCUMENTED_QUOTAS
from orgtree_tui.records import DelegatedAdministrator, DetailState

from conftest import FAST
from orgs import policy_org

SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
TAG, AI = "TAG_POLICY", "AISERVICES_OPT_OUT_POLICY"
FULL, RCP_FULL = "FullAWSAccess", "RCPFullAWSAccess"


def _crawl(client: Any, **options: Any) -> Crawler:
    crawler = Crawler(client, CrawlOptions(quotas=FAST, **options))
    crawler.run()
    return crawler


def _names(crawler: Crawler, node_id: str) -> dict[str, set[str] | None]:
    out: dict[str, set[str] | None] = {}
    for policy_type, found in crawler.tree.details(node_id).by_type.items():
        out[policy_type] = None if found.policies is None else {p.name for p in found.policies}
    return out


def test_every_enabled_type_is_fetched_by_policy_with_its_facts(moto_client: Any) -> None:
    org = policy_org(moto_client)
    ids = {**org.built.ous, **org.built.accounts, "root": org.built.root_id}
    client = Faulty()
    crawler = _crawl(client)

    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.COMPLETE
    everywhere = {SCP: {FULL}, RCP: {RCP_FULL}, TAG: set(), AI: set()}
    expected = {
        "root": {**everywhere, SCP: {FULL, "DenyLeave"}},
        "Workloads": {**everywhere, SCP: {FULL, "DenyRegions"}, RCP: {RCP_FULL, "RcpNoPublic"}},
        "Prod": {**everywhere, TAG: {"CostCenter"}},
        "app-prod": {**everywhere, SCP: {FULL, "DenyIam"}, AI: {"NoAi"}},
        "Security": everywhere,
        "audit": everywhere,
    }
    for name, by_type in expected.items():
        assert _names(crawler, ids[name]) == by_type, name
    # The disabled type is absent, not an empty list, and its calls were never made.
    assert all(p != {"Filter": "BACKUP_POLICY"} for _, p in client.calls)
    facts = crawler.tree.facts()
    assert facts.policy_types == {SCP: "ENABLED", RCP: "ENABLED", TAG: "ENABLED", AI: "ENABLED"}
    assert crawler.tree.organization is not None
    assert crawler.tree.organization.feature_set == "ALL"
    # By policy, never per node: one ListPolicies per type, no ListPoliciesForTarget.
    assert client.count("ListPolicies") == 4
    assert client.count("ListPoliciesForTarget") == 0
    # AwsManaged, Type and Description kept.
    root_scps = crawler.tree.details(ids["root"]).by_type[SCP].policies or ()
    by_name = {p.name: p for p in root_scps}
    assert by_name[FULL].aws_managed and not by_name["DenyLeave"].aws_managed
    assert by_name["DenyLeave"].description == "DenyLeave (test)"
    assert by_name["DenyLeave"].type == SCP
    assert facts.delegated_administrators == (
        DelegatedAdministrator(
            org.admin, "audit", ("access-analyzer.amazonaws.com", "guardduty.amazonaws.com")
        ),
    )
    assert facts.trusted_services == ("config.amazonaws.com",)


def test_a_consolidated_billing_organization_says_so(moto_client: Any) -> None:
    moto_client.create_organization(FeatureSet="CONSOLIDATED_BILLING")
    client = Faulty()
    crawler = _crawl(client)

    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.COMPLETE
    root = crawler.tree.roots()[0].id
    assert crawler.tree.details(root).by_type == {}
    assert crawler.tree.details(root).policies_state is DetailState.NOT_ENABLED
    facts = crawler.tree.facts()
    assert facts.policy_types == {}
    assert (facts.delegated_administrators, facts.trusted_services) == ((), ())
    asked = {op for op, _ in client.calls}
    assert not asked & {"ListPolicies", "ListDelegatedAdministrators"}


def test_refused_delegation_and_service_access_read_not_permitted(moto_client: Any) -> None:
    org = policy_org(moto_client)
    client = Faulty()

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op in ("ListDelegatedServicesForAccount", "ListAWSServiceAccessForOrganization"):
            return error("AccessDeniedException", op)
        return None

    client.fault = fault
    crawler = _crawl(client)

    facts = crawler.tree.facts()
    assert facts.delegated_administrators == (DelegatedAdministrator(org.admin, "audit", None),)
    assert facts.delegated_administrators_state is DetailState.DENIED
    assert facts.trusted_services is None
    assert facts.trusted_services_state is DetailState.DENIED
    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.INCOMPLETE
    assert crawler.outcome.gaps.organization == {
        "delegated_administrators": Missing.DENIED,
        "trusted_services": Missing.DENIED,
    }


def test_one_type_refused_leaves_the_others_and_makes_the_crawl_incomplete(
    moto_client: Any,
) -> None:
    org = policy_org(moto_client)
    app = org.built.accounts["app-prod"]
    client = Faulty()

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "ListPolicies" and params.get("Filter") == RCP:
            return error("AccessDeniedException", op)
        return None

    client.fault = fault
    crawler = _crawl(client)

    by_type = crawler.tree.details(app).by_type
    assert by_type[RCP].state is DetailState.DENIED and by_type[RCP].policies is None
    assert by_type[SCP].state is DetailState.LOADED
    assert {p.name for p in by_type[AI].policies or ()} == {"NoAi"}
    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.INCOMPLETE
    assert crawler.outcome.gaps.policies[app] is Missing.DENIED


def test_one_types_failed_targets_make_the_crawl_incomplete(moto_client: Any) -> None:
    org = policy_org(moto_client)
    tag_policy = org.policies["CostCenter"]
    client = Faulty()

    def fault(op: str, params: dict[str, Any]) -> Exception | None:
        if op == "ListTargetsForPolicy" and params["PolicyId"] == tag_policy:
            return error("ServiceQuotaExceededException", op)
        return None

    client.fault = fault
    crawler = _crawl(client)

    assert crawler.outcome is not None and crawler.outcome.state is CrawlState.INCOMPLETE
    assert crawler.outcome.gaps.policy_targets == {tag_policy: Missing.FAILED}


def test_a_node_selected_early_gets_each_type_per_target(moto_client: Any) -> None:
    org = policy_org(moto_client)
    app = org.built.accounts["app-prod"]
    client = Faulty()
    crawler = Crawler(client, CrawlOptions(quotas=FAST, details=False))
    crawler.run()  # structure only: no policy map at all, so only per-target calls
    finishes = Finishes(crawler)
    crawler.request_details(app)
    finishes.wait()

    # Each type for the account, and for each level above it: the details show what it
    # inherits, from the root down.
    asked = sorted(
        (p["TargetId"], p["Filter"]) for op, p in client.calls if op == "ListPoliciesForTarget"
    )
    built = org.built
    levels = [app, built.ous["Prod"], built.ous["Workloads"], built.root_id]
    assert asked == sorted((t, f) for t in levels for f in (AI, RCP, SCP, TAG))
    names = _names(crawler, app)
    assert names == {SCP: {FULL, "DenyIam"}, RCP: {RCP_FULL}, TAG: set(), AI: {"NoAi"}}


def test_every_new_call_is_allowed_and_has_a_quota() -> None:
    for operation in (
        "ListDelegatedAdministrators",
        "ListDelegatedServicesForAccount",
        "ListAWSServiceAccessForOrganization",
    ):
        assert operation in READ_ONLY_OPERATIONS
        assert operation in DOCUMENTED_QUOTAS
