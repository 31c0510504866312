"""UI benchmark: AWS's maxima streamed through the real engine, bridge and app, headless.

    python bench/ui_bench.py                              # 50,000 accounts in 2,000 OUs
    python bench/ui_bench.py --accounts 2000 --ous 100    # a quick check

Prints one Markdown table on stdout (progress goes to stderr) and exits 1 if a target is
missed. The organization (five levels of OUs, built by `bench/ui_bench_org.py` from the
project's own plan generator) lives in moto's server in a child process, so the numbers
below are the app's: `make_app` with a boto3 client on that endpoint, the real `Crawler`
(task loop, rate limiter with every quota raised to `--rate` calls/s, so the stream is as
fast as moto answers), the real `CrawlBridge`, and `OrgTreeApp` under `run_test` at 120x40.
By default the crawl is structure only (like `--no-details`); `--details` adds tags and SCPs.

How each number is measured (all on `time.monotonic`):

- first account -> full tree in the model: a thread polls the crawl's OrgTree every 5 ms,
  from the first account in it to the moment it holds every node the org was built with.
  "Streaming" below means this window.
- UI caught up: from the full model to the moment the last of its nodes has gone through the
  tree widget's `add_nodes` (the app's drain, at most 20 a second).
- longest event-loop stall: a task on the app's event loop sleeps 10 ms again and again and
  records how late it wakes up; the worst lateness while streaming (p99 next to it).
- keypress -> repaint: navigation keys (j, k, l, h, chosen at random among those that change
  something where the cursor is) are sent the way Textual's driver sends a terminal's keys
  (`driver.send_message(events.Key)`), one at a time, 100 ms after the previous one was
  painted. The clock stops at the first screen update (the compositor's `App._display`
  call, wrapped; headless, it renders but writes nothing) composed after the cursor's node
  or its expanded state has changed, i.e. the first frame that shows the key's effect. A key
  not shown within 10 s counts as 10 s. The same is done for 30 keys once the crawl is over.
- filter keystroke -> repaint: `/`, then the first FILTER_CHARS characters of a random
  account's name, one key at a time (sent like the navigation keys, THINK after the previous
  one was painted), then esc. The clock stops at the first frame composed after the app's
  `filter_text` is what was typed so far (the filter applied, the tree rebuilt for it). While
  streaming, a word is typed after every NAV_BETWEEN_WORDS navigation keys; FILTER_WORDS
  more once the crawl is over. esc (the whole tree back) is reported on its own row.
- expand-all on the largest OU: after the crawl, the cursor on the OU with the most nodes
  below it, `e` (and `c` to close again), EXPAND_REPEATS times: key -> first frame showing
  the OU and its first sub-OU open, and key -> every node under it in the tree widget.
- exports: `export_subtree` of the whole crawled tree to JSON and to CSV files in a
  temporary directory (snapshot, render and atomic write), after the crawl.
- warm start: the crawled tree is saved with `store.save` into a temporary cache directory
  ($ORGTREE_TUI_CACHE_DIR; the user's cache is never touched) and dropped, then a new app
  is made with `cache_source` (and a TTL, so no refresh crawl starts); from the moment it
  starts (`run_test`) to the first screen update after the app set `cache_shown_at` (the
  cached tree is in the widget). Same process, so imports are warm; the first app is gone.
- peak RSS: `ru_maxrss` of this process (app, engine, bridge, boto3, exports, cache;
  moto's child process not included), a high-water mark read after each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import RenderableType
from textual import events
from textual.keys import _character_to_key
from textual.screen import Screen
from textual.widgets.tree import TreeNode

from orgtree_tui.aws import READ_ONLY_OPERATIONS, make_client
from orgtree_tui.cache import store
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import CrawlOptions
from orgtree_tui.export import export_subtree
from orgtree_tui.identity import open_session
from orgtree_tui.locations import CACHE_DIR_ENV
from orgtree_tui.model import OrgTree
from orgtree_tui.quotas import Quota
from orgtree_tui.records import Node, NodeType
from orgtree_tui.source import Source
from orgtree_tui.ui.app import OrgTreeApp
from orgtree_tui.ui.launch import make_app

LABEL = "ui-bench (moto)"
SIZE = (120, 40)
DONE = ("complete", "incomplete", "failed", "cancelled")
PROBE_INTERVAL = 0.010  # the stall probe's sleep
POLL_INTERVAL = 0.005  # the model watcher's
THINK = 0.100  # between a key's repaint and the next key
KEY_TIMEOUT = 10.0
IDLE_KEYS = 30
KEY_WEIGHTS = {"j": 5, "k": 2, "l": 2, "h": 1}
TARGETS = {"keys": 0.100, "rss": 400.0, "warm": 1.0, "export": 2.0, "filter": 0.050}
FILTER_CHARS = 8
FILTER_WORDS = 8
NAV_BETWEEN_WORDS = 5
EXPAND_REPEATS = 5


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# -- the organization, in a child process ------------------------------------------------


@dataclass
class Org:
    process: subprocess.Popen[str]
    endpoint: str
    nodes: int
    ous: int
    accounts: int
    build_seconds: float

    def stop(self) -> None:
        stdin: IO[str] | None = self.process.stdin
        if stdin is not None:
            stdin.close()  # the child serves until its stdin closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_org(args: argparse.Namespace) -> Org:
    script = Path(__file__).with_name("ui_bench_org.py")
    command = [sys.executable, str(script), "--accounts", str(args.accounts)]
    command += ["--ous", str(args.ous), "--seed", str(args.seed)]
    command += ["--latency", str(args.latency)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise SystemExit(f"the organization's process ended (status {process.returncode})")
    built = json.loads(line)
    return Org(
        process,
        built["endpoint"],
        built["nodes"],
        built["ous"],
        built["accounts"],
        built["build_seconds"],
    )


# -- probes ------------------------------------------------------------------------------


class ModelWatch(threading.Thread):
    """Polls the crawl's model from its own thread, so a busy event loop cannot delay it."""

    def __init__(self, app: OrgTreeApp, expected: int) -> None:
        super().__init__(name="bench-model-watch", daemon=True)
        self.app = app
        self.expected = expected
        self.crawl_started: float | None = None
        self.first_account: float | None = None
        self.full: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(POLL_INTERVAL):
            crawler = self.app.controller.session.crawler
            if crawler is None:
                continue
            now = time.monotonic()
            if self.crawl_started is None:
                self.crawl_started = now
            tree = crawler.tree
            if self.first_account is None:
                if tree.totals().accounts:  # O(n), but only while n is tiny
                    self.first_account = now
            elif len(tree) >= self.expected:
                self.full = now
                return


