"""A mermaid flowchart, for pasting into Markdown that GitHub or a wiki renders."""

from __future__ import annotations

import re
from collections.abc import Sequence

from orgtree_tui.exporters.labels import diagram_label, organization_line
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.text import visible

# Inside a quoted label mermaid still reacts to: `"` (ends it), `#` (starts an entity code),
# `&<>` (labels are HTML), `%` (`%%{init}%%` directives are found anywhere in the text),
# `:` (style/classDef pre-processing matches whole lines) and a backtick (markdown strings).
_ENTITIES = {'"': "#quot;"} | {ch: f"#{ord(ch)};" for ch in "#&<>%:`"}
_UNSAFE_ID = re.compile(r"[^0-9A-Za-z]")


def render(snap: Snapshot) -> str:
    lines = _head([snap])
    if snap.organization:
        lines.append(f"    %% {organization_line(snap)}")
    lines.extend(_body(snap, set(), "    "))
    return "\n".join(lines) + "\n"


def render_many(snaps: Sequence[Snapshot]) -> str:
    """One flowchart with a subgraph per organization, titled by its id."""
    taken: set[str] = set()
    lines = _head(snaps)
    for snap in snaps:
        org = snap.organization
        group = _unique_id(f"org_{org.id if org else 'unknown'}", taken)
        lines.append(f'    subgraph {group}["{_escape(organization_line(snap))}"]')
        lines.extend(_body(snap, taken, "        "))
        lines.append("    end")
    return "\n".join(lines) + "\n"


def _head(snaps: Sequence[Snapshot]) -> list[str]:
    lines = ["flowchart TD"]
    if any(not snap.crawl_complete for snap in snaps):
        lines.append("    %% the crawl had not finished; nodes may be missing")
    return lines


def _body(snap: Snapshot, taken: set[str], indent: str) -> list[str]:
    ids = {entry.node.id: _unique_id("n_" + entry.node.id, taken) for entry in snap}
    # Fixed words and numbers only, so the comment stays one inert line.
    lines = [f"{indent}%% {snap.gaps_line()}"] if snap.gaps else []
    lines += [f"{indent}%% {snap.filter_line()}"] if snap.filter is not None else []
    for entry in snap:
        label = "<br/>".join(_escape(part) for part in diagram_label(entry))
        lines.append(f'{indent}{ids[entry.node.id]}["{label}"]')
    for entry in snap:
        for child in entry.children:
            lines.append(f"{indent}{ids[entry.node.id]} --> {ids[child]}")
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
