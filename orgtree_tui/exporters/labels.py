"""Wording shared by the human-facing formats (text, mermaid, dot), so they agree.

Everything returned here is raw text; each format escapes it its own way.
"""

from __future__ import annotations

import re

from orgtree_tui.exporters.policy_lines import PolicyReader, diagram_lines
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.exporters.view import View
from orgtree_tui.records import NodeType


def markers(entry: Entry) -> str:
    """` [SUSPENDED]`, ` [incomplete]`, both, or nothing."""
    node = entry.node
    parts: list[str] = []
    if node.type is NodeType.ACCOUNT and node.state is not None and node.state != "ACTIVE":
        parts.append(f" [{node.state}]")
    if entry.incomplete:
        parts.append(" [incomplete]")
    return "".join(parts)


def diagram_label(entry: Entry) -> list[str]:
    """The label's lines. Containers show how many accounts sit below them; accounts show
    their id, which is what people search for."""
    node = entry.node
    if node.type is NodeType.ACCOUNT:
        return [node.name, node.id + markers(entry)]
    return [f"{node.name} ({entry.accounts_below}){markers(entry)}"]


# Comment lines must stay one inert line in every format (`%%{` starts a mermaid directive,
# a newline would end a dot comment): AWS ids never need more than these characters.
_UNSAFE_IN_COMMENT = re.compile(r"[^0-9A-Za-z_.-]")


def organization_line(snap: Snapshot) -> str:
    """`organization o-abc (management account 111111111111)`, safe inside a comment."""
    org = snap.organization
    if org is None:
        return "organization unknown"
    org_id = _UNSAFE_IN_COMMENT.sub("_", org.id)
    management = _UNSAFE_IN_COMMENT.sub("_", org.management_account_id)
    return f"organization {org_id} (management account {management})"


def viewed_label(
    entry: Entry, view: View, reader: PolicyReader | None, *, top: bool
) -> tuple[list[str], bool]:
    """A diagram node's label lines under `view` (`--label`, `--policies`), and whether
    some of its policies are not known (the diagrams draw such a node dashed)."""
    lines = [view.label.render(entry)] if view.label is not None else diagram_label(entry)
    if reader is None:
        return lines, False
    types = reader.types(entry.node.id)
    unknown = any(t.attached is None or (top and t.inherited is None) for t in types)
    return lines + diagram_lines(types, top=top), unknown
