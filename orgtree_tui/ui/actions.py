"""What the user's keys do beyond moving in the tree: filter, export, copy, help, re-crawl.

A base class of the app rather than a mixin, so mypy sees `App` and the attributes the
app provides.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from pathlib import Path

from textual import on
from textual.app import App
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from orgtree_tui.connection import ConnectionSettingsError
from orgtree_tui.console import console_url
from orgtree_tui.export import FORMATS, ExportError, ExportResult, export_subtree
from orgtree_tui.filtering import NO_MATCHES, FilterIndex, FilterResult
from orgtree_tui.forest import Forest
from orgtree_tui.identity import list_profiles
from orgtree_tui.records import Node
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui import keys
from orgtree_tui.ui.browser import browser_available, open_in_browser
from orgtree_tui.ui.screens.export_dialog import ExportDialog, ExportRequest
from orgtree_tui.ui.screens.help import HelpScreen
from orgtree_tui.ui.screens.profile_picker import ProfilePicker
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.widgets.filter_bar import FilterBar
from orgtree_tui.ui.widgets.org_tree import OrgTreeView
from orgtree_tui.wording import plural

FILTER_INTERVAL = 0.1  # seconds: at most one filter pass per this while keys come fast


class UserActions(App[int]):
    _export_was_complete = False
    pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None
    model: TreeView
    filter_text: str
    matches: FilterResult
    today: Callable[[], date]
    export_dir: Path | None
    export_format: str = FORMATS[0]
    _export_request: ExportRequest | None = None

    org_tree: OrgTreeView
    filter_bar: FilterBar

    def start_crawl(self) -> None:
        raise NotImplementedError

    def refresh_status(self) -> None:
        raise NotImplementedError

    def resume_crawl(self) -> bool:
        raise NotImplementedError

    def is_complete(self, node_id: str) -> bool:
        raise NotImplementedError

    def _selected_id(self) -> str | None:
        node_id = self.org_tree.cursor_id
        if node_id is None:
            roots = self.model.roots()
            node_id = roots[0].id if roots else None
        return node_id

    # -- filter ----------------------------------------------------------------------------
    # The index lives in the core (orgtree_tui/filtering.py) and is fed the crawl's news at
    # each drain; a keystroke costs one query of it. Keys typed faster than FILTER_INTERVAL
    # are filtered once for where the typing got to (first key at once, then at most one
    # pass per interval), so a burst of keys never queues a pass per key.

    filter_delay: float | None = FILTER_INTERVAL  # None: filter at every key (snapshots)
    _filter_index: FilterIndex | None = None
    _filter_timer: Timer | None = None
    _filter_last = -FILTER_INTERVAL  # when the last pass ran (time.monotonic)

    def filter_index(self) -> FilterIndex:
        """The index of what is on screen; built from the model once after the model is
        swapped (a cache shown, a refresh done), then kept current by `filter_news`."""
        if self._filter_index is None:
            self._filter_index = FilterIndex.of(self.model)
        return self._filter_index

    def filter_forget_model(self) -> None:
        """Another model is on screen: the index is rebuilt when it is next needed."""
        self._filter_index = None
        if self.filter_text:
            self.matches = self.filter_index().query(self.filter_text)
            self.org_tree.set_filter(self.matches)
            self.filter_bar.show_matches(self.filter_text, len(self.matches))

    def filter_news(self, nodes: Sequence[Node], details: set[str]) -> None:
        """The crawl's drained news goes into the index; an active filter grows with it."""
        index = self.filter_index()
        index.add_many(nodes)
        for node_id, found in self.model.details_of(details).items():
            index.set_tags(node_id, found.tags)
        if any(n.parent_id is None for n in nodes):
            index.order_roots([r.id for r in self.model.roots()])
        if self.filter_text and (nodes or details):
            self.matches = index.query(self.filter_text)
            self.org_tree.grow_filter(self.matches)
            self.filter_bar.show_matches(self.filter_text, len(self.matches))

    def action_start_filter(self) -> None:
        self.filter_bar.open()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            return  # a pass is due: it reads the bar's value when it runs
        wait = self._filter_last + (self.filter_delay or 0.0) - time.monotonic()
        if self.filter_delay is None or wait <= 0:
            self._apply_filter()
        else:
            self._filter_timer = self.set_timer(wait, self._apply_filter)

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        text = self.filter_bar.value.strip() if self.filter_bar.display else ""
        self._filter_last = time.monotonic()
        if text == self.filter_text:
            return
        self.filter_text = text
        self.matches = self.filter_index().query(text)
        self.org_tree.set_filter(self.matches if text else None)
        self.filter_bar.show_matches(text, len(self.matches))
        self.refresh_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._apply_filter()  # enter keeps what was typed, even mid-interval
        self.org_tree.focus()

    def action_clear_filter(self) -> None:
        bar = self.filter_bar
        if not bar.display and not self.filter_text:
            return
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        bar.close()  # its Changed message clears the filter in the tree
        self.filter_text, self.matches = "", NO_MATCHES
        self.org_tree.set_filter(None)
        self.org_tree.focus()
        self.refresh_status()

    def action_next_match(self) -> None:
        self._jump(1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        if not self.matches:
            self.bell()
            return
        ordered = self.matches.ordered()
        current = self.org_tree.cursor_id
        if current is not None and current in self.matches:
            index = (ordered.index(current) + step) % len(ordered)
        else:
            # Matches are in display order: the first one past the cursor, or before it.
            key = self.matches.index.path_key
            here = bisect_left(ordered, key(current), key=key) if current is not None else 0
            index = here % len(ordered) if step > 0 else here - 1
        self.org_tree.reveal(ordered[index])

    # -- export ----------------------------------------------------------------------------

    def action_export(self) -> None:
        node_id = self._selected_id()
        if node_id is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        dialog = ExportDialog(
            self.model, node_id, self.today(), self.export_dir, self.export_format
        )
        self.push_screen(dialog, self._run_export)

    def _run_export(self, request: ExportRequest | None) -> None:
        if request is None:
            return
        self._export_request = request
        complete = self.is_complete(request.node_id)
        self._export_was_complete = complete
        # The organization's own tree: the export names the organization it came from.
        model = self.model
        tree = model.owner(request.node_id) if isinstance(model, Forest) else model
        work = partial(
            export_subtree,
            tree,
            request.node_id,
            request.format,
            request.path,
            force=request.force,
            complete=complete,
        )
        self.run_worker(work, group="export", thread=True, exit_on_error=False)

    def export_done(self, worker: Worker[object]) -> None:
        if worker.state is WorkerState.SUCCESS and isinstance(worker.result, ExportResult):
            result = worker.result
            request = self._export_request
            if request is not None:
                # The next `x` suggests the same format and directory (only ones that worked).
                self.export_format = request.format
                if request.path.parent != Path("."):
                    self.export_dir = request.path.parent
            note = "" if self._export_was_complete else " (the crawl was not complete)"
            where = visible(str(result.path.absolute())) if result.path else "?"
            self.notify(
                f"Wrote {plural(result.ous, 'OU')} and {plural(result.accounts, 'account')} to "
                f"{where} ({result.format}){note}",
                title="Exported",
                markup=False,
            )
        elif worker.state is WorkerState.ERROR and worker.error is not None:
            error = worker.error
            text = (
                str(error) if isinstance(error, ExportError) else f"{type(error).__name__}: {error}"
            )
            self.notify(visible(text), title="Export failed", severity="error", markup=False)

    # -- copy, help, re-crawl --------------------------------------------------------------

    def action_copy_id(self) -> None:
        self._copy(lambda node_id: node_id, "id")

    def action_copy_arn(self) -> None:
        self._copy(lambda node_id: n.arn if (n := self.model.get(node_id)) else "", "ARN")

    def _copy(self, pick: Callable[[str], str], what: str) -> None:
        node_id = self.org_tree.cursor_id
        text = pick(node_id) if node_id else ""
        if not text:
            self.bell()
            return
        self.copy_to_clipboard(text)
        self.notify(f"Copied {what} {visible(text)}", markup=False, timeout=3)

    def action_recrawl(self) -> None:
        if self.resume_crawl():
            self.notify("Resuming the crawl.", timeout=2)
            return
        self.notify("Crawling the organization again.", timeout=2)
        self.start_crawl()

    # -- console, profiles ------------------------------------------------------------------

    def action_open_console(self) -> None:
        """The selected node in the AWS console: in a browser if there is one here, and
        always on the clipboard and in a notification, so it can be opened elsewhere."""
        node_id = self.org_tree.cursor_id
        node = self.model.get(node_id) if node_id else None
        if node is None:
            self.bell()
            return
        model = self.model
        tree = model.owner(node.id) if isinstance(model, Forest) else model
        url = console_url(node, tree.organization)
        self.copy_to_clipboard(url)
        # The demo's ids are made up: the link has the right shape but leads nowhere.
        demo = (
            " The demo organization is simulated: AWS has no such page."
            if self.showing_demo()
            else ""
        )
        if self.browser_available():
            self.run_worker(partial(self.open_browser, url), group="browser", thread=True)
            self.notify(f"Opening {url} (link copied).{demo}", title="Console", markup=False)
        else:
            self.notify(
                f"No browser here; the link is copied: {url}{demo}",
                title="Console",
                markup=False,
                timeout=20,
            )

    def showing_demo(self) -> bool:
        raise NotImplementedError

    def browser_available(self) -> bool:
        return browser_available()

    def open_browser(self, url: str) -> bool:
        return open_in_browser(url)

    def action_pick_profiles(self) -> None:
        if self.pick_profiles is None:
            self.notify("Profiles cannot be switched here.", severity="warning")
            return
        try:
            profiles = list_profiles()
        except ConnectionSettingsError as exc:
            self.notify(visible(str(exc)), severity="error", markup=False)
            return
        if not profiles:
            self.notify(
                "No profiles in the AWS config files; add one with `aws configure sso`.",
                severity="warning",
                markup=False,
            )
            return
        self.push_screen(ProfilePicker(profiles, self.current_profiles()), self._profiles_picked)

    def _profiles_picked(self, picked: tuple[str, ...] | None) -> None:
        if picked and self.pick_profiles is not None:
            self.switch_sources(self.pick_profiles(picked))

    def current_profiles(self) -> tuple[str, ...]:
        raise NotImplementedError

    def switch_sources(self, sources: list[OrgSource]) -> None:
        raise NotImplementedError

    def action_help(self) -> None:
        self.push_screen(HelpScreen(keys.help_rows(self, OrgTreeView.BINDINGS)))
