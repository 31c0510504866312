"""The details pane: everything known about the selected node, names rendered as data."""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len, chop_cells, set_cell_size
from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from orgtree_tui.records import Counts, DetailState, Node, NodeType
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.widgets import policy_details

LOADING = "loading..."
NOT_FETCHED = "not fetched (r crawls)"  # no crawl is running that would fetch it
_TYPE_NAMES = {
    NodeType.ROOT: "root",
    NodeType.ORGANIZATIONAL_UNIT: "organizational unit",
    NodeType.ACCOUNT: "account",
}


class DetailsPane(VerticalScroll):
    """Takes focus (tab, or a click) and then scrolls with the tree's keys. The scrollbar's
    columns are always kept (`scrollbar-gutter: stable`): the text is folded to the width
    left beside them, and a scrollbar appearing after the fold no longer folds each long
    line once more (the ragged first paint at 80x24: `ARN` on a line of its own)."""

    DEFAULT_CSS = """
    DetailsPane {
        scrollbar-gutter: stable;
    }
    DetailsPane:focus {
        background-tint: $foreground 4%;
    }
    """
    BINDINGS = [
        Binding("j,down", "lines(1)", "Down", show=False),
        Binding("k,up", "lines(-1)", "Up", show=False),
        Binding("pagedown,space", "pages(1)", "Page down", show=False),
        Binding("pageup", "pages(-1)", "Page up", show=False),
        Binding("g,home", "edge(0)", "Top", show=False),
        Binding("G,end", "edge(1)", "Bottom", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.node_id: str | None = None
        self.rendered: RenderableType = Text("Nothing selected.", style="dim")
        self._body = Static(self.rendered, id="details-body")
        self._shown_as: tuple[object, ...] = (None, None, None)
        self._model: TreeView | None = None
        self._lines = 0
        self._refold_pending = False
        # Whether a crawl is there to fetch a node's details when they are asked for.
        self.will_fetch: Callable[[str], bool] = lambda node_id: True
        # The counts the tree's line for a node shows (None: none drawn): the pane shows
        # the same, not a second read of a model the crawl is adding to.
        self.drawn_counts: Callable[[str], Counts | None] = lambda node_id: None

    def compose(self) -> ComposeResult:
        yield self._body

    # Scrolls are immediate: deferred ones all start from the last frame's position, so a
    # held key's repeats between two frames would move one line.
    def action_lines(self, lines: int) -> None:
        self.scroll_relative(y=lines, animate=False, immediate=True)

    def action_pages(self, pages: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=pages * page, animate=False, immediate=True)

    def action_edge(self, end: int) -> None:
        self.scroll_to(y=self.max_scroll_y if end else 0, animate=False, immediate=True)

    def show(self, model: TreeView, node_id: str | None) -> None:
        self.node_id = node_id
        node = model.get(node_id) if node_id else None
        self._model = model
        if node is None:
            self.rendered = Text("Nothing selected.", style="dim")
        else:
            width = self._width()
            if width is None:
                return  # drawn once laid out: a guessed width would fold raggedly
            pending = LOADING if self.will_fetch(node.id) else NOT_FETCHED
            counts = self.drawn_counts(node.id)
            self.rendered = render_details(model, node, width, pending=pending, counts=counts)
        # The text is folded to the pane's width here, so its line count is its height:
        # the same height needs a repaint only, not a layout of the whole screen.
        lines = self.rendered.plain.count("\n") + 1 if isinstance(self.rendered, Text) else 0
        self._body.update(self.rendered, layout=lines != self._lines or not lines)
        self._lines = lines
        self._shown_as = self._signature(model, node_id)

    def _width(self) -> int | None:
        width = self.scrollable_content_region.width  # the scrollbar's gutter left out
        if width > 20:
            return width
        # Not laid out yet (a cached tree can be shown before the first layout): fold
        # once the pane has its width, not now at a guess the pane then folds again.
        if not self._refold_pending:
            self._refold_pending = True
            self.call_after_refresh(self._refold)
        return None

    def _refold(self) -> None:
        self._refold_pending = False
        if self._model is not None and self.scrollable_content_region.width > 20:
            self.show(self._model, self.node_id)

    def on_resize(self) -> None:
        if self._model is not None and self.node_id is not None:
            self.show(self._model, self.node_id)  # the columns fold to the new width

    def refresh_if_changed(self, model: TreeView, *, force: bool = False) -> None:
        """Render again only if what is shown changed: while a crawl streams, most news is
        about other nodes. Counts are the tree line's (`drawn_counts`), which change once a
        drain at most: the pane follows them at once, so the two never disagree."""
        if force or self._signature(model, self.node_id) != self._shown_as:
            self.show(model, self.node_id)

    def _signature(self, model: TreeView, node_id: str | None) -> tuple[object, ...]:
        if node_id is None:
            return (None, None, None)
        # What it inherits shows too: an ancestor's policies, or the organization's facts,
        # arriving change what is shown of this node.
        above = policy_details.inherited_signature(model, node_id)
        counts = self.drawn_counts(node_id) or model.counts(node_id)
        return (model.get(node_id), (model.is_incomplete(node_id), above), counts)


def render_details(
    model: TreeView,
    node: Node,
    width: int = 60,
    *,
    pending: str = LOADING,
    counts: Counts | None = None,
) -> Text:
    """One Text, laid out by hand in columns: a Rich Table costs ten times as much to
    render, and while a big org streams in this pane is rendered again and again.
    `counts`: the node's as the tree shows them (default: the model's now)."""
    fields: list[tuple[str, str, str]] = []

    def row(name: str, value: str | None, style: str = "") -> None:
        if value:
            fields.append((name, visible(value), style))

    row("Type", _TYPE_NAMES[node.type])
    row("Id", node.id)
    row("ARN", node.arn)
    row("Path", model.path(node.id))
    row("Email", node.email)
    if node.state:
        row("State", node.state, "" if node.state == "ACTIVE" else "bold yellow")
    if node.joined_method or node.joined_timestamp:
        stamp = node.joined_timestamp
        when = stamp.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if stamp else ""
        row("Joined", " ".join(p for p in (node.joined_method or "", when) if p))
    if not node.is_account:
        counts = counts or model.counts(node.id)
        row("Accounts", f"{model.direct_accounts(node.id)} direct, {counts.accounts} in total")
        row("OUs below", str(counts.ous))
    reason = model.incomplete().get(node.id)
    if reason:
        row("Incomplete", f"children could not all be listed ({reason})", "bold red")
    details = model.details(node.id)
    out = Text()
    out.append(visible(node.name), style="bold underline")
    out.append("\n\n")
    _columns(out, [(Text(n, style="bold"), Text(v, style=st)) for n, v, st in fields], width)
    sections = policy_details.policy_sections(model, node, pending)
    if node.type is NodeType.ROOT:
        sections.insert(0, policy_details.organization_section(model, node, pending))
    elif (delegated := policy_details.delegated_section(model, node, pending)) is not None:
        sections.insert(0, delegated)
    out.append("\nTags\n", style="bold")
    _tags(out, details.tags, details.tags_state, width, pending)
    for section in sections:
        _section(out, section, width)
    out.rstrip()
    return out


def _section(out: Text, section: policy_details.Section, width: int) -> None:
    """A policy or organization section (ui/widgets/policy_details.py)."""
    out.append("\n")
    note = f" · {section.note}" if section.note else ""
    if cell_len(section.heading + note) <= width:
        out.append(section.heading, style="bold")
        out.append(f"{note}\n", style="dim")
    else:
        for line in fold(section.heading, width):
            out.append(f"{line}\n", style="bold")
        for line in fold(section.note, width) if note else ():
            out.append(f"{line}\n", style="dim")
    if not section.stacked:
        _columns(out, section.rows, width, cap=28, right_min=12)
    for label, value in section.rows if section.stacked else ():
        for line in fold(label.plain, width) if label.plain else ():
            out.append(f"{line}\n", style=label.style)
        at = 0
        for line in fold(value.plain, width - 2):  # sliced, so its styled parts stay so
            out.append("  ")
            out.append_text(value[at : at + len(line)])
            out.append("\n")
            at += len(line)
    if section.tail:
        out.append("\n")
    for line in fold(section.tail, width) if section.tail else ():
        out.append(f"{line}\n", style="dim")


def _columns(
    out: Text, rows: list[tuple[Text, Text]], width: int, *, cap: int = 24, right_min: int = 0
) -> None:
    """Two columns, the second folded under itself when it is too long for the pane.
    `right_min`: the second column's least width (default: half the pane)."""
    if not rows:
        return
    most = width - right_min - 2 if right_min else width // 2 - 2
    left = min(cap, max(cell_len(a.plain) for a, _ in rows), max(6, most))
    right = max(8, width - left - 2)
    for a, b in rows:
        key = a.plain if cell_len(a.plain) <= left else chop_cells(a.plain, left - 1)[0] + "…"
        out.append(set_cell_size(key, left), style=a.style)
        out.append("  ")
        for i, piece in enumerate(fold(b.plain, right) or [""]):
            if i:
                out.append(" " * (left + 2))
            out.append(piece, style=b.style)
            out.append("\n")


BREAK_AFTER = "/:@ ,"  # between the parts of an ARN, a link, an email, a list
BREAK_WEAK = ".-_"  # inside a part (an id like o-ujzde8gxd6): only when nothing else fits


def fold(value: str, width: int) -> list[str]:
    """`value` in lines of at most `width` cells, broken after a separator between the
    parts of an ARN or a link (`/`, `:`, `@`, ...) anywhere past a line's first third, so an
    id is never split; after `.`, `-` or `_` only in the line's last third when there is no
    such separator; anywhere only when neither is there."""
    lines: list[str] = []
    rest = value
    while cell_len(rest) > width:
        piece = chop_cells(rest, width)[0] or rest[0]  # a character wider than the line
        cut = max(piece.rfind(ch) for ch in BREAK_AFTER) + 1
        if cut == 0 or cut < len(piece) // 3:
            cut = max(piece.rfind(ch) for ch in BREAK_WEAK) + 1
            if cut == 0 or cut < len(piece) * 2 // 3:
                cut = len(piece)
        lines.append(rest[:cut])
        rest = rest[cut:]
    if rest or not lines:
        lines.append(rest)
    return lines


def _tags(
    out: Text, tags: dict[str, str] | None, state: DetailState, width: int, pending: str
) -> None:
    if state is not DetailState.LOADED or tags is None:
        out.append_text(_state_text(state, pending))
        out.append("\n")
    elif not tags:
        out.append("none\n", style="dim")
    else:
        rows = [(Text("Key", style="dim"), Text("Value", style="dim"))]
        rows += [(Text(visible(k)), Text(visible(tags[k]))) for k in sorted(tags)]
        _columns(out, rows, width, cap=30)


def _state_text(state: DetailState, pending: str) -> Text:
    if state is DetailState.PENDING:
        return Text(pending, style="italic dim")
    return Text(state.value, style="yellow")
