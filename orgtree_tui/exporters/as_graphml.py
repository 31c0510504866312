"""GraphML, for Gephi, yEd, Cytoscape and networkx: one node per OU/account, parent -> child.

Every attribute is a declared `<key>` of a plain type, so readers that check the schema
(networkx does) take the file as it is. Tags are a JSON object in a string, as in the CSV.

Policies: two node keys per type enabled on the root, `<type>_attached` and
`<type>_inherited` (`service_control_policy_attached`...), each a JSON list in a string
with the JSON export's objects (`{"id", "name", "aws_managed"}`, inherited ones with
`"from"`, the id of the ancestor that attaches it). Not known: no `<data>` at all (why:
`policies_state`), never an empty list. The graph's `organizations` key holds a JSON list
with each organization's facts as the JSON export writes them (feature set, policy types,
delegated administrators, trusted services; null where refused or failed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from orgtree_tui.exporters.policies_json import Chains, organization
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.records import DetailState
from orgtree_tui.text import visible

NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
_SCHEMA = "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"

# (key id, attr.type); every key is for nodes.
KEYS = (
    ("organization_id", "string"),
    ("type", "string"),
    ("name", "string"),
    ("arn", "string"),
    ("path", "string"),
    ("email", "string"),
    ("state", "string"),
    ("joined_method", "string"),
    ("joined_timestamp", "string"),
    ("tags", "string"),
    ("policies", "string"),
    ("incomplete", "boolean"),
    ("tags_state", "string"),
    ("policies_state", "string"),
)
# For the graph: whether the document is complete, and what is missing in one line per
# organization (networkx puts them in G.graph).
GRAPH_KEYS = (("complete", "boolean"), ("missing", "string"), ("organizations", "string"))
# XML 1.0 cannot carry these even as character references; visible() has already turned
# C0/C1 controls into text, this catches the rest (surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(snap: Snapshot) -> str:
    return render_many([snap])


def render_many(snaps: Sequence[Snapshot]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<graphml xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
        f'         xsi:schemaLocation="{NAMESPACE} {_SCHEMA}">',
    ]
    types = policy_keys(snaps)
    for key, kind in (*KEYS, *((k, "string") for k in types)):
        lines.append(
            f'  <key id={_attr(key)} for="node" attr.name={_attr(key)} attr.type="{kind}"/>'
        )
    for key, kind in GRAPH_KEYS:
        lines.append(f'  <key id="{key}" for="graph" attr.name="{key}" attr.type="{kind}"/>')
    lines.append('  <graph id="organizations" edgedefault="directed">')
    if any(not snap.crawl_complete for snap in snaps):
        lines.append("    <!-- the crawl had not finished; nodes may be missing -->")
    complete = all(snap.complete for snap in snaps)
    lines.append(f'    <data key="complete">{"true" if complete else "false"}</data>')
    missing = [_missing(snap, grouped=len(snaps) > 1) for snap in snaps if snap.gaps]
    if missing:
        lines.append(f'    <data key="missing">{_text("; ".join(missing))}</data>')
    facts = _json([organization(snap) for snap in snaps])
    lines.append(f'    <data key="organizations">{_text(facts)}</data>')
    for snap in snaps:
        org_id = snap.organization.id if snap.organization else ""
        chains = Chains(snap)
        for entry in snap:
            lines.append(f"    <node id={_attr(entry.node.id)}>")
            data = [*_data(snap, entry, org_id), *_policies(chains.of(entry.node.id))]
            lines.extend(
                f"      <data key={_attr(key)}>{_text(value)}</data>"
                for key, value in data
                if value
            )
            lines.append("    </node>")
    for snap in snaps:
        for entry in snap:
            for child in entry.children:
                lines.append(f"    <edge source={_attr(entry.node.id)} target={_attr(child)}/>")
    lines.extend(["  </graph>", "</graphml>"])
    return "\n".join(lines) + "\n"


def policy_keys(snaps: Sequence[Snapshot]) -> list[str]:
    """The node keys for policies: two per type enabled on any of the roots."""
    types = sorted({t for snap in snaps for t in snap.root.details.by_type})
    return [f"{t.lower()}_{part}" for t in types for part in ("attached", "inherited")]


def _policies(by_type: dict[str, dict[str, Any] | None]) -> list[tuple[str, str]]:
    # Only what is known: a type not known at this node (None), or only its inherited part
    # (None), gets no <data>, which a reader sees as "no value".
    out: list[tuple[str, str]] = []
    for policy_type, found in by_type.items():
        for part in ("attached", "inherited"):
            if found is not None and found[part] is not None:
                out.append((f"{policy_type.lower()}_{part}", _json(found[part])))
    return out


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _missing(snap: Snapshot, *, grouped: bool) -> str:
    org = snap.organization
    return (
        f"{org.id if org else 'unknown'}: {snap.gaps.summary()}" if grouped else snap.gaps.summary()
    )


def _data(snap: Snapshot, entry: Entry, org_id: str) -> list[tuple[str, str]]:
    node, details = entry.node, entry.details
    # A missing <data> means "not known", as an empty CSV cell does.
    tags = ""
    if details.tags_state is DetailState.LOADED:
        tags = json.dumps(details.tags or {}, sort_keys=True, ensure_ascii=False)
    policies = ""
    if details.policies_state is DetailState.LOADED:
        policies = ";".join(p.name for p in details.policies or ())
    return [
        ("organization_id", org_id),
        ("type", node.type.value),
        ("name", node.name),
        ("arn", node.arn),
        ("path", entry.path),
        ("email", node.email or ""),
        ("state", node.state or ""),
        ("joined_method", node.joined_method or ""),
        ("joined_timestamp", node.joined_timestamp.isoformat() if node.joined_timestamp else ""),
        ("tags", tags),
        ("policies", policies),
        ("incomplete", "true" if entry.incomplete else ""),
        ("tags_state", snap.gaps.tags.get(node.id, "")),
        ("policies_state", snap.gaps.policies.get(node.id, "")),
    ]


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))


def _text(text: str) -> str:
    return escape(_clean(text))


def _attr(text: str) -> str:
    return quoteattr(_clean(text))
