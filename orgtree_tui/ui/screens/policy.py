"""The policy screen: one policy's type, description, whether AWS manages it, its reach (the
nodes it is attached to, how many accounts it applies to) and its document, as highlighted
JSON. `f` filters the tree to its reach; escape closes.

Both the reach (a walk of the organization) and the document (DescribePolicy, 2/s, asked
for ahead of the queued work) are worked out in thread workers (ui/policy_fetch.py), which
post a message each; the screen shows "loading..." until then and never waits on them.
The screen dismisses with the ids to filter the tree to, or None.

`PolicyPicker`: the policies that apply to one node (attached or inherited, every type), to
pick the one to open.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from orgtree_tui.crawl.crawler import Crawler
from orgtree_tui.records import Policy
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView
from orgtree_tui.ui.policy_fetch import DocumentFound, ReachFound, document_of, reach_of
from orgtree_tui.ui.widgets.dialog import Dialog
from orgtree_tui.ui.widgets.policy_details import AWS_MANAGED, type_name
from orgtree_tui.wording import plural

LOADING = "loading..."
SHOW_ATTACHED = 12  # nodes listed by name; the rest are counted


def pretty(content: str) -> str:
    """The document indented (AWS keeps it as typed); each line safe for the terminal."""
    try:
        text = json.dumps(json.loads(content), indent=2, ensure_ascii=False)
    except ValueError:
        text = content  # shown as it is: not JSON (a type AWS adds with its own syntax)
    return "\n".join(visible(line) for line in text.splitlines())


class PolicyScreen(ModalScreen[tuple[str, ...] | None]):
    DEFAULT_CSS = """
    PolicyScreen {
        align: center middle;
    }
    #policy-dialog {
        width: 100;
        height: 90%;
    }
    #policy-dialog VerticalScroll {
        height: 1fr;
    }
    #policy-keys, #policy-document-title {
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("f", "filter_reach", "Filter tree to reach"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
        Binding("g,home", "scroll_to(0)", "Top", show=False),
        Binding("G,end", "scroll_to(-1)", "Bottom", show=False),
    ]

    @dataclass
    class Reached(Message):
        found: ReachFound

    @dataclass
    class ReachFailed(Message):
        reason: str

    @dataclass
    class Documented(Message):
        found: DocumentFound

    def __init__(
        self, model: TreeView, policy: Policy, node_id: str, crawler: Crawler | None
    ) -> None:
        """`node_id`: a node the policy applies to (where it was opened from)."""
        super().__init__()
        self.model = model
        self.policy = policy
        self.node_id = node_id
        self.crawler = crawler
        self.reach: ReachFound | None = None
        self.reach_failed = ""
        self.document: DocumentFound | None = None
        # What the two parts show now (the tests read them).
        self.shown_head: RenderableType = self._head_text()
        self.shown_document: RenderableType = Text(LOADING, style="italic dim")
        self._head = Static(self.shown_head, id="policy-head")
        self._doc = Static(self.shown_document, id="policy-document")

    def compose(self) -> ComposeResult:
        with Dialog(id="policy-dialog"):
            yield Label(Text(visible(self.policy.name)), classes="dialog-title")
            with VerticalScroll():
                yield self._head
                yield Label(Text("Document", style="bold"), id="policy-document-title")
                yield self._doc
            yield Label(
                Text("f filters the tree to its reach · j/k scroll · esc closes", style="dim"),
                id="policy-keys",
            )
        yield Footer()

    def on_mount(self) -> None:
        self._find_reach()
        self._find_document()

    # -- the workers -----------------------------------------------------------------------

    @work(thread=True, group="policy-reach", exit_on_error=False)
    def _find_reach(self) -> None:
        try:
            found = reach_of(self.model, self.policy, self.node_id)
        except Exception as exc:  # says why on screen instead of a dead "loading..."
            self.post_message(self.ReachFailed(f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(self.Reached(found))

    @work(thread=True, group="policy-document", exit_on_error=False)
    def _find_document(self) -> None:
        worker = get_current_worker()
        try:
            found = document_of(
                self.model, self.crawler, self.policy.id, lambda: worker.is_cancelled
            )
        except Exception as exc:  # says why on screen instead of a dead "loading..."
            found = DocumentFound(None, f"failed: {type(exc).__name__}: {exc}")
        if found is not None:
            self.post_message(self.Documented(found))

    @on(Reached)
    def _reached(self, message: Reached) -> None:
        self.reach = message.found
        self._show_head()

    @on(ReachFailed)
    def _reach_failed(self, message: ReachFailed) -> None:
        self.reach_failed = message.reason
        self._show_head()

    @on(Documented)
    def _documented(self, message: Documented) -> None:
        self.document = found = message.found
        shown: RenderableType
        if found.document is not None and found.document.content is not None:
            shown = Syntax(
                pretty(found.document.content),
                "json",
                theme="ansi_dark",
                word_wrap=True,
                background_color="default",
            )
            described = found.document.policy
            if described is not None and described.description != self.policy.description:
                self.policy = described  # DescribePolicy's word is the newer
                self._show_head()
        else:
            shown = Text(visible(found.reason), style="yellow")
        self.shown_document = shown
        self._doc.update(shown)

    def _show_head(self) -> None:
        self.shown_head = self._head_text()
        self._head.update(self.shown_head)

    # -- what it shows ---------------------------------------------------------------------

    def _head_text(self) -> RenderableType:
        p = self.policy
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_row("Id", p.id)
        one = type_name(p.type).replace("policies", "policy")
        table.add_row("Type", f"{one} ({p.type})")
        table.add_row(AWS_MANAGED, "yes" if p.aws_managed else "no")
        table.add_row("Description", Text(visible(p.description) or "none", style=""))
        reach = self.reach
        if reach is None:
            said = Text(visible(self.reach_failed), style="yellow") if self.reach_failed else None
            table.add_row("Reach", said or Text(LOADING, style="italic dim"))
        else:
            accounts = plural(reach.accounts, "account")
            nodes = plural(len(reach.applies_to), "node")
            table.add_row("Applies to", f"{accounts} ({nodes}, attached or inherited)")
            paths = [Text(visible(path)) for _, path in reach.attached_to[:SHOW_ATTACHED]]
            more = len(reach.attached_to) - SHOW_ATTACHED
            if more > 0:
                paths.append(Text(f"and {more} more", style="dim"))
            table.add_row("Attached to", Group(*paths) if paths else Text("none", style="dim"))
        return table

    # -- keys ------------------------------------------------------------------------------

    def action_filter_reach(self) -> None:
        if self.reach is None:
            self.notify("Still working out its reach.", timeout=2)
            return
        self.dismiss(self.reach.applies_to)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_scroll_to(self, where: int) -> None:
        view = self.query_one(VerticalScroll)
        view.scroll_to(y=view.max_scroll_y if where < 0 else 0, animate=False)


class PolicyPicker(ModalScreen[Policy | None]):
    """Pick one of a node's policies: (label, policy) pairs, in the order given."""

    DEFAULT_CSS = """
    PolicyPicker {
        align: center middle;
    }
    #policy-picker OptionList {
        height: auto;
        max-height: 20;
    }
    """

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, choices: list[tuple[Text, Policy]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Dialog(id="policy-picker"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield OptionList(*(Option(label) for label, _ in self.choices))
            yield Label(Text("enter opens · esc closes", style="dim"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][1])

    def action_close(self) -> None:
        self.dismiss(None)
