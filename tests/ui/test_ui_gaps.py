"""The TUI says a crawl whose tags or SCPs failed is incomplete: status bar and node marks."""

from __future__ import annotations

from orgtree_tui.crawl.stats import CrawlStats
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Counts, DetailState, Node, NodeType
from orgtree_tui.ui.labels import node_label
from orgtree_tui.ui.org_slot import StatusLine
from orgtree_tui.ui.screens.help import MARKS
from orgtree_tui.ui.widgets.status_bar import render_status


def line(**fields: object) -> str:
    status = StatusLine(state="incomplete", found=Counts(1, 2), stats=CrawlStats(), elapsed=1.0)
    for name, value in fields.items():
        object.__setattr__(status, name, value)
    return render_status(status).plain


def test_the_status_bar_says_which_details_are_missing() -> None:
    missing = "tags of 2 nodes failed"
    assert "● incomplete: tags of 2 nodes failed " in line(missing=missing)
    assert "● incomplete: 1 branch; tags of 2 nodes failed " in line(
        missing=missing, incomplete_branches=1
    )
    assert "● incomplete: 3 branches " in line(incomplete_branches=3)


def tree() -> OrgTree:
    t = OrgTree()
    t.add(Node("r-1", NodeType.ROOT, "Root", "arn:r", None))
    t.add(Node("ou-1", NodeType.ORGANIZATIONAL_UNIT, "Prod", "arn:ou", "r-1"))
    t.add(Node("111111111111", NodeType.ACCOUNT, "app", "arn:a", "ou-1", state="ACTIVE"))
    return t


def label(t: OrgTree, node_id: str) -> str:
    node = t.get(node_id)
    assert node is not None
    return node_label(t, node).plain


def test_a_node_whose_details_were_refused_or_failed_is_marked() -> None:
    t = tree()
    assert "⚠" not in label(t, "111111111111")  # still on their way: no mark
    t.set_tags_state("111111111111", DetailState.DENIED)
    assert label(t, "111111111111") == "app  111111111111  ⚠ tags not permitted"
    t.set_policies_state("111111111111", DetailState.DENIED)
    assert label(t, "111111111111") == "app  111111111111  ⚠ tags, SCPs not permitted"
    t.set_policies_state("ou-1", DetailState.FAILED)
    assert label(t, "ou-1") == "Prod (1)  ⚠ SCPs failed"
    t.set_policies("ou-1", ())
    assert label(t, "ou-1") == "Prod (1)"


def test_a_structure_only_tree_has_no_detail_marks() -> None:
    t = tree()
    t.set_details_wanted(False)
    t.set_tags_state("111111111111", DetailState.FAILED)
    assert "⚠" not in label(t, "111111111111")


def test_the_help_legend_explains_the_detail_marks_the_tree_shows() -> None:
    t = tree()
    t.set_tags_state("111111111111", DetailState.FAILED)
    t.set_policies_state("ou-1", DetailState.DENIED)
    legend = "\n".join(mark for mark, _ in MARKS)
    # The marks as the tree draws them, each found in the legend.
    assert label(t, "111111111111").endswith("⚠ tags failed")
    assert label(t, "ou-1").endswith("⚠ SCPs not permitted")
    assert "⚠ tags failed" in legend and "⚠ SCPs not permitted" in legend
