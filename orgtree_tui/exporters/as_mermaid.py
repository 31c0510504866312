"""A mermaid flowchart, for pasting into Markdown that GitHub or a wiki renders.

With `--policies` a node's label gains a line per policy type attached to it (the top
node's also what it inherits from above the diagram: below it, the edges show the chain),
and the nodes whose policies are not known get the class `unknown`, drawn dashed, their
label saying why. Mermaid flowcharts have no tooltip that GitHub shows, so the labels carry
the names; the text export's `--policies` has the ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from orgtree_tui.exporters.labels import organization_line, viewed_label
from orgtree_tui.exporters.policy_lines import PolicyReader, enabled_line
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.exporters.view import PLAIN, View
from orgtree_tui.text import visible

# Inside a quoted label mermaid still reacts to: `"` (ends it), `#` (starts an entity code),
# `&<>` (labels are HTML), `%` (`%%{init}%%` directives are found anywhere in the text),
# `:` (style/classDef pre-processing matches whole lines) and a backtick (markdown strings).
_ENTITIES = {'"': "#quot;"} | {ch: f"#{ord(ch)};" for ch in "#&<>%:`"}
_UNSAFE_ID = re.compile(r"[^0-9A-Za-z]")


# How a node whose policies are not known is drawn (the class's whole definition).
UNKNOWN_CLASS = "classDef unknown stroke-dasharray: 5 5"


def render(snap: Snapshot, view: View = PLAIN) -> str:
    lines = _head([snap], view)
    if snap.organization:
        lines.append(f"    %% {organization_line(snap)}")
    lines.extend(_body(snap, set(), "    ", view))
    return "\n".join(lines) + "\n"


def render_many(snaps: Sequence[Snapshot], view: View = PLAIN) -> str:
    """One flowchart with a subgraph per organization, titled by its id."""
    taken: set[str] = set()
    lines = _head(snaps, view)
    for snap in snaps:
        org = snap.organization
        group = _unique_id(f"org_{org.id if org else 'unknown'}", taken)
        lines.append(f'    subgraph {group}["{_escape(organization_line(snap))}"]')
        lines.extend(_body(snap, taken, "        ", view))
        lines.append("    end")
    return "\n".join(lines) + "\n"


def _head(snaps: Sequence[Snapshot], view: View) -> list[str]:
    lines = ["flowchart TD"]
    if any(not snap.crawl_complete for snap in snaps):
        lines.append("    %% the crawl had not finished; nodes may be missing")
    if view.policies:
        lines.append(f"    {UNKNOWN_CLASS}")
    return lines


def _body(snap: Snapshot, taken: set[str], indent: str, view: View) -> list[str]:
    ids = {entry.node.id: _unique_id("n_" + entry.node.id, taken) for entry in snap}
    # Fixed words and numbers only, so the comment stays one inert line.
    lines = [f"{indent}%% {snap.gaps_line()}"] if snap.gaps else []
    lines += [f"{indent}%% {snap.filter_line()}"] if snap.filter is not None else []
    reader = PolicyReader(snap) if view.policies else None
    if reader is not None and enabled_line(snap):
        lines.append(f"{indent}%% {enabled_line(snap)}")
    unknown: list[str] = []
    for entry in snap:
        parts, not_known = viewed_label(entry, view, reader, top=entry is snap.root)
        label = "<br/>".join(_escape(part) for part in parts)
        lines.append(f'{indent}{ids[entry.node.id]}["{label}"]')
        if not_known:
            unknown.append(ids[entry.node.id])
    for entry in snap:
        for child in entry.children:
            lines.append(f"{indent}{ids[entry.node.id]} --> {ids[child]}")
    if unknown:
        lines.append(f"{indent}class {','.join(unknown)} unknown")
    return lines


def _unique_id(raw: str, taken: set[str]) -> str:
    # AWS ids only use [a-z0-9-], so the substitution alone never collides on real data;
    # the suffix keeps a hand-made tree from silently merging two nodes.
    base = _UNSAFE_ID.sub("_", raw)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _escape(text: str) -> str:
    return "".join(_ENTITIES.get(ch, ch) for ch in visible(text))
