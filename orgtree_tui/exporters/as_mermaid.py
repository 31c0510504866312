"""A mermaid flowchart, for pasting into Markdown that GitHub or a wiki renders."""

from __future__ import annotations

import re

from orgtree_tui.exporters.escape import visible
from orgtree_tui.exporters.labels import diagram_label
from orgtree_tui.exporters.snapshot import Snapshot

# Inside a quoted label mermaid still reacts to: `"` (ends it), `#` (starts an entity code),
# `&<>` (labels are HTML), `%` (`%%{init}%%` directives are found anywhere in the text),
# `:` (style/classDef pre-processing matches whole lines) and a backtick (markdown strings).
_ENTITIES = {'"': "#quot;"} | {ch: f"#{ord(ch)};" for ch in "#&<>%:`"}
_UNSAFE_ID = re.compile(r"[^0-9A-Za-z]")


def render(snap: Snapshot) -> str:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for entry in snap:
        ids[entry.node.id] = _unique_id(entry.node.id, taken)

    lines = ["flowchart TD"]
    if not snap.crawl_complete:
        lines.append("    %% the crawl had not finished; nodes may be missing")
    for entry in snap:
        label = "<br/>".join(_escape(part) for part in diagram_label(entry))
        lines.append(f'    {ids[entry.node.id]}["{label}"]')
    for entry in snap:
        for child in entry.children:
            lines.append(f"    {ids[entry.node.id]} --> {ids[child]}")
    return "\n".join(lines) + "\n"


def _unique_id(node_id: str, taken: set[str]) -> str:
    # AWS ids only use [a-z0-9-], so the substitution alone never collides on real data;
    # the suffix keeps a hand-made tree from silently merging two nodes.
    base = "n_" + _UNSAFE_ID.sub("_", node_id)
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _escape(text: str) -> str:
    return "".join(_ENTITIES.get(ch, ch) for ch in visible(text))
