"""A Graphviz digraph, for `dot -Tsvg` when the org is too big for mermaid."""

from __future__ import annotations

from orgtree_tui.exporters.escape import visible
from orgtree_tui.exporters.labels import diagram_label
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.model import NodeType

_SHAPES = {
    NodeType.ROOT: "house",
    NodeType.ORGANIZATIONAL_UNIT: "folder",
    NodeType.ACCOUNT: "box",
}


def render(snap: Snapshot) -> str:
    lines = ["digraph org {", "    rankdir=LR;"]
    if not snap.crawl_complete:
        lines.append("    // the crawl had not finished; nodes may be missing")
    for entry in snap:
        # `\n` is written as the two characters backslash-n: dot's own line-break escape.
        label = "\\n".join(_quote_body(part) for part in diagram_label(entry))
        shape = _SHAPES[entry.node.type]
        lines.append(f'    {_quote(entry.node.id)} [label="{label}", shape={shape}];')
    for entry in snap:
        for child in entry.children:
            lines.append(f"    {_quote(entry.node.id)} -> {_quote(child)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return f'"{_quote_body(text)}"'


def _quote_body(text: str) -> str:
    # Backslash first: dot reads `\n`, `\l`, `\N`... in labels as escapes of its own.
    return visible(text).replace("\\", "\\\\").replace('"', '\\"')