class ScreenWatch:
    """Wraps the app's `_display`, which the screen calls with each composed update."""

    def __init__(self, app: OrgTreeApp) -> None:
        self.app = app
        self.paints: list[float] = []
        self._before: tuple[object, ...] | None = None
        self._shown: asyncio.Future[float] | None = None
        self._condition: Callable[[], bool] | None = None
        original = app._display

        def display(screen: Screen[Any], renderable: RenderableType | None) -> None:
            batched = app._batch_count > 0
            original(screen, renderable)
            if renderable is None or batched:
                return  # nothing was composed
            now = time.monotonic()
            self.paints.append(now)
            shown = self._shown
            if shown is not None and not shown.done() and self._changed():
                shown.set_result(now)

        app._display = display  # type: ignore[method-assign]

    def cursor_state(self) -> tuple[object, ...]:
        node = self.app.main.org_tree.cursor_node
        return (None,) if node is None else (node.data, node.is_expanded)

    def _changed(self) -> bool:
        if self._condition is not None:
            return self._condition()
        return self.cursor_state() != self._before

    def expect_change(self, condition: Callable[[], bool] | None = None) -> asyncio.Future[float]:
        """A future set at the first frame after the cursor's state changed (or, given a
        condition, the first frame composed while it holds)."""
        self._before = self.cursor_state()
        self._condition = condition
        self._shown = asyncio.get_running_loop().create_future()
        return self._shown

    def first_paint_after(self, moment: float) -> float | None:
        return next((t for t in self.paints if t >= moment), None)


@dataclass
class StallProbe:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (when, lateness)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        while not self.stop.is_set():
            planned = time.monotonic() + PROBE_INTERVAL
            await asyncio.sleep(PROBE_INTERVAL)
            now = time.monotonic()
            self.samples.append((now, now - planned))

    def lateness(self, start: float, end: float) -> list[float]:
        return [late for when, late in self.samples if start <= when <= end]


