"""An indented tree with the same guide characters rich draws, for terminals and tickets.

With `--policies` each node is followed by its policies per type, attached and inherited
(from which ancestor, by name), indented under it on the tree's own guide lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from orgtree_tui.exporters.labels import markers, organization_line
from orgtree_tui.exporters.policy_lines import PolicyReader, enabled_line, text_lines
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.exporters.view import PLAIN, View
from orgtree_tui.text import visible

_TEE, _ELBOW, _PIPE, _SPACE = "├── ", "└── ", "│   ", "    "


def render(snap: Snapshot, view: View = PLAIN) -> str:
    return render_many([snap], view)


def render_many(snaps: Sequence[Snapshot], view: View = PLAIN) -> str:
    """One tree per organization, each under a `# organization ...` line."""
    return "\n".join("\n".join(_Tree(snap, view).lines()) + "\n" for snap in snaps)


class _Tree:
    def __init__(self, snap: Snapshot, view: View) -> None:
        self.snap, self.view = snap, view
        self.reader = PolicyReader(snap) if view.policies else None
        self.out: list[str] = []

    def lines(self) -> list[str]:
        snap, out = self.snap, self.out
        if snap.organization:
            out.append(f"# {organization_line(snap)}")
        if self.reader is not None:
            out.append(f"# {enabled_line(snap) or 'no policy types enabled'}")
        self._node(snap.root, "", "")
        if snap.gaps:
            out.append(f"({snap.gaps_line()})")
        if snap.filter is not None:
            out.append(f"({snap.filter_line()})")
        if not snap.crawl_complete:
            out.append("(the crawl had not finished; nodes may be missing)")
        return out

    def _node(self, entry: Entry, guide: str, below: str) -> None:
        """`guide`: what goes before this node's line; `below`: before its children's."""
        self.out.append(guide + self._label(entry))
        kids = self.snap.children(entry.node.id)
        if self.reader is not None:
            # Under the node, on the line its children hang from (if it has any).
            lead = below + ("│ " if kids else "  ") + " "
            types = self.reader.types(entry.node.id)
            self.out.extend(visible(lead + line) for line in text_lines(types))
        # Recursion is fine: AWS caps OU nesting at five levels below the root.
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            guide, under = (_ELBOW, _SPACE) if last else (_TEE, _PIPE)
            self._node(child, below + guide, below + under)

    def _label(self, entry: Entry) -> str:
        if self.view.label is not None:
            return visible(self.view.label.render(entry))
        node = entry.node
        return visible(f"{node.name} ({node.id}){markers(entry)}")
