"""Typing in the filter bar repaints the bar; it does not lay the whole screen out again
(Textual's Input does, for the virtual size it takes from its text at every key)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static
from ui_support import layouts_counted, wait_for

from orgtree_tui.ui.widgets.filter_bar import FilterBar


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("the rest of the screen")
        yield FilterBar(id="filter")


async def test_typing_in_the_bar_lays_nothing_out() -> None:
    app = BarApp()
    async with app.run_test(size=(30, 12)) as pilot:
        bar = app.query_one(FilterBar)
        bar.open()
        await pilot.press("a")
        await wait_for(pilot, lambda: bar.value == "a")
        with layouts_counted(app.screen) as layouts:
            await pilot.press(*"ccount-name-that-is-longer-than-the-bar-itself")
            await pilot.pause()
        assert bar.value == "account-name-that-is-longer-than-the-bar-itself"
        assert layouts == [0]
        assert bar.scroll_x > 0  # the end of a long text in view, as before
