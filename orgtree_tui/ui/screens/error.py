"""What went wrong and what to do about it: never a traceback."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from orgtree_tui.aws_errors import explain
from orgtree_tui.connection import ConnectionSettingsError
from orgtree_tui.text import visible


class ErrorScreen(ModalScreen[str]):
    """Dismisses with "retry", "quit" or "close"."""

    BINDINGS = [
        Binding("r", "choose('retry')", "Retry"),
        Binding("escape", "choose('close')", "Close"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title", id="error-title")
            yield Static(
                Text("\n".join(map(visible, self.message.splitlines()))), id="error-message"
            )
            yield Label(Text("r retry · esc close · q quit", style="dim"))
        yield Footer()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


def describe_error(exc: BaseException) -> str:
    """A readable sentence for an exception raised while connecting."""
    if isinstance(exc, ConnectionSettingsError):
        return str(exc)
    return explain(exc)
