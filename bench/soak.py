"""Soak: many crawls back to back against the throttled endpoint; nothing lost, memory flat.

    python bench/soak.py [--runs 20] [--accounts 300]

Prints one row per crawl (time, calls, throttles, what matched the ground truth, RSS) and a
summary line. Exits non-zero if any run lost anything.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orgtree_tui.aws import make_client
from orgtree_tui.connection import Connection
from orgtree_tui.crawl.crawler import Crawler, CrawlOptions
from orgtree_tui.demo import OrgSpec, build_org
from orgtree_tui.identity import open_session
from orgtree_tui.sim.server import SimServer


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--shared", action="store_true", help="shared buckets per quota row")
    args = parser.parse_args()
    spec = OrgSpec(accounts=args.accounts, ous=40, depth=5, tags=True, scps=4, suspended=3, seed=21)
    lost_runs = 0
    rss: list[float] = []
    print("| run | seconds | API calls | throttled | failed | check | RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    with SimServer(latency=(0.1, 0.2), shared_rows=args.shared, seed=spec.seed) as server:
        truth = build_org(server.admin_client(), spec)
        conn = Connection(endpoint_url=server.endpoint_url, access_key="t", secret_key="t")
        for run in range(1, args.runs + 1):
            server.middleware.reset_stats()
            crawler = Crawler(make_client(conn, session=open_session(conn)), CrawlOptions())
            outcome = crawler.run()
            check = truth.compare(crawler.tree)
            stats = server.middleware.stats()
            if not check.ok or outcome.stats.failed:
                lost_runs += 1
            del crawler
            gc.collect()
            rss.append(rss_mib())
            print(
                f"| {run} | {outcome.stats.elapsed:.1f} | {stats.total_calls} | "
                f"{stats.total_throttled} | {outcome.stats.failed} | {check.summary()} | "
                f"{rss[-1]:.1f} |",
                flush=True,
            )
            time.sleep(1.0)  # let the server's buckets refill, as between two real crawls
    counts = truth.counts()
    growth = rss[-1] - rss[min(1, len(rss) - 1)]
    print(
        f"\n{args.runs} crawls of {counts.accounts} accounts / {counts.ous} OUs: "
        f"{args.runs - lost_runs} complete and exact, {lost_runs} lost data; "
        f"RSS after run 2 {rss[min(1, len(rss) - 1)]:.1f} MiB, after run {args.runs} "
        f"{rss[-1]:.1f} MiB (growth {growth:+.1f} MiB)"
    )
    return 1 if lost_runs else 0


if __name__ == "__main__":
    raise SystemExit(main())
