"""Subtree benchmark: what `export --subtree` costs against a full crawl of the large org.

    python bench/subtree_bench.py [--latency 0.0,0.02] [--rates 1] [--no-details]

Builds the 1,200-account org (`large_spec`, as bench/crawl_bench.py does) on the strict
simulated endpoint (AWS's paging: at most 20 a page, empty pages now and then, bound
NextTokens) with AWS's documented token buckets (`--rates 10` runs ten times faster for a
quick look; the calls do not change), then runs `orgtree-tui export` once for the whole
organization and once per subtree, with details unless told otherwise. Prints one table: calls
the endpoint saw (throttled ones included), calls as % of the full crawl, seconds, and whether
the subtree's JSON is the full export's node, byte for byte the same values.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtree_tui.demo import GroundTruth, large_spec, start_demo
from orgtree_tui.demo.spec import NodeKind
from orgtree_tui.main import main
from orgtree_tui.quotas import DOCUMENTED_QUOTAS, Quota

SETTLE = 2.0  # seconds between runs so the server's buckets refill


@dataclass
class Row:
    what: str
    ref: str
    nodes: int
    calls: int
    seconds: float
    status: int
    same: str
    by_operation: Counter[str]


def below(truth: GroundTruth, node_id: str) -> int:
    return 1 + sum(below(truth, c.id) for c in truth.children(node_id))


def accounts_below(truth: GroundTruth, node_id: str) -> int:
    node = truth.nodes[node_id]
    own = 1 if node.type == "ACCOUNT" else 0
    return own + sum(accounts_below(truth, c.id) for c in truth.children(node_id))


def path(truth: GroundTruth, node_id: str) -> str:
    names: list[str] = []
    current: str | None = node_id
    while current is not None:
        names.append(truth.nodes[current].name.replace("\\", "\\\\").replace("/", "\\/"))
        current = truth.nodes[current].parent_id
    return "/" + "/".join(reversed(names))


def pick(truth: GroundTruth) -> list[tuple[str, str, str]]:
    """(label, ref, node id): a 2-account OU, a mid-size OU, an account, name paths."""
    ous = [n.id for n in truth.nodes.values() if n.type == "ORGANIZATIONAL_UNIT"]
    two = min(
        (i for i in ous if accounts_below(truth, i) == 2),
        key=lambda i: (below(truth, i), i),
    )
    total = len(truth.nodes)
    mid = min(ous, key=lambda i: (abs(below(truth, i) - total // 10), i))
    kind: NodeKind = "ACCOUNT"
    account = max(
        (n.id for n in truth.nodes.values() if n.type == kind),
        key=lambda i: (truth.level(i), i),
    )
    return [
        ("2-account OU, by id", two, two),
        ("2-account OU, by name path", path(truth, two), two),
        ("mid-size OU, by id", mid, mid),
        ("mid-size OU, by name path", path(truth, mid), mid),
        ("account, by id", account, account),
    ]


def find(tree: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    stack = [tree]
    while stack:
        node = stack.pop()
        if node["id"] == node_id:
            return node
        stack.extend(node["children"])
    return None


def export(url: str, out: Path, ref: str | None, details: bool) -> tuple[int, float]:
    argv = ["export", "--endpoint-url", url, "--no-cache", "-q", "-o", str(out), "--force"]
    argv += ["--subtree", ref] if ref else []
    argv += [] if details else ["--no-details"]
    started = time.monotonic()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        status = main(argv)
    if status != 0:
        print(f"  {ref}: exit {status}: {err.getvalue().strip()}", file=sys.stderr)
    return status, time.monotonic() - started


def run(args: argparse.Namespace) -> list[Row]:
    low, high = (float(x) for x in args.latency.split(","))
    quotas = None
    if args.rates != 1:
        quotas = {op: Quota(q.rate * args.rates, q.burst) for op, q in DOCUMENTED_QUOTAS.items()}
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_demo(large_spec(), latency=(low, high), quotas=quotas) as demo,
        # The CLI's limiter reads the same table as the server: faster on both sides.
        patch.dict(DOCUMENTED_QUOTAS, quotas or {}),
    ):
        truth = demo.truth
        counts = truth.counts()
        print(
            f"# large: {counts.accounts} accounts, {counts.ous} OUs, built in"
            f" {demo.build_seconds:.1f}s",
            file=sys.stderr,
        )
        os.environ["ORGTREE_TUI_CACHE_DIR"] = str(Path(tmp) / "cache")
        full_doc: dict[str, Any] = {}
        for label, ref, node_id in [("whole organization", None, truth.root_id), *pick(truth)]:
            time.sleep(SETTLE)
            demo.middleware.reset_buckets()
            demo.middleware.reset_stats()
            out = Path(tmp) / "out.json"
            status, seconds = export(demo.endpoint_url, out, ref, args.details)
            stats = demo.middleware.stats()
            document = json.loads(out.read_text()) if status == 0 else {}
            if ref is None:
                full_doc = document
                same = "-"
            else:
                expected = find(full_doc["tree"], node_id) if full_doc else None
                same = "yes" if document and document["tree"] == expected else "NO"
            rows.append(
                Row(
                    label,
                    ref or "-",
                    below(truth, node_id),
                    stats.total_calls,
                    seconds,
                    status,
                    same,
                    Counter(stats.calls),
                )
            )
            print(f"  {render(rows[-1], rows[0].calls)}", file=sys.stderr)
            print(f"    {dict(sorted(stats.calls.items()))}", file=sys.stderr)
    return rows


HEADER = "| export | --subtree | nodes | API calls | % of full crawl | seconds | exit | same JSON |"


def render(row: Row, full_calls: int) -> str:
    share = 100.0 * row.calls / full_calls if full_calls else float("nan")
    ref = f"`{row.ref}`" if row.ref != "-" else "-"
    return (
        f"| {row.what} | {ref} | {row.nodes} | {row.calls} | {share:.1f}% | {row.seconds:.1f} |"
        f" {row.status} | {row.same} |"
    )


def main_() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--latency", default="0.0,0.02", help="seconds, low,high")
    parser.add_argument("--rates", type=float, default=1.0, help="multiply AWS's rates")
    parser.add_argument("--no-details", dest="details", action="store_false")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    rows = run(args)
    print(HEADER)
    print("|" + "---|" * 8)
    for row in rows:
        print(render(row, rows[0].calls))


if __name__ == "__main__":
    main_()