class DrainCount:
    """Counts the distinct nodes the app has handed to the tree widget."""

    def __init__(self, app: OrgTreeApp, expected: int) -> None:
        self.seen: set[str] = set()
        self.expected = expected
        self.caught_up: float | None = None
        tree = app.main.org_tree
        original = tree.add_nodes

        async def add_nodes(nodes: Sequence[Node]) -> None:
            await original(nodes)
            self.seen.update(n.id for n in nodes)
            if self.caught_up is None and len(self.seen) >= self.expected:
                self.caught_up = time.monotonic()

        tree.add_nodes = add_nodes  # type: ignore[method-assign]


# -- keys --------------------------------------------------------------------------------


def _has_next_line(tn: TreeNode[str]) -> bool:
    if tn.is_expanded and tn.children:
        return True
    node = tn
    while node.parent is not None:
        if node.parent.children[-1] is not node:
            return True
        node = node.parent
    return False


def next_key(app: OrgTreeApp, rng: random.Random) -> str | None:
    """A navigation key that changes something where the cursor is (None: no cursor yet)."""
    tree = app.main.org_tree
    tn = tree.cursor_node
    if tn is None or tree.cursor_line < 0:
        return None
    allowed = []
    if _has_next_line(tn):
        allowed.append("j")
    if tree.cursor_line > 0:
        allowed.append("k")
    if tn.allow_expand and (not tn.is_expanded or tn.children):
        allowed.append("l")
    if tn.is_expanded or (tn.parent is not None and tn.parent is not tree.root):
        allowed.append("h")
    if not allowed:
        return None
    return rng.choices(allowed, [KEY_WEIGHTS[k] for k in allowed])[0]


async def press(
    app: OrgTreeApp,
    screen: ScreenWatch,
    key: str,
    shown_when: Callable[[], bool] | None = None,
    character: str | None = None,
) -> float:
    """Seconds from sending the key to the first frame showing its effect."""
    shown = screen.expect_change(shown_when)
    driver = app._driver
    assert driver is not None
    sent = time.monotonic()
    # As the terminal driver's input thread does.
    char = character if character is not None else (key if len(key) == 1 else None)
    driver.send_message(events.Key(key, char))
    try:
        return await asyncio.wait_for(shown, KEY_TIMEOUT) - sent
    except TimeoutError:
        return KEY_TIMEOUT


async def press_keys(
    app: OrgTreeApp,
    screen: ScreenWatch,
    rng: random.Random,
    until: Callable[[], bool],
    filtering: FilterTimes | None = None,
) -> list[float]:
    """Navigation keys until `until()`; with `filtering`, a filter word every few keys."""
    latencies: list[float] = []
    while not until():
        if filtering is not None and latencies and len(latencies) % NAV_BETWEEN_WORDS == 0:
            await type_filter(app, screen, rng, filtering)
        key = next_key(app, rng)
        if key is None:
            await asyncio.sleep(0.01)
            continue
        latencies.append(await press(app, screen, key))
        await asyncio.sleep(THINK)
    return latencies


@dataclass
class FilterTimes:
    keys: list[float] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)  # after each key


async def type_filter(
    app: OrgTreeApp, screen: ScreenWatch, rng: random.Random, times: FilterTimes
) -> None:
    """`/`, the start of a random account's name key by key, then esc."""
    accounts = [n for n in app.main.model.nodes() if n.is_account]
    if not accounts:
        return
    word = rng.choice(accounts).name[:FILTER_CHARS].strip()
    await press(app, screen, "slash", lambda: app.main.filter_bar.has_focus, "/")
    await asyncio.sleep(THINK)
    for end in range(1, len(word) + 1):
        typed, char = word[:end], word[end - 1]
        key = _character_to_key(char)
        times.keys.append(await press(app, screen, key, filter_shows(app, typed.strip()), char))
        times.matches.append(len(app.main.filter.matches))
        await asyncio.sleep(THINK)
    times.clears.append(await press(app, screen, "escape", lambda: app.main.filter.text == ""))
    await asyncio.sleep(THINK)


def filter_shows(app: OrgTreeApp, text: str) -> Callable[[], bool]:
    return lambda: app.main.filter.text == text


