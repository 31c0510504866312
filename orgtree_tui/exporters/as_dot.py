"""A Graphviz digraph, for `dot -Tsvg` when the org is too big for mermaid."""

from __future__ import annotations

from collections.abc import Sequence

from orgtree_tui.exporters.labels import diagram_label, organization_line
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.records import NodeType
from orgtree_tui.text import visible

_SHAPES = {
    NodeType.ROOT: "house",
    NodeType.ORGANIZATIONAL_UNIT: "folder",
    NodeType.ACCOUNT: "box",
}


def render(snap: Snapshot) -> str:
    return _graph([snap], grouped=False)


def render_many(snaps: Sequence[Snapshot]) -> str:
    """One digraph with a labelled cluster per organization."""
    return _graph(snaps, grouped=True)


def _graph(snaps: Sequence[Snapshot], *, grouped: bool) -> str:
    lines = ["digraph org {", "    rankdir=LR;"]
    if any(not snap.crawl_complete for snap in snaps):
        lines.append("    // the crawl had not finished; nodes may be missing")
    if not grouped:
        if snaps[0].organization:
            lines.append(f"    // {organization_line(snaps[0])}")
        lines.extend(_nodes(snaps[0], "    "))
    else:
        for i, snap in enumerate(snaps, 1):
            # Graphviz draws a box around a subgraph only when its name starts "cluster".
            lines.append(f"    subgraph cluster_{i} {{")
            lines.append(f"        label={_quote(organization_line(snap))};")
            lines.extend(_nodes(snap, "        "))
            lines.append("    }")
    for snap in snaps:
        for entry in snap:
            for child in entry.children:
                lines.append(f"    {_quote(entry.node.id)} -> {_quote(child)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(snap: Snapshot, indent: str) -> list[str]:
    # Fixed words and numbers only, so the comment stays one inert line.
    lines = [f"{indent}// {snap.gaps_line()}"] if snap.gaps else []
    lines += [f"{indent}// {snap.filter_line()}"] if snap.filter is not None else []
    for entry in snap:
        # `\n` is written as the two characters backslash-n: dot's own line-break escape.
        label = "\\n".join(_quote_body(part) for part in diagram_label(entry))
        shape = _SHAPES[entry.node.type]
        lines.append(f'{indent}{_quote(entry.node.id)} [label="{label}", shape={shape}];')
    return lines


def _quote(text: str) -> str:
    return f'"{_quote_body(text)}"'


def _quote_body(text: str) -> str:
    # Backslash first: dot reads `\n`, `\l`, `\N`... in labels as escapes of its own.
    return visible(text).replace("\\", "\\\\").replace('"', '\\"')
