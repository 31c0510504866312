"""The `/` filter input, docked above the status bar while a filter is being typed or kept."""

from __future__ import annotations

from textual.widgets import Input


class FilterBar(Input):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: name, id, email or tag value", id=id)
        self.display = False

    def open(self) -> None:
        self.display = True
        # Focus now, not via focus()'s call_later: keys typed right after `/` are already
        # queued and would otherwise reach the tree.
        self.screen.set_focus(self)

    def close(self) -> None:
        self.value = ""
        self.display = False
