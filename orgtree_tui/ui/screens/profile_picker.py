"""Pick the AWS profiles to crawl: one organization per profile picked."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList

from orgtree_tui.text import visible


class ProfilePicker(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the profiles picked, in config-file order, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "crawl", "Crawl"),
    ]

    def __init__(self, profiles: list[str], current: tuple[str, ...]) -> None:
        super().__init__()
        self.profiles = profiles
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="profile-dialog"):
            yield Label("Crawl with which AWS profiles?", classes="dialog-title")
            choices = [(Text(visible(p)), p, p in self.current) for p in self.profiles]
            yield SelectionList[str](*choices, id="profiles")
            yield Label(Text("space picks · several picks: one organization each", style="dim"))
            yield Label("", id="profile-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Crawl (ctrl+s)", variant="primary", id="crawl")
                yield Button("Cancel (esc)", id="cancel")

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
