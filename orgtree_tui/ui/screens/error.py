"""What went wrong and what to do about it: never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from orgtree_tui.aws_errors import explain
from orgtree_tui.connection import ConnectionSettingsError
from orgtree_tui.text import visible
from orgtree_tui.ui.widgets.dialog import Dialog


class ErrorScreen(ModalScreen[str]):
    """Dismisses with "retry", "quit" or "close". One screen for every problem at hand:
    organizations that fail together are listed together, and one r retries them all
    (a stack of screens made a second r start over what the first had resumed)."""

    DEFAULT_CSS = """
    ErrorScreen {
        align: center middle;
    }
    #error-dialog {
        border: thick $error;
    }
    #error-scroll {
        height: auto;
        max-height: 55vh;  /* the keys below stay on screen at 24 rows */
    }
    #error-message {
        margin-bottom: 1;
    }
    """

    BINDINGS = [
        Binding("r", "choose('retry')", "Retry"),
        Binding("escape", "choose('close')", "Close"),
        Binding("q", "choose('quit')", "Quit"),
    ]

    def __init__(self, title: str, message: str, advice: str = "") -> None:
        super().__init__()
        # title -> (what went wrong, what to do), in arrival order
        self.problems: dict[str, tuple[str, str]] = {title: (message, advice)}

    def add(self, title: str, message: str, advice: str = "") -> None:
        """Another problem (or news of one already listed, which replaces it). The same
        advice for several problems is given once, after them."""
        self.problems[title] = (message, advice)
        if self.is_mounted:
            self._show()

    def on_mount(self) -> None:
        # A problem added after compose but before the mount would otherwise not show.
        self._show()

    def _show(self) -> None:
        self.query_one("#error-title", Label).update(self._title())
        self.query_one("#error-message", Static).update(self._text())
        self.query_one("#error-keys", Label).update(self._keys())

    def _title(self) -> Text:
        if len(self.problems) == 1:
            return Text(next(iter(self.problems)))
        return Text(f"{len(self.problems)} organizations need attention")

    def _text(self) -> Text:
        several = len(self.problems) > 1
        paragraphs: list[Text] = []
        for title, (message, _) in self.problems.items():
            paragraph = Text(visible(title) + "\n", style="bold") if several else Text()
            paragraph.append("\n".join(map(visible, message.splitlines())))
            paragraphs.append(paragraph)
        advice = dict.fromkeys(a for _, a in self.problems.values() if a)
        paragraphs.extend(Text(visible(a)) for a in advice)
        return Text("\n\n").join(paragraphs)

    def _keys(self) -> Text:
        retry = "r retries them all" if len(self.problems) > 1 else "r retry"
        return Text(f"{retry} · esc close · q quit", style="dim")

    def compose(self) -> ComposeResult:
        with Dialog(id="error-dialog"):
            yield Label(self._title(), classes="dialog-title", id="error-title")
            with VerticalScroll(id="error-scroll"):
                yield Static(self._text(), id="error-message")
            yield Label(self._keys(), id="error-keys")
        yield Footer()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


class OneErrorScreen:
    """One error screen at a time: a problem arriving while it is up joins it."""

    def __init__(self, choice: Callable[[str | None], None]) -> None:
        self.choice = choice  # called with what the user chose on the screen
        self._screen: ErrorScreen | None = None

    def show(self, app: App[Any], title: str, message: str, advice: str = "") -> None:
        screen = self._screen
        if screen is not None and screen in app.screen_stack:
            screen.add(title, message, advice)
            return
        self._screen = ErrorScreen(title, message, advice)
        app.push_screen(self._screen, self._chosen)

    def _chosen(self, choice: str | None) -> None:
        self._screen = None
        self.choice(choice)


def describe_error(exc: BaseException) -> str:
    """A readable sentence for an exception raised while connecting."""
    if isinstance(exc, ConnectionSettingsError):
        return str(exc)
    return explain(exc)
