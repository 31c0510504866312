"""The `/` filter input, docked above the status bar while a filter is being typed or kept."""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class FilterBar(Input):
    # Input sets its virtual size from its text at every key, and Textual lays the whole
    # screen out again for it; the bar's size is fixed, so a repaint does.
    virtual_size = Reactive(Size(0, 0), layout=False)

    DEFAULT_CSS = """
    FilterBar {
        dock: bottom;
        margin-bottom: 2;  /* above the status lines: the screen sets it for several */
        height: 3;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter: name, id, email or tag value", id=id)
        self.display = False

    def open(self) -> None:
        self.display = True
        self.show_matches(self.value.strip(), 0)
        # Focus now, not via focus()'s call_later: keys typed right after `/` are already
        # queued and would otherwise reach the tree.
        self.screen.set_focus(self)

    def close(self) -> None:
        self.value = ""
        self.display = False

    def show_matches(self, text: str, count: int) -> None:
        """How many matched and what the keys do, in the bar's bottom border."""
        if not text:
            hint = "enter keeps the filter · esc clears"
        else:
            found = "no match" if not count else f"{count} match{'es' if count != 1 else ''}"
            hint = f"{found} · enter keeps the filter · n/N next/previous · esc clears"
        self.border_subtitle = hint
