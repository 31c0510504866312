"""The one-line status bar: crawl state and the task loop's counters."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from orgtree_tui.text import visible
from orgtree_tui.ui.org_slot import StatusLine
from orgtree_tui.wording import plural

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


NAMES = ("OUs", "accounts", "queue", "in flight", "API calls", "throttled")
COMPACT_NAMES = ("OUs", "accts", "queue", "in flight", "calls", "throttled")
COMPACT_BELOW = 120  # columns


def render_status(status: StatusLine, *, compact: bool = False) -> Text:
    """`compact`: short names for the counters, so a 80-100 column line holds them all."""
    state = status.state
    branches = plural(status.incomplete_branches, "branch", "branches")
    if state == "incomplete":
        # Tags or SCPs that failed make a crawl incomplete as much as a branch does.
        said = [branches] if status.incomplete_branches else []
        said += [status.missing] if status.missing else []
        state = f"incomplete: {'; '.join(said)}" if said else "incomplete"
    elif status.resumable and status.incomplete_branches and state in ("failed", "cancelled"):
        state = f"stopped: {branches} not listed · r resumes"
    if status.note:
        # "cached · cached 9s ago" says it twice. Short of room, the header has the note.
        if state == "cached":
            state = status.note
        elif not compact:
            state = f"{state} · {status.note}"
    stats = status.stats
    text = Text()
    if status.name:
        text.append(f" {visible(status.name)}", style="bold")
    text.append(f" ● {state} ", style=_STATE_STYLES.get(status.state, "bold"))
    names = COMPACT_NAMES if compact else NAMES
    values = (
        status.found.ous,
        status.found.accounts,
        stats.queued,
        stats.in_flight,
        stats.total_calls,
        stats.total_throttled,
    )
    for name, value in zip(names, values, strict=True):
        text.append("│" if compact else "│ ", style="dim")
        text.append(f"{name} ", style="dim")
        text.append(str(value) if compact else f"{value} ")
    text.append("│" if compact else "│ ", style="dim")
    minutes, seconds = divmod(status.elapsed, 60)
    text.append(f"{int(minutes)}:{seconds:04.1f}")
    return text


class StatusBar(Static):
    """One line per organization."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        margin-bottom: 1;
        height: 1;
        background: $panel;
        color: $text;
        /* One line per organization: a long one is cut, not wrapped into the next. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    text = Text()

    def show(self, lines: list[StatusLine]) -> None:
        compact = 0 < self.size.width < COMPACT_BELOW
        text = Text("\n").join(render_status(line, compact=compact) for line in lines)
        if text == self.text:
            return
        # Its size is fixed (one line per organization): no need to lay out the screen.
        self.text = text
        self.update(text, layout=False)
