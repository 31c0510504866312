"""The note a copy leaves (`y`, `Y`, `o`, ctrl+c on a selection): what was copied, folded
at its separators, in a box the mouse can select from.

Textual's toasts vanish on the click that starts a selection and break a long ARN or link
anywhere; this note stays until its time is up (a click does not close it), and its lines
break only after `:`, `/` and the like (details.fold), never inside an id.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.timer import Timer
from textual.widgets import Static

from orgtree_tui.text import visible
from orgtree_tui.ui.clipboard import Clipboard
from orgtree_tui.ui.widgets.details import fold

SHOWN_FOR = 12.0  # seconds: long enough to select the text and copy it by hand
WIDTH = 64  # the box's columns, at most (it is never wider than the screen allows)


class CopiedNote(Container):
    DEFAULT_CSS = """
    CopiedNote {
        dock: bottom;
        width: 1fr;
        height: auto;
        align: right bottom;
        margin-bottom: 3;  /* above the status line and the footer: the screen sets it */
        visibility: hidden;  /* the box shows; the full-width row it sits in does not */
        display: none;
    }
    CopiedNote > Static {
        visibility: visible;
        width: auto;
        max-width: 90%;
        height: auto;
        padding: 0 1;
        margin-right: 1;
        background: $panel-lighten-1;
        border-left: outer $success;
    }
    CopiedNote.-warning > Static {
        border-left: outer $warning;
    }
    """

    def __init__(self, clip: Clipboard | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clip = clip or Clipboard()
        self._box = Static(id="copied-text")
        self._timer: Timer | None = None
        self.said: list[str] = []  # every note shown, unfolded: what a test or a log reads
        self.text = ""  # the text of the last copy, as copied

    def compose(self) -> ComposeResult:
        yield self._box

    def on_mount(self) -> None:
        self.clip.probe()  # once, on a thread: the first copy may come before it answers

    def copy(self, title: str, text: str, note: str = "") -> None:
        """Copy `text` (OSC 52, and tmux's buffer where OSC 52 may not arrive) and show it,
        with `note` and what to do if the copy may not arrive."""
        self.app.copy_to_clipboard(text)
        self.clip.to_tmux_buffer(text)
        advice = self.clip.advice()
        self.show(title, text, " ".join(p for p in (note, advice) if p), warning=bool(advice))

    def show(self, title: str, text: str, note: str = "", *, warning: bool = False) -> None:
        self.text = text
        width = min(WIDTH, max(20, self.screen.size.width * 9 // 10 - 4)) - 2
        body = Text(title, style="bold")
        for line in fold(visible(text), width):
            body.append("\n")
            body.append(line)
        if note:
            body.append("\n")
            for line in _words(note, width):
                body.append("\n")
                body.append(line, style="yellow" if warning else "dim")
        self.said.append(" ".join(p for p in (title, text, note) if p))
        self._box.update(body)
        self.set_class(warning, "-warning")
        # Above the status lines and the footer, however many status lines there are.
        below = sum(w.outer_size.height for w in self.screen.query("StatusBar, Footer"))
        self.styles.margin = (0, 0, below, 0)
        self.display = True
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SHOWN_FOR, self.hide)

    def hide(self) -> None:
        self.display = False


def _words(text: str, width: int) -> list[str]:
    """Prose in lines at spaces; a word longer than a line (a path) folds at separators."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = ""
        if len(word) > width:
            *whole, line = fold(word, width)
            lines.extend(whole)
            continue
        line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines
