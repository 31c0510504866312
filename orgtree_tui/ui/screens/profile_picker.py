"""Pick the AWS profiles to crawl: one organization per profile picked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, SelectionList

from orgtree_tui.text import visible
from orgtree_tui.ui.widgets.dialog import Dialog


class ProfileList(SelectionList[str]):
    """Space picks; enter confirms (a SelectionList's own enter toggles the option, which
    un-picked the profile someone meant to crawl)."""

    BINDINGS = [
        Binding("space", "select", "Pick"),
        Binding("enter", "screen.crawl", "Crawl"),
    ]


class ProfilePicker(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the profiles picked, in config-file order, or None."""

    DEFAULT_CSS = """
    ProfilePicker {
        align: center middle;
    }
    #profile-dialog SelectionList {
        height: auto;
        max-height: 16;
    }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "crawl", "Crawl", show=False),
    ]

    def __init__(self, profiles: list[str], current: tuple[str, ...]) -> None:
        super().__init__()
        self.profiles = profiles
        self.current = current

    def compose(self) -> ComposeResult:
        with Dialog(id="profile-dialog"):
            yield Label("Crawl with which AWS profiles?", classes="dialog-title")
            choices = [(Text(visible(p)), p, p in self.current) for p in self.profiles]
            yield ProfileList(*choices, id="profiles")
            yield Label(
                Text("space picks · enter crawls · several: one organization each", style="dim"),
                id="profile-keys",
            )
            yield Label("", id="profile-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Crawl (enter)", variant="primary", id="crawl")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_crawl(self) -> None:
        picked = set(self.query_one(SelectionList).selected)
        if not picked:
            self.query_one("#profile-error", Label).update("Pick at least one profile.")
            return
        self.dismiss(tuple(p for p in self.profiles if p in picked))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "crawl":
            self.action_crawl()
        else:
            self.action_cancel()
