"""Organizations API records -> model records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orgtree_tui.records import SCP, DelegatedAdministrator, Node, NodeType, Organization, Policy


def organization(record: dict[str, Any]) -> Organization:
    return Organization(
        id=record["Id"],
        arn=record.get("Arn", ""),
        management_account_id=record.get("MasterAccountId", ""),
        management_account_email=record.get("MasterAccountEmail", ""),
        feature_set=record.get("FeatureSet", ""),
    )


def root(record: dict[str, Any]) -> Node:
    return Node(
        id=record["Id"],
        type=NodeType.ROOT,
        name=record.get("Name") or "Root",
        arn=record.get("Arn", ""),
        parent_id=None,
    )


def organizational_unit(record: dict[str, Any], parent_id: str) -> Node:
    return Node(
        id=record["Id"],
        type=NodeType.ORGANIZATIONAL_UNIT,
        name=record.get("Name", ""),
        arn=record.get("Arn", ""),
        parent_id=parent_id,
    )


def account(record: dict[str, Any], parent_id: str) -> Node:
    # `Status` is retired in favour of `State`; older endpoints (and moto) still send it.
    state = record.get("State") or record.get("Status")
    return Node(
        id=record["Id"],
        type=NodeType.ACCOUNT,
        name=record.get("Name", ""),
        arn=record.get("Arn", ""),
        parent_id=parent_id,
        email=record.get("Email"),
        state=str(state) if state else None,
        joined_method=record.get("JoinedMethod"),
        joined_timestamp=_timestamp(record.get("JoinedTimestamp")),
    )


def policy(record: dict[str, Any], policy_type: str = SCP) -> Policy:
    """A PolicySummary; `policy_type` is the filter it was listed with, for an endpoint
    that leaves `Type` out."""
    return Policy(
        id=record["Id"],
        name=record.get("Name", record["Id"]),
        type=str(record.get("Type") or policy_type),
        aws_managed=bool(record.get("AwsManaged", False)),
        description=str(record.get("Description") or ""),
    )


def policy_types(record: dict[str, Any]) -> dict[str, str]:
    """A root's policy types: type -> status (ENABLED, PENDING_ENABLE, PENDING_DISABLE)."""
    return {str(t["Type"]): str(t.get("Status", "")) for t in record.get("PolicyTypes", [])}


def delegated_administrator(
    record: dict[str, Any], services: tuple[str, ...] | None
) -> DelegatedAdministrator:
    return DelegatedAdministrator(
        account_id=record["Id"], name=record.get("Name", ""), services=services
    )


def tags(records: list[dict[str, Any]]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in records}


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return None
