"""The cache keeps every policy type, the organization's facts and their states; a format 1
file (SCPs only, no facts) still loads, SCPs the only type and its facts never asked for."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from orgtree_tui.cache import store
from orgtree_tui.model import OrgTree
from orgtree_tui.records import (
    DelegatedAdministrator,
    DetailState,
    Node,
    NodeType,
    OrgFacts,
    Policy,
    PolicySet,
)

SOURCE = "profile:policies"
CRAWLED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SCP, RCP, TAG = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY"
FULL = Policy("p-FullAWSAccess", "FullAWSAccess", SCP, True, "Allows access to every operation")
RCP_FULL = Policy("p-RCPFullAWSAccess", "RCPFullAWSAccess", RCP, True, "")
COST = Policy("p-cost", "CostCenter", TAG, False, "tag rules")
FACTS = OrgFacts(
    policy_types={
        SCP: "ENABLED",
        RCP: "ENABLED",
        TAG: "ENABLED",
        "BACKUP_POLICY": "PENDING_ENABLE",
    },
    delegated_administrators=(
        DelegatedAdministrator("222222222222", "audit", ("guardduty.amazonaws.com",)),
        DelegatedAdministrator("333333333333", "logs", None),
    ),
    delegated_administrators_state=DetailState.DENIED,
    trusted_services=None,
    trusted_services_state=DetailState.FAILED,
)


def _tree() -> OrgTree:
    tree = OrgTree()
    tree.add(Node("r-1", NodeType.ROOT, "Root", "arn:r-1", None))
    tree.add(Node("ou-1", NodeType.ORGANIZATIONAL_UNIT, "Prod", "arn:ou-1", "r-1"))
    tree.add(Node("222222222222", NodeType.ACCOUNT, "audit", "arn:a", "ou-1"))
    tree.set_facts(FACTS)
    for node_id in ("r-1", "ou-1", "222222222222"):
        tree.set_policies(node_id, (FULL,), SCP)
        tree.set_policies(node_id, (RCP_FULL,), RCP)
    tree.set_policies("ou-1", (COST,), TAG)
    tree.set_policies("r-1", (), TAG)
    tree.set_policies_state("222222222222", DetailState.DENIED, TAG)
    return tree


def test_every_type_and_the_facts_survive_a_round_trip() -> None:
    store.save(_tree(), source=SOURCE, complete=False, crawled_at=CRAWLED)
    cached = store.load(SOURCE).cached
    assert cached is not None
    tree = cached.tree
    assert tree.facts() == FACTS
    assert tree.details("ou-1").by_type == {
        RCP: PolicySet((RCP_FULL,), DetailState.LOADED),
        SCP: PolicySet((FULL,), DetailState.LOADED),
        TAG: PolicySet((COST,), DetailState.LOADED),
    }
    assert tree.details("222222222222").by_type[TAG] == PolicySet(None, DetailState.DENIED)
    assert tree.details("r-1").by_type[TAG] == PolicySet((), DetailState.LOADED)
    kept = tree.details("r-1").by_type[SCP].policies or ()
    assert [(p.aws_managed, p.description) for p in kept] == [(True, FULL.description)]


def test_a_format_1_file_still_loads() -> None:
    # What format 1 wrote: SCPs in the rows, policies as [id, name], no facts.
    columns = [
        "id", "type", "name", "arn", "parent_id", "email", "state", "joined_method",
        "joined_timestamp", "tags", "tags_state", "policies", "policies_state",
    ]  # fmt: skip
    document = {
        "format_version": 1,
        "source": SOURCE,
        "crawled_at": CRAWLED.isoformat(),
        "complete": True,
        "organization": None,
        "policies": [["p-FullAWSAccess", "FullAWSAccess"]],
        "columns": columns,
        "nodes": [
            ["r-1", "ROOT", "Root", "arn:r-1", None, None, None, None, None, {}, None, [0], None]
        ],
        "incomplete": {},
        "details": True,
    }
    path = store.cache_path(SOURCE, create=True)
    path.write_text(json.dumps(document))
    cached = store.load(SOURCE).cached
    assert cached is not None
    assert cached.tree.details("r-1").policies == (Policy("p-FullAWSAccess", "FullAWSAccess"),)
    assert cached.tree.facts() == OrgFacts()
    assert not cached.tree.gaps()
