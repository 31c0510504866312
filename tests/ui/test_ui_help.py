"""The help screen on a small terminal: every line reachable, held keys followed, typing
filters the rows; `c` named "collapse all" wherever keys are listed."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer, Static
from ui_support import SampleOrg, app_for, crawled, wait_for

from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.screens.help import HelpBody, HelpScreen

SMALL = (80, 24)


def screen_text(app: OrgTreeApp) -> str:
    """What the terminal shows, line by line (the compositor's own lines)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def rendered(widget: Static) -> str:
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_every_line_of_the_help_is_reachable_at_80x24(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SMALL) as pilot:
        await crawled(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("G")
        await pilot.pause()
        shown = screen_text(app)
        # The last line of the marks and the closing hint are both on screen.
        assert "last crawl)" in shown, shown
        assert "esc closes" in shown, shown


async def test_a_held_key_scrolls_one_line_per_repeat(org: SampleOrg) -> None:
    """A held key sends its repeats faster than frames: ten in one go move ten lines."""
    app = app_for(org.client)
    async with app.run_test(size=SMALL) as pilot:
        await crawled(pilot)
        await pilot.press("question_mark")
        view = app.screen.query_one(HelpBody)
        assert view.max_scroll_y >= 10
        driver = app._driver
        assert driver is not None
        # As a terminal read hands them over: all at once, no frame in between; `?` last
        # (it closes the help), to know when the ten have been handled.
        for key, char in [("j", "j")] * 6 + [("down", None)] * 4 + [("question_mark", "?")]:
            event = events.Key(key, char)
            event.set_sender(app)
            driver.send_message(event)
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert view.scroll_y == 10


async def test_typing_filters_the_help_rows(org: SampleOrg) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SMALL) as pilot:
        await crawled(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(*"copy")
        keys = rendered(app.screen.query_one("#help-keys", Static))
        assert "Copy id" in keys and "Copy ARN" in keys
        assert "Export" not in keys and "Collapse all" not in keys
        assert "no mark matches" in rendered(app.screen.query_one("#help-marks", Static))
        await pilot.press("escape")  # leaves the filter: every row again
        keys = rendered(app.screen.query_one("#help-keys", Static))
        assert "Export" in keys and "Copy id" in keys
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_c_is_collapse_all_in_the_help_and_the_footer_at_80_columns(
    org: SampleOrg,
) -> None:
    app = app_for(org.client)
    async with app.run_test(size=SMALL) as pilot:
        await crawled(pilot)
        footer = rendered_footer(app)
        assert "c Collapse all" in footer and "q Quit" in footer, footer
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert ("c", "Collapse all") in app.screen.rows


def rendered_footer(app: OrgTreeApp) -> str:
    footer = app.main.query_one(Footer)
    region = footer.region
    lines = screen_text(app).splitlines()
    return lines[region.y][region.x : region.right]
