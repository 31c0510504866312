"""The details pane: everything known about the selected node, names rendered as data."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from orgtree_tui.exporters.escape import visible
from orgtree_tui.model import DetailState, Node, NodeType, OrgTree, Policy

LOADING = "loading..."
_TYPE_NAMES = {
    NodeType.ROOT: "root",
    NodeType.ORGANIZATIONAL_UNIT: "organizational unit",
    NodeType.ACCOUNT: "account",
}


class DetailsPane(VerticalScroll, can_focus=False):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.node_id: str | None = None
        self.rendered: RenderableType = Text("Nothing selected.", style="dim")
        self._body = Static(self.rendered, id="details-body")
        self._shown_as: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield self._body

    def show(self, model: OrgTree, node_id: str | None) -> None:
        self.node_id = node_id
        node = model.get(node_id) if node_id else None
        if node is None:
            self.rendered = Text("Nothing selected.", style="dim")
        else:
            self.rendered = render_details(model, node)
        self._body.update(self.rendered)
        self._shown_as = self._signature(model, node_id)

    def refresh_if_changed(self, model: OrgTree, *, force: bool = False) -> None:
        """Render again only if what is shown changed: while a crawl streams, most news is
        about other nodes, and each render re-lays out the pane."""
        if force or self._signature(model, self.node_id) != self._shown_as:
            self.show(model, self.node_id)

    @staticmethod
    def _signature(model: OrgTree, node_id: str | None) -> tuple[object, ...]:
        if node_id is None:
            return ()
        return (model.get(node_id), model.counts(node_id), model.is_incomplete(node_id))


def render_details(model: OrgTree, node: Node) -> RenderableType:
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column(overflow="fold")

    def row(name: str, value: str | None, style: str = "") -> None:
        if value:
            fields.add_row(Text(name), Text(visible(value), style=style))

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
        counts = model.counts(node.id)
        row("Accounts", f"{model.direct_accounts(node.id)} direct, {counts.accounts} in total")
        row("OUs below", str(counts.ous))
    reason = model.incomplete().get(node.id)
    if reason:
        row("Incomplete", f"children could not all be listed ({reason})", "bold red")
    details = model.details(node.id)
    return Group(
        Text(visible(node.name), style="bold underline"),
        Text(),
        fields,
        Text(),
        Text("Tags", style="bold"),
        _tags(details.tags, details.tags_state),
        Text(),
        Text("Service control policies", style="bold"),
        _policies(details.policies, details.policies_state),
    )


def _tags(tags: dict[str, str] | None, state: DetailState) -> RenderableType:
    if state is not DetailState.LOADED or tags is None:
        return _state_text(state)
    if not tags:
        return Text("none", style="dim")
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="dim")
    table.add_column("Key", no_wrap=True)
    table.add_column("Value", overflow="fold")
    for key in sorted(tags):
        table.add_row(Text(visible(key)), Text(visible(tags[key])))
    return table


def _policies(policies: tuple[Policy, ...] | None, state: DetailState) -> RenderableType:
    if state is not DetailState.LOADED or policies is None:
        return _state_text(state)
    if not policies:
        return Text("none attached directly", style="dim")
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(style="dim", no_wrap=True)
    for policy in policies:
        table.add_row(Text(visible(policy.name)), Text(policy.id))
    return table


def _state_text(state: DetailState) -> Text:
    if state is DetailState.PENDING:
        return Text(LOADING, style="italic dim")
    return Text(state.value, style="yellow")
