"""Opening the policy screen: `a` on the main screen picks one of the selected node's
policies (attached or inherited, every type); the command palette has a "Policy: NAME"
entry per policy the tree knows. What the screen dismisses with (its reach) filters the
tree, through the filter the `/` key uses.

Plain functions over the main screen, which they reach through `Host`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Protocol

from rich.text import Text
from textual.app import App, SystemCommand

from orgtree_tui.forest import Forest
from orgtree_tui.inheritance import applied_at
from orgtree_tui.model import OrgTree
from orgtree_tui.records import AUTHORIZATION_TYPES, SCP, Policy
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.controller import OrgController
from orgtree_tui.ui.filter_control import FilterControl
from orgtree_tui.ui.screens.policy import PolicyPicker, PolicyScreen
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.ui.widgets.policy_details import AWS_MANAGED, type_name
from orgtree_tui.wording import plural


class Host(Protocol):
    """The main screen, as these functions see it."""

    controller: OrgController
    model: TreeView
    org_tree: OrgTreeView
    filter: FilterControl

    @property
    def app(self) -> App[Any]: ...


def _type_order(policy_type: str) -> tuple[bool, bool, str]:
    return (policy_type not in AUTHORIZATION_TYPES, policy_type != SCP, policy_type)


def policies_at(model: TreeView, node_id: str) -> list[tuple[Text, Policy]]:
    """Every policy that applies to the node, once each, by type (SCPs first): the label
    says its type, whether it is attached here and from which ancestors it comes."""
    found = applied_at(model, node_id)
    out: list[tuple[Text, Policy]] = []
    for policy_type in sorted(found, key=_type_order):
        where: dict[Policy, list[str]] = {}
        for level in found[policy_type].chain:
            name = "here" if level.node_id == node_id else _name(model, level.node_id)
            for policy in level.attached or ():
                where.setdefault(policy, []).append(name)
        for policy in sorted(where, key=lambda p: (p.name, p.id)):
            label = Text(visible(policy.name), style="bold")
            label.append(f"  {type_name(policy_type)}", style="")
            if policy.aws_managed:
                label.append(f" · {AWS_MANAGED}", style="dim")
            label.append(f" · {_where(where[policy])}", style="dim")
            out.append((label, policy))
    return out


def _name(model: TreeView, node_id: str) -> str:
    node = model.get(node_id)
    return visible(node.name) if node is not None else node_id


def _where(places: list[str]) -> str:
    here = "attached here" if "here" in places else ""
    above = [p for p in places if p != "here"]
    inherited = f"from {', '.join(above)}" if above else ""
    return ", ".join(p for p in (here, inherited) if p)


def pick_policy(host: Host) -> None:
    """The selected node's policies, to open one."""
    node = host.org_tree.cursor_record()
    app = host.app
    if node is None:
        app.bell()
        return
    choices = policies_at(host.model, node.id)
    if not choices:
        app.notify("No policy is known to apply here (yet).", timeout=3)
        return
    title = f"Policies that apply to {visible(node.name)}"
    app.push_screen(PolicyPicker(title, choices), partial(_picked, host, node.id))


def _picked(host: Host, node_id: str, policy: Policy | None) -> None:
    if policy is not None:
        open_policy(host, policy, node_id)


def open_policy(host: Host, policy: Policy, node_id: str) -> None:
    """The policy screen; `node_id`: a node it applies to (its organization's)."""
    crawler = host.controller.crawler_of(node_id)
    screen = PolicyScreen(host.model, policy, node_id, crawler)
    host.app.push_screen(screen, partial(_closed, host, policy))


def _closed(host: Host, policy: Policy, reach: tuple[str, ...] | None) -> None:
    if reach is None:
        return
    host.filter.show_only(f"policy {policy.name}", reach)
    host.app.notify(
        f"Showing the {plural(len(reach), 'node')} {visible(policy.name)} applies to "
        "(n/N step, esc clears).",
        markup=False,
        timeout=5,
    )


def known_policies(model: TreeView) -> dict[Policy, str]:
    """Every policy attached anywhere in the tree -> a node it is attached to. Read from
    each tree's attachment tables, not node by node: the palette asks on every opening
    (0.44 s for 50,000 nodes node by node, on the UI thread)."""
    trees = model.trees if isinstance(model, Forest) else [model]
    out: dict[Policy, str] = {}
    for tree in trees:
        if not isinstance(tree, OrgTree):
            continue
        for policy_type in tree.facts().enabled_types():
            attached, _ = tree.raw_policies(policy_type)
            for node_id, policies in attached.items():
                # A target listed before the crawl placed it has no reach to count yet.
                for policy in policies if node_id in tree else ():
                    out.setdefault(policy, node_id)
    return out


def palette_commands(host: Host) -> Iterator[SystemCommand]:
    """A "Policy: NAME" entry per policy the tree knows, by name."""
    found = known_policies(host.model)
    for policy in sorted(found, key=lambda p: (p.name.casefold(), p.type, p.id)):
        run: Callable[[], object] = partial(open_policy, host, policy, found[policy])
        help_text = f"{type_name(policy.type)} · {policy.id}"
        yield SystemCommand(f"Policy: {visible(policy.name)}", help_text, run)
