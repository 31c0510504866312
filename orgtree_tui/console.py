"""Links into the AWS Organizations console (the v2 console) for a root, OU or account.

    account  https://us-east-1.console.aws.amazon.com/organizations/v2/home/accounts/<id>
    OU       https://us-east-1.console.aws.amazon.com/organizations/v2/home/organizational-units/<ou-id>
    root     https://us-east-1.console.aws.amazon.com/organizations/v2/home/root

Organizations lives in us-east-1 (us-gov-west-1, cn-northwest-1 in the other partitions),
and the partition comes from the node's ARN. The link opens in whichever console session
the browser has: it shows the node only when that session is in the management account or
a delegated administrator of the same organization.
"""

from __future__ import annotations

from urllib.parse import quote

from orgtree_tui.records import Node, NodeType, Organization

# partition -> console host serving Organizations
CONSOLE_HOSTS = {
    "aws": "https://us-east-1.console.aws.amazon.com",
    "aws-us-gov": "https://us-gov-west-1.console.amazonaws-us-gov.com",
    "aws-cn": "https://cn-northwest-1.console.amazonaws.cn",
}
_HOME = "/organizations/v2/home"


def console_url(node: Node, organization: Organization | None = None) -> str:
    """The console page for `node`. `organization` supplies the partition when the node's
    ARN does not (say, a hand-made tree)."""
    host = CONSOLE_HOSTS.get(partition(node.arn, organization), CONSOLE_HOSTS["aws"])
    # Ids are [a-z0-9-] from AWS; quoting keeps a hand-made one from changing the path.
    node_id = quote(node.id, safe="")
    if node.type is NodeType.ACCOUNT:
        return f"{host}{_HOME}/accounts/{node_id}"
    if node.type is NodeType.ORGANIZATIONAL_UNIT:
        return f"{host}{_HOME}/organizational-units/{node_id}"
    return f"{host}{_HOME}/root"


def partition(arn: str, organization: Organization | None = None) -> str:
    """`aws`, `aws-us-gov`, `aws-cn`... from an ARN, else the organization's, else `aws`."""
    for candidate in (arn, organization.arn if organization else ""):
        parts = candidate.split(":", 2)
        if len(parts) == 3 and parts[0] == "arn" and parts[1]:
            return parts[1]
    return "aws"