def largest_ou(tree: OrgTree) -> str:
    ous = [n.id for n in tree.nodes() if n.type is NodeType.ORGANIZATIONAL_UNIT]
    return max(ous, key=lambda i: (sum(astuple(tree.counts(i))), i))


async def expand_all(app: OrgTreeApp, screen: ScreenWatch, results: Results) -> None:
    """`e` on the OU with the most below it, then `c`, EXPAND_REPEATS times."""
    tree, view = app.main.model, app.main.org_tree
    target = largest_ou(tree)
    below = [n.id for n in tree.walk(target)]
    first_sub = next((c.id for c in tree.children(target) if not c.is_account), target)
    results.expand_size = len(below)

    def opened() -> bool:
        return all(
            (tn := view.widget_node(i)) is not None and tn.is_expanded for i in {target, first_sub}
        )

    for _ in range(EXPAND_REPEATS):
        view.reveal(target)
        await asyncio.sleep(THINK)
        sent = time.monotonic()
        results.expand_first.append(await press(app, screen, "e", opened))
        await wait_until(
            lambda: not view.filling and all(view.widget_node(i) is not None for i in below),
            120,
            "every node under the largest OU in the widget",
        )
        results.expand_built.append(time.monotonic() - sent)
        await asyncio.sleep(THINK)
        await press(app, screen, "c")
        await asyncio.sleep(THINK)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.01)


# -- the phases --------------------------------------------------------------------------


@dataclass
class Results:
    org: Org
    details: bool
    crawl_to_first: float = 0.0
    streaming: float = 0.0
    caught_up: float | None = None
    stall_max: float = 0.0
    stall_p99: float = 0.0
    keys_streaming: list[float] = field(default_factory=list)
    keys_idle: list[float] = field(default_factory=list)
    filter_streaming: FilterTimes = field(default_factory=lambda: FilterTimes())
    filter_idle: FilterTimes = field(default_factory=lambda: FilterTimes())
    expand_size: int = 0
    expand_first: list[float] = field(default_factory=list)
    expand_built: list[float] = field(default_factory=list)
    rss_before: float = 0.0
    rss_streaming: float = 0.0
    rss_exports: float = 0.0
    rss_save: float = 0.0
    cache_save: float = 0.0
    cache_load: float = 0.0
    warm: float = 0.0
    exports: dict[str, tuple[float, int]] = field(default_factory=dict)
    rss_end: float = 0.0


def crawl_options(args: argparse.Namespace) -> CrawlOptions:
    quotas = {op: Quota(args.rate, int(args.rate)) for op in READ_ONLY_OPERATIONS}
    return CrawlOptions(workers=args.workers, details=args.details, quotas=quotas)


async def stream(args: argparse.Namespace, org: Org, results: Results) -> OrgTree:
    conn = Connection(endpoint_url=org.endpoint, access_key="testing", secret_key="testing")
    source = Source(
        make_client(conn, session=open_session(conn), max_pool=args.workers), conn, LABEL
    )
    app = make_app(lambda: source, crawl_options(args))
    screen, drained = ScreenWatch(app), DrainCount(app, org.nodes)
    model, stalls = ModelWatch(app, org.nodes), StallProbe()
    rng = random.Random(args.seed)
    async with app.run_test(size=SIZE):
        probe = asyncio.create_task(stalls.run())
        model.start()
        log("crawling")
        await wait_until(lambda: model.first_account is not None, 120, "the first account")
        log("streaming; pressing keys")
        results.keys_streaming = await press_keys(
            app, screen, rng, lambda: model.full is not None, results.filter_streaming
        )
        log(f"model full; {len(results.keys_streaming)} keys pressed while streaming")
        await wait_until(lambda: app.controller.state in DONE, 600, "the end of the crawl")
        await wait_until(lambda: drained.caught_up is not None, 60, "the widget to catch up")
        stalls.stop.set()
        await probe
        log(f"crawl {app.controller.state}; pressing {IDLE_KEYS} keys on the finished tree")
        for _ in range(IDLE_KEYS):
            key = next_key(app, rng)
            if key is not None:
                results.keys_idle.append(await press(app, screen, key))
                await asyncio.sleep(THINK)
        log(f"typing {FILTER_WORDS} filter words on the finished tree")
        for _ in range(FILTER_WORDS):
            await type_filter(app, screen, rng, results.filter_idle)
        log(f"expand-all on the largest OU, {EXPAND_REPEATS} times")
        await expand_all(app, screen, results)
        tree = app.main.model
    assert model.crawl_started and model.first_account and model.full
    results.crawl_to_first = model.first_account - model.crawl_started
    results.streaming = model.full - model.first_account
    if drained.caught_up is not None:
        results.caught_up = drained.caught_up - model.full
    late = stalls.lateness(model.first_account, model.full) or [0.0]
    results.stall_max = max(late)
    results.stall_p99 = percentile(late, 99)
    if len(tree) != org.nodes:
        raise SystemExit(f"the crawl found {len(tree)} nodes of {org.nodes}")
    return tree


