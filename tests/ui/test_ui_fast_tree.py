"""FastTree's lines are Textual's: its loop builds what Textual's recursive `_build` does
(the second computation here is Textual's own), for random shapes, expansions, cursors."""

from __future__ import annotations

import gc
import random
import weakref

from textual.app import App, ComposeResult
from textual.widgets import Tree
from textual.widgets.tree import TreeNode
from ui_support import layouts_counted, wait_for

from orgtree_tui.ui.widgets.fast_tree import FastTree


class TwoTrees(App[None]):
    def compose(self) -> ComposeResult:
        yield Tree("organization", id="plain")
        yield FastTree("organization", id="fast")


def grow(tree: Tree[str], rng: random.Random) -> None:
    """The same random shape in any tree given the same seed: up to 4 levels."""
    frontier: list[tuple[TreeNode[str], int]] = [(tree.root, 0)]
    count = 0
    while frontier and count < 120:
        parent, depth = frontier.pop(rng.randrange(len(frontier)))
        for _ in range(rng.randint(0, 6)):
            count += 1
            label = "n" * rng.randint(1, 30) + str(count)
            child = parent.add(label, str(count), expand=rng.random() < 0.6)
            if depth < 3:
                frontier.append((child, depth + 1))


def lines_of(tree: Tree[str]) -> list[tuple[list[str | None], bool]]:
    return [([n.data for n in line.path], line.last) for line in tree._tree_lines]


async def test_lines_are_those_textual_builds() -> None:
    app = TwoTrees()
    async with app.run_test(size=(100, 30)) as pilot:
        plain = app.query_one("#plain", Tree)
        fast = app.query_one("#fast", FastTree)
        for seed in range(60):
            for tree in (plain, fast):
                tree.clear()
                tree.show_root = seed % 3 == 0
                tree.guide_depth = 2 + seed % 3
                grow(tree, random.Random(seed))
            cursor = random.Random(seed).randrange(1, 40)
            for tree in (plain, fast):
                tree._build()
                tree.cursor_line = min(cursor, len(tree._tree_lines) - 1)
                tree._clear_line_cache()
                tree._build()
            assert lines_of(fast) == lines_of(plain), seed
            assert [line.node._line for line in fast._tree_lines] == list(
                range(len(fast._tree_lines))
            )
            assert fast.virtual_size == plain.virtual_size, seed
            assert fast.cursor_line == plain.cursor_line, seed
            await pilot.pause()


async def test_the_lines_it_built_go_when_it_builds_again() -> None:
    # Textual's recursive closure kept each list of lines (and every node on them) alive
    # until a garbage collection.
    app = TwoTrees()
    async with app.run_test(size=(100, 30)):
        fast = app.query_one("#fast", FastTree)
        grow(fast, random.Random(1))
        gc.disable()
        try:
            fast._build()
            first = weakref.ref(fast._tree_lines[0])
            fast._clear_line_cache()
            fast._build()
            assert first() is None
        finally:
            gc.enable()


async def test_label_widths_are_those_textual_renders() -> None:
    app = TwoTrees()
    async with app.run_test(size=(100, 30)):
        fast = app.query_one("#fast", FastTree)
        labels = ["plain", "wide 日本語", "emoji 🚀 x", "", "tab\tand space  "]
        for label in labels:
            leaf = fast.root.add_leaf(label)
            closed = fast.root.add(label, expand=False)
            opened = fast.root.add(label, expand=True)
            for node in (leaf, closed, opened):
                assert fast.get_label_width(node) == Tree.get_label_width(fast, node), label


class OneTree(App[None]):
    CSS = "FastTree { height: 10; width: 40; }"

    def compose(self) -> ComposeResult:
        yield FastTree("organization", id="fast")


async def test_scrollbars_follow_the_line_count_without_a_screen_layout() -> None:
    app = OneTree()
    async with app.run_test(size=(60, 20)) as pilot:
        fast = app.query_one(FastTree)
        fast.show_root = False  # as the organization's tree
        for i in range(5):
            fast.root.add_leaf(f"leaf {i}")
        await pilot.pause()
        assert not fast.show_vertical_scrollbar  # 5 lines in 10 rows
        for i in range(5, 30):
            fast.root.add_leaf(f"leaf {i}")
        # Appearing is a layout, as Textual does it, in the frame after the lines' build.
        await wait_for(pilot, lambda: fast.show_vertical_scrollbar)
        assert fast.vertical_scrollbar.window_virtual_size == 30
        with layouts_counted(app.screen) as layouts:
            for i in range(30, 45):
                fast.root.add_leaf(f"leaf {i}")
            await wait_for(pilot, lambda: fast.vertical_scrollbar.window_virtual_size == 45)
        assert layouts == [0]  # ... in a repaint
        fast.scroll_end(animate=False, immediate=True)
        await wait_for(pilot, lambda: fast.scroll_y == 45 - 10)
        fast.clear()
        fast.root.add_leaf("alone")
        await wait_for(pilot, lambda: not fast.show_vertical_scrollbar)
        assert fast.scroll_y == 0


def test_a_tree_not_mounted_frees_what_it_clears_at_once() -> None:
    tree = FastTree("organization")  # no app: no worker to free them later
    for i in range(20):
        tree.root.add(f"ou {i}").add_leaf(f"account {i}")
    nodes = [weakref.ref(tn) for tn in tree._tree_nodes.values() if tn is not tree.root]
    gc.disable()
    try:
        tree.clear()
        assert [r for r in nodes if r() is not None] == []
    finally:
        gc.enable()
