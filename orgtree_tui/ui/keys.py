"""Every key of the app in one place, and the help rows and palette commands made from them.

The main screen's keys (`MAIN_BINDINGS`), the app's own (`APP_BINDINGS`: quitting, from any
screen) and the tree's (`OrgTreeView.BINDINGS`): the footer, the help screen and the command
palette are all generated from these lists, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode

MAIN_BINDINGS: list[BindingType] = [
    Binding("slash", "start_filter", "Filter"),
    Binding("n", "next_match", "Next match", show=False),
    Binding("N", "previous_match", "Previous match", show=False),
    Binding("x", "export", "Export"),
    # y and o are in the help and the palette: the footer keeps room for ? and q at 80 columns.
    Binding("y", "copy_id", "Copy id", show=False),
    Binding("Y", "copy_arn", "Copy ARN", show=False),
    Binding("o", "open_console", "Console", show=False),
    Binding("P", "pick_profiles", "Pick AWS profiles", show=False),
    # The app's, so the main screen's module stays as it is (ui/screens/policy_actions.py).
    Binding("a", "app.pick_policy", "Policies of the selected node", show=False),
    Binding("r", "recrawl", "Re-crawl"),
    Binding("question_mark", "help", "Help"),
    Binding("escape", "clear_filter", "Clear filter", show=False),
]

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit"),
    # Textual's default ctrl+c only hints at ctrl+q; quitting at once is what people expect,
    # unless text is selected (the mouse, or in an input): then it copies, as terminals do.
    Binding("ctrl+c", "copy_or_quit", "Copy the selection, or quit", show=False, priority=True),
]

# Tree's own enter binding selects, which toggles the node (auto_expand): list it too.
TREE_EXTRA = [Binding("enter", "select_cursor", "Toggle")]


def _bindings(items: Iterable[BindingType]) -> Iterator[Binding]:
    for item in items:
        if isinstance(item, Binding):
            yield item


def help_rows(app: App[Any], tree_bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for the tree's keys, then the screen's and the app's; keys doing
    the same thing (space and enter toggle, q and ctrl+c quit) share a row."""
    rows: dict[str, list[str]] = {}
    every = [*tree_bindings, *TREE_EXTRA, *MAIN_BINDINGS, *APP_BINDINGS]
    for binding in _bindings(every):
        keys = rows.setdefault(binding.description, [])
        keys.extend(
            app.get_key_display(Binding(key.strip(), binding.action))
            for key in binding.key.split(",")
        )
    listed = [(" / ".join(keys), description) for description, keys in rows.items()]
    # Textual's own: tab moves the focus (the details pane then scrolls with j/k, g/G).
    pane = ("tab / shift+tab", "Focus the details pane / the tree")
    return [*listed, pane, ("^p", "Command palette")]


def palette_commands(
    app: App[Any], screen: DOMNode, tree: DOMNode, tree_bindings: list[BindingType]
) -> Iterator[SystemCommand]:
    """One palette entry per action, keyed like the help screen, run where it is bound."""
    seen: set[str] = set()
    targets = [
        *((tree, b) for b in _bindings(tree_bindings)),
        *((screen, b) for b in _bindings(MAIN_BINDINGS)),
        *((app, b) for b in _bindings(APP_BINDINGS)),
    ]
    for target, binding in targets:
        if binding.action in seen:
            continue
        seen.add(binding.action)
        keys = " / ".join(
            app.get_key_display(Binding(k.strip(), binding.action)) for k in binding.key.split(",")
        )
        run = partial(app.run_action, binding.action, target)
        yield SystemCommand(binding.description, f"key: {keys}", run)