def _no_crawl() -> Source:
    raise RuntimeError("the warm start must show the cache without crawling")


async def warm_start(args: argparse.Namespace, expected: int, results: Results) -> None:
    """The cache must already hold the tree (see `run`)."""
    started = time.monotonic()
    loaded = store.load(LABEL)
    results.cache_load = time.monotonic() - started
    if loaded.cached is None or len(loaded.cached.tree) != expected:
        raise SystemExit(f"the cache did not load back: {loaded.message}")
    del loaded
    gc.collect()
    app = make_app(_no_crawl, crawl_options(args), cache_source=LABEL, cache_ttl=timedelta(days=1))
    screen = ScreenWatch(app)

    def shown() -> bool:
        at = app.controller.cache_shown_at
        return at is not None and screen.first_paint_after(at) is not None

    started = time.monotonic()
    async with app.run_test(size=SIZE):
        await wait_until(shown, 120, "the cached tree on screen")
        assert app.controller.cache_shown_at is not None
        painted = screen.first_paint_after(app.controller.cache_shown_at)
        assert painted is not None
        if len(app.main.model) != expected or app.controller.crawler is not None:
            raise SystemExit("the warm start did not show the whole cached tree alone")
    results.warm = painted - started


def exports(tree: OrgTree, directory: Path, results: Results) -> None:
    root_id = tree.roots()[0].id
    for fmt in ("json", "csv"):
        path = directory / f"org.{fmt}"
        started = time.monotonic()
        export_subtree(tree, root_id, fmt, path, force=True, complete=True)
        results.exports[fmt] = (time.monotonic() - started, path.stat().st_size)


# -- the table ---------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def verdict(value: float, limit: float) -> str:
    return "yes" if value < limit else "**no**"


def table(args: argparse.Namespace, r: Results) -> tuple[str, bool]:
    org = r.org
    rate = (org.nodes - 1) / r.streaming if r.streaming else 0.0
    ks, ki = r.keys_streaming, r.keys_idle
    p95 = percentile(ks, 95)
    rss = r.rss_end  # a high-water mark: the whole run's peak
    caught = "never" if r.caught_up is None else f"{max(0.0, r.caught_up):.2f} s"
    what = "structure, tags and SCPs" if r.details else "structure only"
    rows: list[tuple[str, str, str, str]] = [
        (
            "organization (moto server in a child process)",
            f"{org.accounts:,} accounts, {org.ous:,} OUs, 5 levels ({org.nodes:,} nodes); "
            f"crawl: {what}, {args.workers} workers",
            "",
            "",
        ),
        ("crawl start → first account in the model", f"{r.crawl_to_first:.2f} s", "", ""),
        (
            "first account → full tree in the model",
            f"{r.streaming:.1f} s ({rate:,.0f} nodes/s)",
            "",
            "",
        ),
        ("full tree in the model → widget caught up", caught, "", ""),
        (
            "longest event-loop stall while streaming (p99)",
            f"{ms(r.stall_max)} ({ms(r.stall_p99)})",
            "",
            "",
        ),
        (
            f"keypress → repaint p50 / p95 while streaming ({len(ks)} keys)",
            f"{ms(percentile(ks, 50))} / {ms(p95)}",
            "p95 < 100 ms",
            verdict(p95, TARGETS["keys"]),
        ),
        (
            f"keypress → repaint p50 / p95 after the crawl ({len(ki)} keys)",
            f"{ms(percentile(ki, 50))} / {ms(percentile(ki, 95))}",
            "",
            "",
        ),
        *filter_rows(r),
        (
            "peak RSS of the bench process (app, engine, bridge, boto3; moto excluded), "
            "high-water mark after: imports / streaming / exports / cache save / warm start",
            f"{r.rss_before:.0f} / {r.rss_streaming:.0f} / {r.rss_exports:.0f} / "
            f"{r.rss_save:.0f} / {rss:.0f} MB",
            "< 400 MB",
            verdict(rss, TARGETS["rss"]),
        ),
        (
            "cache: save / load (file → model)",
            f"{r.cache_save:.2f} s / {r.cache_load:.2f} s",
            "",
            "",
        ),
        (
            "warm start: app start → cached full tree on screen",
            f"{r.warm:.2f} s",
            "< 1 s",
            verdict(r.warm, TARGETS["warm"]),
        ),
    ]
    for fmt in ("json", "csv"):
        seconds, size = r.exports[fmt]
        rows.append(
            (
                f"export the whole tree to {fmt.upper()}",
                f"{seconds:.2f} s ({size / 1e6:.1f} MB)",
                "< 2 s",
                verdict(seconds, TARGETS["export"]),
            )
        )
    lines = ["| metric | measured | target | ok |", "|---|---|---|---|"]
    lines += [f"| {m} | {v} | {t} | {ok} |" for m, v, t, ok in rows]
    return "\n".join(lines), all(ok != "**no**" for *_, ok in rows)


