"""Crawl benchmark: the inherited design against ours, on the simulated endpoint.

    python bench/crawl_bench.py [--orgs seed,large] [--inherited 1,4,8] [--modes per-op,shared]

Prints one table. The endpoint is moto's server behind the strict simulated endpoint: AWS's paging
(at most 20 items a page, an empty page with a NextToken now and then, bound NextTokens),
latency 100-200 ms, AWS's documented token buckets ("shared" makes the operations on one quota
row share one bucket). Every run is checked against the ground truth the org was built from.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inherited import inherited_crawl
from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl import topics
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.demo import GroundTruth, OrgSpec, build_org, large_spec, seed_spec
from orgtree_tui.identity import open_session
from orgtree_tui.quotas import QUOTA_ROWS, quota_for, row_of
from orgtree_tui.records import Node
from orgtree_tui.sim.server import SimServer

SETTLE = 2.0  # seconds between runs so the server's buckets refill


@dataclass
class Row:
    org: str
    design: str
    mode: str
    structure: float | None
    full: float
    calls: int
    throttled: int
    failed: int
    nodes: str
    tag_sets: str
    bound: float
    node_count: int = 0
    outcome: str = "-"

    @property
    def ratio(self) -> float:
        return self.full / self.bound if self.bound else float("nan")


def quota_bound(accepted: dict[str, int], shared: bool) -> float:
    """The fastest any client could make these calls: per bucket, (calls - burst) / rate."""
    buckets: dict[tuple[str, ...], int] = {}
    for op, n in accepted.items():
        key = row_of(op) if shared else (op,)
        buckets[key] = buckets.get(key, 0) + n
    worst = 0.0
    for key, n in buckets.items():
        quota = next((q for ops, q in QUOTA_ROWS if ops == key), quota_for(key[0]))
        worst = max(worst, max(0, n - quota.burst) / quota.rate)
    return worst


def accepted_calls(server: SimServer) -> tuple[dict[str, int], int, int]:
    stats = server.middleware.stats()
    accepted = {op: n - stats.throttled.get(op, 0) for op, n in stats.calls.items()}
    return accepted, stats.total_calls, stats.total_throttled


def run_ours(server: SimServer, truth: GroundTruth, workers: int, shared: bool) -> Row:
    conn = Connection(endpoint_url=server.endpoint_url, access_key="testing", secret_key="x")
    crawler = Crawler(
        make_client(conn, session=open_session(conn), max_pool=workers),
        CrawlOptions(workers=workers),
    )
    expected = len(truth.nodes)
    placed: dict[str, float] = {}
    started = time.monotonic()

    class StructureClock:
        def on_node(self, node: Node) -> None:
            if "at" not in placed and len(crawler.tree) >= expected:
                placed["at"] = time.monotonic() - started

    clock = StructureClock()
    for topic in (topics.ORGANIZATIONAL_UNIT, topics.ACCOUNT):
        crawler.publisher.subscribe(clock.on_node, topic)
    outcome = crawler.run()
    full = time.monotonic() - started
    accepted, calls, throttled = accepted_calls(server)
    check = truth.compare(crawler.tree)
    found = len(truth.nodes) - len(check.missing)
    tag_sets = len(truth.nodes) - len(check.missing) - len(check.missing_tags)
    tag_sets -= len(check.wrong_tags)
    return Row(
        org="",
        design=f"ours ({workers} worker{'s' if workers != 1 else ''})",
        mode="shared" if shared else "per-op",
        structure=placed.get("at"),
        full=full,
        calls=calls,
        throttled=throttled,
        failed=outcome.stats.failed,
        nodes=f"{found}/{len(truth.nodes)}",
        tag_sets=f"{tag_sets}/{len(truth.nodes)}",
        bound=quota_bound(accepted, shared),
        node_count=len(truth.nodes),
        outcome=outcome.state.value,
    )


def run_inherited(server: SimServer, truth: GroundTruth, workers: int, shared: bool) -> Row:
    result = inherited_crawl(server.endpoint_url, workers, expected_nodes=len(truth.nodes))
    accepted, calls, throttled = accepted_calls(server)
    found = sum(1 for n in truth.nodes if n in result.nodes)
    tags_ok = sum(1 for n, t in truth.tags.items() if result.tags.get(n) == t)
    return Row(
        org="",
        design=f"inherited ({workers} worker{'s' if workers != 1 else ''})",
        mode="shared" if shared else "per-op",
        structure=result.structure_done_at,
        full=result.elapsed,
        calls=calls,
        throttled=throttled,
        failed=result.failed,
        nodes=f"{found}/{len(truth.nodes)}",
        tag_sets=f"{tags_ok}/{len(truth.nodes)}",
        bound=quota_bound(accepted, shared),
        node_count=len(truth.nodes),
    )


def fresh(server: SimServer, shared: bool) -> None:
    time.sleep(SETTLE)
    server.middleware.shared_rows = shared
    server.middleware.reset_buckets()
    server.middleware.reset_stats()


def bench_org(
    name: str, spec: OrgSpec, inherited: list[int], modes: list[str], workers: int
) -> list[Row]:
    rows: list[Row] = []
    with SimServer(latency=(0.1, 0.2), seed=spec.seed) as server:
        built_at = time.monotonic()
        truth = build_org(server.admin_client(), spec)
        counts = truth.counts()
        print(
            f"# {name}: {counts.accounts} accounts, {counts.ous} OUs, built in "
            f"{time.monotonic() - built_at:.1f}s",
            file=sys.stderr,
        )
        for mode in modes:
            shared = mode == "shared"
            for n in inherited:
                fresh(server, shared)
                rows.append(run_inherited(server, truth, n, shared))
                rows[-1].org = name
                print(f"  {render_row(rows[-1])}", file=sys.stderr)
            fresh(server, shared)
            rows.append(run_ours(server, truth, workers, shared))
            rows[-1].org = name
            print(f"  {render_row(rows[-1])}", file=sys.stderr)
    return rows


HEADER = (
    "| org | design | buckets | structure complete (s) | full crawl (s) | API calls | "
    "calls / node | throttled | failed calls | nodes found | tag sets found | crawl says | "
    "quota bound (s) | full / bound |"
)


def render_row(row: Row) -> str:
    structure = f"{row.structure:.1f}" if row.structure is not None else "never"
    return (
        f"| {row.org} | {row.design} | {row.mode} | {structure} | {row.full:.1f} | {row.calls} | "
        f"{row.calls / max(1, row.node_count):.2f} | {row.throttled} | {row.failed} | "
        f"{row.nodes} | {row.tag_sets} | {row.outcome} | {row.bound:.1f} | {row.ratio:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", default="seed,large")
    parser.add_argument("--inherited", default="1,4,8", help="worker counts; empty for none")
    parser.add_argument("--modes", default="per-op,shared")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    specs = {"seed": seed_spec(), "large": large_spec()}
    inherited = [int(n) for n in args.inherited.split(",") if n]
    modes = args.modes.split(",")
    rows: list[Row] = []
    for name in args.orgs.split(","):
        rows += bench_org(name, specs[name], inherited, modes, args.workers)
    print(HEADER)
    print("|" + "---|" * 14)
    for row in rows:
        print(render_row(row))


if __name__ == "__main__":
    main()
