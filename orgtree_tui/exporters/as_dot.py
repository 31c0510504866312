"""A Graphviz digraph, for `dot -Tsvg` when the org is too big for mermaid.

With `--policies` a node's label gains a line per policy type attached to it (the top
node's also what it inherits from above the diagram), its `tooltip` (shown on hover in SVG)
lists everything attached and inherited with the ancestor it comes from, and a node whose
policies are not known is drawn dashed, its label saying why.
"""

from __future__ import annotations

from collections.abc import Sequence

from orgtree_tui.exporters.labels import organization_line, viewed_label
from orgtree_tui.exporters.policy_lines import PolicyReader, enabled_line, text_lines
from orgtree_tui.exporters.snapshot import Snapshot
from orgtree_tui.exporters.view import PLAIN, View
from orgtree_tui.records import NodeType
from orgtree_tui.text import visible

_SHAPES = {
    NodeType.ROOT: "house",
    NodeType.ORGANIZATIONAL_UNIT: "folder",
    NodeType.ACCOUNT: "box",
}


def render(snap: Snapshot, view: View = PLAIN) -> str:
    return _graph([snap], view, grouped=False)


def render_many(snaps: Sequence[Snapshot], view: View = PLAIN) -> str:
    """One digraph with a labelled cluster per organization."""
    return _graph(snaps, view, grouped=True)


def _graph(snaps: Sequence[Snapshot], view: View, *, grouped: bool) -> str:
    lines = ["digraph org {", "    rankdir=LR;"]
    if any(not snap.crawl_complete for snap in snaps):
        lines.append("    // the crawl had not finished; nodes may be missing")
    if not grouped:
        if snaps[0].organization:
            lines.append(f"    // {organization_line(snaps[0])}")
        lines.extend(_nodes(snaps[0], view, "    "))
    else:
        for i, snap in enumerate(snaps, 1):
            # Graphviz draws a box around a subgraph only when its name starts "cluster".
            lines.append(f"    subgraph cluster_{i} {{")
            lines.append(f"        label={_quote(organization_line(snap))};")
            lines.extend(_nodes(snap, view, "        "))
            lines.append("    }")
    for snap in snaps:
        for entry in snap:
            for child in entry.children:
                lines.append(f"    {_quote(entry.node.id)} -> {_quote(child)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _nodes(snap: Snapshot, view: View, indent: str) -> list[str]:
    # Fixed words and numbers only, so the comment stays one inert line.
    lines = [f"{indent}// {snap.gaps_line()}"] if snap.gaps else []
    lines += [f"{indent}// {snap.filter_line()}"] if snap.filter is not None else []
    reader = PolicyReader(snap) if view.policies else None
    if reader is not None and enabled_line(snap):
        lines.append(f"{indent}// {enabled_line(snap)}")
    for entry in snap:
        parts, unknown = viewed_label(entry, view, reader, top=entry is snap.root)
        # `\n` is written as the two characters backslash-n: dot's own line-break escape.
        attrs = [f'label="{_lines(parts)}"', f"shape={_SHAPES[entry.node.type]}"]
        if reader is not None:
            tip = text_lines(reader.types(entry.node.id)) or ["no policies"]
            attrs.append(f'tooltip="{_lines(tip)}"')
            if unknown:
                attrs.append("style=dashed")
        lines.append(f"{indent}{_quote(entry.node.id)} [{', '.join(attrs)}];")
    return lines


def _lines(parts: list[str]) -> str:
    return "\\n".join(_quote_body(part) for part in parts)


def _quote(text: str) -> str:
    return f'"{_quote_body(text)}"'


def _quote_body(text: str) -> str:
    # Backslash first: dot reads `\n`, `\l`, `\N`... in labels as escapes of its own.
    return visible(text).replace("\\", "\\\\").replace('"', '\\"')
