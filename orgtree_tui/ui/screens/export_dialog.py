"""The `x` dialog: format, destination, overwrite confirmation. Writing happens elsewhere,
in a worker through `orgtree_tui.export`, the same module the CLI uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from orgtree_tui.export import (
    EXTENSIONS,
    FORMATS,
    ExportError,
    check_destination,
    default_filename,
)
from orgtree_tui.records import NodeType
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.screens.confirm import ConfirmScreen
from orgtree_tui.ui.widgets.dialog import Dialog
from orgtree_tui.wording import plural


@dataclass(frozen=True, slots=True)
class ExportRequest:
    node_id: str
    format: str
    path: Path
    force: bool
    match: str | None = None  # only what the `/` filter shows: its matches and their ancestors


class ExportDialog(ModalScreen[ExportRequest | None]):
    DEFAULT_CSS = """
    ExportDialog {
        align: center middle;
    }
    #export-format {
        /* All formats on one line: the dialog fits a 24-line terminal with its buttons. */
        layout: horizontal;
        width: 100%;
        margin-bottom: 1;
    }
    #export-format RadioButton {
        width: auto;
    }
    #export-hint {
        color: $text-muted;
    }
    #export-filtered {
        /* One line in the format box's bottom margin, not a bordered box: the dialog
           still fits a 24-line terminal with its buttons. */
        border: none;
        padding: 0 1;
        height: 1;
    }
    ExportDialog.-filtered #export-format {
        margin-bottom: 0;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # The file box has the focus and no use for up and down: they pick the format.
        Binding("up", "cycle_format(-1)", "Previous format", show=False),
        Binding("down", "cycle_format(1)", "Next format", show=False),
    ]

    def __init__(
        self,
        model: TreeView,
        node_id: str,
        today: date,
        directory: Path | None = None,
        fmt: str = FORMATS[0],
        filter_text: str = "",
    ) -> None:
        """`directory` and `fmt`: where and how the last export went, or the defaults;
        `filter_text`: the `/` filter on screen ("" when none), offered as what to export."""
        super().__init__()
        self.model = model
        self.node_id = node_id
        self.today = today
        self.directory = directory
        self.format = fmt if fmt in FORMATS else FORMATS[0]
        self._default = self._default_path(self.format)
        self._shown_title = ""
        self.filter_text = filter_text.strip()

    def compose(self) -> ComposeResult:
        with Dialog(id="export-dialog"):
            title = self._title()
            self._shown_title = title.plain
            yield Label(title, id="export-title", classes="dialog-title")
            yield Label("Format")
            with RadioSet(id="export-format"):
                for fmt in FORMATS:
                    yield RadioButton(fmt, value=fmt == self.format, id=f"format-{fmt}")
            if self.filter_text:
                # On by default: what the user is looking at is what they mean to export.
                yield Checkbox(
                    Text.assemble("Only what the filter shows: ", (self.filter_text, "bold")),
                    value=True,
                    id="export-filtered",
                )
            yield Label("File")
            # The suggestion starts selected, so typing replaces it (arrows keep it to edit).
            yield Input(self._default, id="export-path", select_on_focus=True)
            yield Static("", id="export-error", classes="dialog-error")
            yield Label("↑/↓ format · enter exports · esc cancels", id="export-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.set_class(bool(self.filter_text), "-filtered")
        self.query_one(Input).focus()
        # Mid-crawl the subtree still grows: the counts follow it.
        self.set_interval(0.5, self._refresh_title)

    def _refresh_title(self) -> None:
        title = self._title()
        if title.plain != self._shown_title:
            self._shown_title = title.plain
            self.query_one("#export-title", Label).update(title)

    def _title(self) -> Text:
        node = self.model.get(self.node_id)
        counts = self.model.counts(self.node_id)
        title = Text("Export ")
        title.append(visible(self.model.path(self.node_id)), style="bold")
        if node is not None and node.type is not NodeType.ACCOUNT:
            # What the file will hold, as the notification afterwards counts it.
            ous = counts.ous + (node.type is NodeType.ORGANIZATIONAL_UNIT)
            title.append(f"  {plural(ous, 'OU')}, {plural(counts.accounts, 'account')}")
        return title

    def _default_path(self, fmt: str) -> str:
        name = default_filename(self.model, self.node_id, fmt, self.today)
        # "./name" says where it goes: the directory the app was started in.
        return str(self.directory / name) if self.directory else f"./{name}"

    @on(RadioSet.Changed)
    def _format_changed(self, event: RadioSet.Changed) -> None:
        before, self.format = self.format, FORMATS[event.index]
        path_input = self.query_one(Input)
        typed = path_input.value
        if typed == self._default:
            was_selected = path_input.selection == (0, len(typed))
            path_input.value = self._default_path(self.format)
            if was_selected:
                path_input.select_all()  # still a suggestion: the next key still replaces it
        elif typed.endswith(f".{EXTENSIONS[before]}"):
            # A name of the user's own keeps its name; its extension follows the format.
            stem = typed[: -len(EXTENSIONS[before]) - 1]
            path_input.value = f"{stem}.{EXTENSIONS[self.format]}"
        self._default = self._default_path(self.format)

    def action_cycle_format(self, step: int) -> None:
        index = (FORMATS.index(self.format) + step) % len(FORMATS)
        button = self.query_one(f"#format-{FORMATS[index]}", RadioButton)
        button.value = True  # the RadioSet unsets the others and says Changed

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export")
    @on(Input.Submitted)
    def _submit(self) -> None:
        value = self.query_one(Input).value.strip()
        if not value:
            self._error("Enter a file name.")
            return
        path = Path(value).expanduser()
        try:
            check_destination(path, force=True)
        except ExportError as exc:
            self._error(str(exc))
            return
        if path.exists():
            question = Text("Overwrite ")
            question.append(visible(str(path)), style="bold")
            question.append("?")
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._confirmed(path, yes))
            return
        self.dismiss(ExportRequest(self.node_id, self.format, path, False, self._match()))

    def _confirmed(self, path: Path, yes: bool | None) -> None:
        if yes:
            self.dismiss(ExportRequest(self.node_id, self.format, path, True, self._match()))

    def _match(self) -> str | None:
        if not self.filter_text:
            return None
        return self.filter_text if self.query_one("#export-filtered", Checkbox).value else None

    def _error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Text(visible(message)))
