"""Console links for the `o` key: the v2 Organizations console, per node type and partition."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from orgtree_tui.console import console_url, partition
from orgtree_tui.records import Node, NodeType, Organization

ORG = Organization("o-abc123", "arn:aws:organizations::111111111111:organization/o-abc123", "1")
OU = "ou-ab12-cdef3456"
HOME = "https://us-east-1.console.aws.amazon.com/organizations/v2/home"


def node(node_type: NodeType, node_id: str, arn: str = "") -> Node:
    arn = arn or f"arn:aws:organizations::111111111111:x/o-abc123/{node_id}"
    return Node(node_id, node_type, "name", arn, None)


@pytest.mark.parametrize(
    ("node_type", "node_id", "url"),
    [
        (NodeType.ACCOUNT, "222222222222", f"{HOME}/accounts/222222222222"),
        (
            NodeType.ORGANIZATIONAL_UNIT,
            "ou-ab12-cdef3456",
            f"{HOME}/organizational-units/ou-ab12-cdef3456",
        ),
        (NodeType.ROOT, "r-ab12", f"{HOME}/root"),
    ],
)
def test_commercial_partition(node_type: NodeType, node_id: str, url: str) -> None:
    assert console_url(node(node_type, node_id), ORG) == url


def test_other_partitions_use_their_own_console() -> None:
    gov = node(NodeType.ACCOUNT, "1", "arn:aws-us-gov:organizations::1:account/o-x/1")
    assert console_url(gov).startswith("https://us-gov-west-1.console.amazonaws-us-gov.com/")
    china = node(NodeType.ACCOUNT, "1", "arn:aws-cn:organizations::1:account/o-x/1")
    assert console_url(china).startswith("https://cn-northwest-1.console.amazonaws.cn/")


def test_partition_falls_back_to_the_organization_then_aws() -> None:
    gov_org = Organization("o-x", "arn:aws-us-gov:organizations::1:organization/o-x", "1")
    assert partition("", gov_org) == "aws-us-gov"
    assert partition("not an arn") == "aws"
    unknown = node(NodeType.ACCOUNT, "1", "arn:aws-iso-z:organizations::1:account/o-x/1")
    assert console_url(unknown).startswith("https://us-east-1.console.aws.amazon.com/")


def test_a_hand_made_id_cannot_change_the_path() -> None:
    url = console_url(node(NodeType.ACCOUNT, "../../x?y#z"))
    parts = urlsplit(url)
    assert parts.query == "" and parts.fragment == ""
    assert parts.path == "/organizations/v2/home/accounts/..%2F..%2Fx%3Fy%23z"