def filter_rows(r: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    for when, times in (("while streaming", r.filter_streaming), ("after", r.filter_idle)):
        keys, clears = times.keys, times.clears
        p95 = percentile(keys, 95)
        most = max(times.matches, default=0)
        rows.append(
            (
                f"filter keystroke → repaint p50 / p95 {when} the crawl "
                f"({len(keys)} keys, {len(clears)} words, up to {most:,} matches)",
                f"{ms(percentile(keys, 50))} / {ms(p95)}",
                "p95 < 50 ms",
                verdict(p95, TARGETS["filter"]),
            )
        )
        rows.append(
            (
                f"filter cleared (esc) → whole tree repainted p50 / p95 {when} the crawl",
                f"{ms(percentile(clears, 50))} / {ms(percentile(clears, 95))}",
                "",
                "",
            )
        )
    first, built = r.expand_first, r.expand_built
    rows.append(
        (
            f"expand-all (e) on the largest OU ({r.expand_size:,} nodes), {len(first)} times: "
            "key → first repaint p50 / p95; key → all of it in the widget p50 / p95",
            f"{ms(percentile(first, 50))} / {ms(percentile(first, 95))}; "
            f"{ms(percentile(built, 50))} / {ms(percentile(built, 95))}",
            "",
            "",
        )
    )
    return rows


# -- main --------------------------------------------------------------------------------


async def run(args: argparse.Namespace, org: Org, directory: Path) -> Results:
    results = Results(org, args.details, rss_before=peak_rss_mb())
    tree = await stream(args, org, results)
    results.rss_streaming = peak_rss_mb()
    log(f"streamed in {results.streaming:.1f}s; exports")
    exports(tree, directory, results)
    results.rss_exports = peak_rss_mb()
    started = time.monotonic()
    store.save(tree, source=LABEL, complete=True, crawled_at=datetime.now(UTC))
    results.cache_save = time.monotonic() - started
    results.rss_save = peak_rss_mb()
    # A warm start is a new process with one tree in memory: drop the crawled one first.
    del tree
    gc.collect()
    log("warm start from the cache")
    await warm_start(args, org.nodes, results)
    results.rss_end = peak_rss_mb()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50_000, help="management included")
    parser.add_argument("--ous", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=1000.0, help="calls/s for every API")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--details", action="store_true", help="fetch tags and SCPs too")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orgtree-ui-bench-") as tmp:
        directory = Path(tmp)
        os.environ[CACHE_DIR_ENV] = str(directory / "cache")  # the user's cache stays untouched
        log(f"building {args.accounts:,} accounts in {args.ous:,} OUs in moto")
        org = start_org(args)
        log(f"built in {org.build_seconds:.1f}s at {org.endpoint}")
        try:
            results = asyncio.run(run(args, org, directory))
        finally:
            org.stop()
    text, ok = table(args, results)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
