"""The one-line status bar: crawl state and the task loop's counters."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.exporters.escape import visible
from orgtree_tui.model import Counts
from orgtree_tui.ui.labels import plural

_STATE_STYLES = {
    "connecting": "bold cyan",
    "loading cache": "bold cyan",
    "cached": "bold green",
    "refreshing": "bold cyan",
    "crawling": "bold cyan",
    "complete": "bold green",
    "cancelled": "bold yellow",
    "incomplete": "bold yellow",
    "failed": "bold red",
}


@dataclass(frozen=True, slots=True)
class StatusLine:
    state: str  # a CrawlState value, or "connecting"
    found: Counts
    stats: CrawlStats
    elapsed: float
    incomplete_branches: int = 0
    resumable: bool = False  # a stopped crawl that `r` carries on
    note: str = ""  # e.g. the age of the cached tree on screen
    name: str = ""  # which organization, when there are several


def render_status(status: StatusLine) -> Text:
    state = status.state
    branches = plural(status.incomplete_branches, "branch", "branches")
    if state == "incomplete":
        state = f"incomplete: {branches}"
    elif status.resumable and status.incomplete_branches and state in ("failed", "cancelled"):
        state = f"stopped: {branches} not listed · r resumes"
    if status.note:
        # "cached · cached 9s ago" says it twice.
        state = status.note if state == "cached" else f"{state} · {status.note}"
    stats = status.stats
    text = Text()
    if status.name:
        text.append(f" {visible(status.name)}", style="bold")
    text.append(f" ● {state} ", style=_STATE_STYLES.get(status.state, "bold"))
    parts = (
        ("OUs", status.found.ous),
        ("accounts", status.found.accounts),
        ("queue", stats.queued),
        ("in flight", stats.in_flight),
        ("API calls", stats.total_calls),
        ("throttled", stats.total_throttled),
    )
    for name, value in parts:
        text.append("│ ", style="dim")
        text.append(f"{name} ", style="dim")
        text.append(f"{value} ")
    text.append("│ ", style="dim")
    minutes, seconds = divmod(status.elapsed, 60)
    text.append(f"{int(minutes)}:{seconds:04.1f}")
    return text


class StatusBar(Static):
    """One line per organization."""

    text = Text()

    def show(self, lines: list[StatusLine]) -> None:
        text = Text("\n").join(render_status(line) for line in lines)
        if text == self.text:
            return
        # Its size is fixed (one line per organization): no need to lay out the screen.
        self.text = text
        self.update(text, layout=False)
