"""OrgTreeApp: the theme, the settings it was given, the screens, errors and quitting.

The organizations, their crawls and what is on screen are the main screen's
(ui/screens/main.py) and its controller's (ui/controller.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widgets import Input

from orgtree_tui.text import visible
from orgtree_tui.ui import keys
from orgtree_tui.ui.collector import HOLD_AT_MOST
from orgtree_tui.ui.controller import OrgController
from orgtree_tui.ui.screens import policy_actions
from orgtree_tui.ui.screens.main import DETAILS_DELAY, MainScreen
from orgtree_tui.ui.sources import OrgSource
from orgtree_tui.ui.widgets.org_tree import OrgTreeView


class OrgTreeApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "orgtree-tui"
    BINDINGS = keys.APP_BINDINGS

    def __init__(
        self,
        sources: Sequence[OrgSource],
        *,
        clock: Callable[[], float] = time.monotonic,
        frame_clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = date.today,
        export_dir: Path | None = None,
        details_delay: float | None = DETAILS_DELAY,
        cache_ttl: timedelta | None = None,
        theme: str | None = None,
        pick_profiles: Callable[[tuple[str, ...]], list[OrgSource]] | None = None,
    ) -> None:
        """One organization per source. `pick_profiles` makes sources for profiles chosen
        in the profile picker (None: no picker). `clock` times the crawls for the status
        line; `frame_clock` paces drains and key pauses (tests step it by hand)."""
        super().__init__()
        self.wanted_theme = theme
        # Made now, not when the app runs: the cache is read while Textual starts up.
        self.main = MainScreen(
            sources,
            clock=clock,
            frame_clock=frame_clock,
            today=today,
            export_dir=export_dir,
            details_delay=details_delay,
            cache_ttl=cache_ttl,
            pick_profiles=pick_profiles,
        )

    @property
    def controller(self) -> OrgController:
        return self.main.controller

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_mount(self) -> None:
        self._apply_theme()

    def _apply_theme(self) -> None:
        if self.wanted_theme is None:
            return
        if self.wanted_theme in self.available_themes:
            self.theme = self.wanted_theme
            return
        names = ", ".join(sorted(self.available_themes))
        self.notify(
            f"Unknown theme {visible(self.wanted_theme)!r} in the settings; themes: {names}",
            severity="warning",
            markup=False,
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        main = self.main
        yield from keys.palette_commands(self, main, main.org_tree, OrgTreeView.BINDINGS)
        yield from policy_actions.palette_commands(main)

    def action_pick_policy(self) -> None:
        policy_actions.pick_policy(self.main)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.main.pacer.key_pressed()  # news waits for a pause in the keys
            collector = self.main.pacer.collector
            hold = collector.hold()  # ... and collections for the key's frame
            if hold is not None:
                self.set_timer(HOLD_AT_MOST, partial(collector.release, hold))
        await super().on_event(event)

    # -- quitting --------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self.action_quit_now()

    def action_copy_or_quit(self) -> None:
        """ctrl+c: copy what the mouse selected (or an input's selection), else quit."""
        text = self.screen.get_selected_text()
        focused = self.focused
        if not text and isinstance(focused, Input):
            text = focused.selected_text
        if not text:
            self.action_quit_now()
            return
        self.main.copied.copy("Copied the selection", text)
        self.screen.clear_selection()

    def action_quit_now(self) -> None:
        """Cancel the crawls first: their threads must be gone for the process to end."""
        self.controller.stop_all()
        self.exit(0)

    def close_sessions(self) -> None:
        self.controller.close_sessions()

    def wait_for_writes(self, timeout: float) -> bool:
        """After the app closed: cache saves and exports still being written get up to
        `timeout` seconds to finish. True when none is left."""
        return self.main.jobs.wait_for_writes(timeout)

    def on_unmount(self) -> None:
        self.main.pacer.collector.release()
        self.controller.stop_all()
