"""`?`: every key binding, generated from the bindings themselves so it cannot drift.

Every line is reachable on a 24-line terminal (the rows scroll inside a dialog that fits the
screen), scrolling is never animated (a held key moves one line per repeat, not behind an
animation) and typing filters the rows.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

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
HINT = "j/k scroll · type to filter · esc closes · ^p every command"


def _matching(rows: list[tuple[str, str]], text: str) -> list[tuple[str, str]]:
    wanted = text.strip().casefold()
    return [r for r in rows if not wanted or any(wanted in cell.casefold() for cell in r)]


def _table(rows: list[tuple[str, str]], key_style: str) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style=key_style, no_wrap=True)
    table.add_column()
    for keys, description in rows:
        table.add_row(Text(keys), Text(description))
    return table


class HelpBody(VerticalScroll):
    """The rows. Every scroll is immediate: a deferred one (Textual's default) is counted
    from where the view was at the last frame, so the ten repeats a held key sends between
    two frames moved it one line; the container's own arrow keys also animate."""

    BINDINGS = [
        Binding("down", "line(1)", "Down", show=False),
        Binding("up", "line(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
    ]

    def action_line(self, lines: int) -> None:
        self.scroll_relative(y=lines, animate=False, immediate=True)

    def action_page(self, pages: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=pages * page, animate=False, immediate=True)

    def to_end(self, end: bool) -> None:
        self.scroll_to(y=self.max_scroll_y if end else 0, animate=False, immediate=True)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    #help-dialog {
        width: 80;
        /* A fixed share of the screen, the rows scroll inside it: an auto height with a
           max-height on the rows overflowed a 24-line terminal and cut the marks off. */
        height: 100%;
        max-height: 44;
        padding: 0 2;
    }
    #help-dialog .dialog-title {
        margin-bottom: 0;
    }
    #help-filter {
        border: none;
        height: 1;
        padding: 0;
        margin-bottom: 1;
    }
    #help-dialog HelpBody {
        height: 1fr;
        /* The width the rows are measured at is the width they are drawn at: a scrollbar
           that came after the measure hid the last lines of the marks from `end`. */
        scrollbar-gutter: stable;
    }
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close"),
        # The tree's keys move through the help too (and the arrows while filtering).
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("g,home", "scroll_to(0)", "Top", show=False),
        Binding("G,end", "scroll_to(-1)", "Bottom", show=False),
        Binding("slash", "filter", "Filter", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows
        self._keys = Static(id="help-keys")
        self._marks = Static(id="help-marks")
        self._filter = Input(placeholder="type to filter the keys and marks", id="help-filter")

    def compose(self) -> ComposeResult:
        with Dialog(id="help-dialog"):
            yield Label("Keys", classes="dialog-title")
            yield self._filter
            with HelpBody():
                yield self._keys
                yield Label("Marks", classes="dialog-title")
                yield self._marks
            yield Label(Text(HINT, style="dim"))

    def on_mount(self) -> None:
        self._show("")
        self.query_one(HelpBody).focus()

    def _show(self, text: str) -> None:
        keys = _matching(self.rows, text)
        marks = _matching(MARKS, text)
        none = Text("no key matches", style="dim italic")
        self._keys.update(_table(keys, "bold cyan") if keys else none)
        self._marks.update(_table(marks, "bold") if marks else Text("no mark matches", "dim"))
        self.query_one(HelpBody).to_end(False)

    @on(Input.Changed, "#help-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#help-filter")
    def _filter_submitted(self) -> None:
        self.query_one(HelpBody).focus()  # j/k scroll the filtered rows

    def on_key(self, event: events.Key) -> None:
        """A letter the help does not use starts the filter with it: typing filters."""
        if self._filter.has_focus or not event.is_printable or event.character is None:
            return
        if event.character in "jkgGq?/ ":
            return
        event.stop()
        event.prevent_default()
        self._filter.focus()
        self._filter.insert_text_at_cursor(event.character)

    def action_filter(self) -> None:
        self._filter.focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one(HelpBody).action_line(lines)

    def action_scroll_to(self, where: int) -> None:
        self.query_one(HelpBody).to_end(where < 0)

    def action_close(self) -> None:
        if self._filter.has_focus or self._filter.value:
            # Esc leaves the filter first (q and ? type into it); a second esc closes.
            self._filter.value = ""
            self.query_one(HelpBody).focus()
            return
        self.dismiss(None)
