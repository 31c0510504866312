"""`?`: every key binding, generated from the bindings themselves so it cannot drift."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from orgtree_tui.ui.widgets.dialog import Dialog

MARKS = [
    ("Security (3)", "an OU and the accounts in it, at every depth"),
    ("⊘ SUSPENDED", "an account that is not ACTIVE"),
    ("⚠ incomplete", "a branch that could not be listed: it may hold more"),
    (  # one mark a line: a long first column would squeeze every meaning
        "⚠ tags failed\n⚠ SCPs not permitted",
        "tags or SCPs that were refused or failed: exports say they are missing",
    ),
    ("✱ new / moved / renamed", "changed since the tree shown before (cache or last crawl)"),
]


def _legend() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column()
    for mark, meaning in MARKS:
        table.add_row(Text(mark, style="bold"), Text(meaning))
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    #help-dialog {
        width: 80;
    }
    #help-dialog VerticalScroll {
        height: auto;
        /* Leaves the dialog room for its title and closing hint on a 24-line terminal too. */
        max-height: 70vh;
    }
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close"),
        # The tree's keys move through the help too.
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("g,home", "scroll_to(0)", "Top", show=False),
        Binding("G,end", "scroll_to(-1)", "Bottom", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for keys, description in self.rows:
            table.add_row(Text(keys), Text(description))
        with Dialog(id="help-dialog"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(table)
                yield Label("Marks", classes="dialog-title")
                yield Static(_legend(), id="help-marks")
            yield Label(Text("j/k scroll · esc closes · ctrl+p lists every command", style="dim"))

    def action_scroll(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_scroll_to(self, where: int) -> None:
        view = self.query_one(VerticalScroll)
        view.scroll_to(y=view.max_scroll_y if where < 0 else 0, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
