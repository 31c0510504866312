"""What the main screen's keys do beyond the tree and the filter (export, copy, console,
profiles) and what it says when an export or a refresh is done.

Plain functions over the screen, which they reach through `Host` (what they need of it,
nothing more), so this module does not import the screen's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from textual.app import App

from orgtree_tui.connection import ConnectionSettingsError
from orgtree_tui.console import console_url
from orgtree_tui.export import FORMATS, ExportError
from orgtree_tui.exporters.selection import Selection
from orgtree_tui.forest import Forest
from orgtree_tui.identity import list_profiles
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.controller import OrgController, Refreshed
from orgtree_tui.ui.filter_control import FilterControl
from orgtree_tui.ui.screens.export_dialog import ExportDialog, ExportRequest
from orgtree_tui.ui.screens.profile_picker import ProfilePicker
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.widgets.copied_note import CopiedNote
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.ui.workers import Workers
from orgtree_tui.wording import plural


class Host(Protocol):
    """The main screen, as these functions see it."""

    controller: OrgController
    jobs: Workers
    model: TreeView
    org_tree: OrgTreeView
    export_dir: Path | None
    export_format: str
    filter: FilterControl
    today: Callable[[], Any]
    pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None
    copied: CopiedNote

    @property
    def app(self) -> App[Any]: ...

    def browser_available(self) -> bool: ...

    def open_browser(self, url: str) -> bool: ...

    def switch_sources(self, sources: list[OrgSource]) -> None: ...

    def show_model(self, *, placeholder: str = "") -> None: ...

    def update_header(self) -> None: ...


def owner_of(model: TreeView, node_id: str) -> TreeView:
    """The organization's own tree: an export names the organization it came from."""
    return model.owner(node_id) if isinstance(model, Forest) else model


# -- export -------------------------------------------------------------------------------


def start_export(host: Host) -> None:
    node_id = host.org_tree.cursor_id
    if node_id is None:
        roots = host.model.roots()
        node_id = roots[0].id if roots else None
    if node_id is None:
        host.app.notify("Nothing to export yet.", severity="warning")
        return
    fmt = host.export_format if host.export_format in FORMATS else FORMATS[0]
    shown = host.filter.matches.query  # the filter on screen ("" when none)
    dialog = ExportDialog(host.model, node_id, host.today(), host.export_dir, fmt, shown)
    host.app.push_screen(dialog, partial(_export_chosen, host))


def _export_chosen(host: Host, request: ExportRequest | None) -> None:
    if request is None:
        return
    node_id = request.node_id
    tree = owner_of(host.model, node_id)
    ran_to_end = host.controller.ran_to_end(node_id)
    selection = Selection(match=request.match) if request.match else None
    host.jobs.export(
        tree,
        node_id,
        request.format,
        request.path,
        force=request.force,
        ran_to_end=ran_to_end,
        selection=selection,
    )


def exported(host: Host, message: Workers.Exported) -> None:
    result, app = message.result, host.app
    if result is not None:
        # The next `x` suggests the same format and directory (only ones that worked).
        host.export_format = message.fmt
        if message.path.parent != Path("."):
            host.export_dir = message.path.parent
        note = "" if result.complete else f" (incomplete: {result.missing})"
        if result.matches is not None:
            note = f" (filtered: {plural(result.matches, 'match', 'matches')}){note}"
        where = visible(str(result.path.absolute())) if result.path else "?"
        app.notify(
            f"Wrote {plural(result.ous, 'OU')} and {plural(result.accounts, 'account')} to "
            f"{where} ({result.format}){note}",
            title="Exported",
            markup=False,
        )
        return
    error = message.error
    text = str(error) if isinstance(error, ExportError) else f"{type(error).__name__}: {error}"
    app.notify(visible(text), title="Export failed", severity="error", markup=False)


# -- a refresh done -----------------------------------------------------------------------


def show_refresh(host: Host, refreshed: Refreshed) -> None:
    """A refresh replaced the tree on screen: mark what changed, say what changed."""
    changes = refreshed.changes
    tree = host.org_tree
    tree.mark_changes({**tree.changes, **changes.marks()})  # the marks of before stay
    host.show_model()
    host.update_header()
    gone = refreshed.removed_names
    more = " ..." if len(changes.removed) > len(gone) else ""
    removed = f" Removed: {', '.join(map(visible, gone))}{more}." if gone else ""
    several = host.controller.several
    title = "Refreshed" + (f" {refreshed.slot.name}" if several else "")
    summary = changes.summary()
    host.app.notify(
        f"{summary[:1].upper()}{summary[1:]}.{removed}", title=title, markup=False, timeout=8
    )


# -- copy, console, profiles --------------------------------------------------------------


def copy(host: Host, pick: Callable[[str], str], what: str) -> None:
    node_id = host.org_tree.cursor_id
    text = pick(node_id) if node_id else ""
    if not text:
        host.app.bell()
        return
    host.copied.copy(f"Copied {what}", text)


def open_console(host: Host) -> None:
    """The selected node in the AWS console: in a browser if there is one here, and always
    on the clipboard and in the copy's note, so it can be opened elsewhere."""
    node = host.org_tree.cursor_record()
    app = host.app
    if node is None:
        app.bell()
        return
    url = console_url(node, owner_of(host.model, node.id).organization)
    # The demo's ids are made up: the link has the right shape but leads nowhere.
    demo = (
        "The demo organization is simulated: AWS has no such page."
        if host.controller.showing_demo()
        else ""
    )
    if host.browser_available():
        host.jobs.open_browser(partial(host.open_browser, url))
        host.copied.copy("Console: opening (link copied)", url, demo)
    else:
        host.copied.copy("Console: No browser here; the link is copied", url, demo)


def pick_profiles(host: Host) -> None:
    app = host.app
    if host.pick_profiles is None:
        app.notify("Profiles cannot be switched here.", severity="warning")
        return
    try:
        profiles = list_profiles()
    except ConnectionSettingsError as exc:
        app.notify(visible(str(exc)), severity="error", markup=False)
        return
    if not profiles:
        app.notify(
            "No profiles in the AWS config files; add one with `aws configure sso`.",
            severity="warning",
            markup=False,
        )
        return
    current = host.controller.current_profiles()
    app.push_screen(ProfilePicker(profiles, current), partial(_profiles_picked, host))


def _profiles_picked(host: Host, picked: tuple[str, ...] | None) -> None:
    if picked and host.pick_profiles is not None:
        host.switch_sources(host.pick_profiles(picked))
