"""Core speed at AWS's maxima: the refresh diff and the cache file, for 50,000 accounts.

    python bench/core_bench.py            # 3 runs, the best of each is reported
    python bench/core_bench.py --runs 5

The unit tests check that these come out right (tests/test_changes.py, tests/test_cache.py);
how fast they are is measured here, on `time.perf_counter`, because a duration asserted in
a test fails on a busy machine for reasons that are not the code's. Exits 1 if a target is
missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from orgtree_tui.cache import store as cache
from orgtree_tui.changes import diff
from orgtree_tui.model import OrgTree
from orgtree_tui.records import Node, NodeType, Policy

TARGETS = {"diff": 0.5, "cache save": 1.0, "cache load": 1.0}  # seconds
OUS, ACCOUNTS = 2_000, 50_000


def big_tree(moved: int | None = None) -> OrgTree:
    """2,000 OUs (20 under the root, 20 under each of those...), 50,000 accounts with tags
    and an SCP; `moved`: that account sits under another OU, renamed."""
    tree = OrgTree()
    tree.add(Node("r-big", NodeType.ROOT, "Root", "arn:root/r-big", None))
    for i in range(OUS):
        parent = "r-big" if i < 20 else f"ou-{i // 20 - 1}"
        tree.add(Node(f"ou-{i}", NodeType.ORGANIZATIONAL_UNIT, f"OU {i}", f"arn:ou/{i}", parent))
    for i in range(ACCOUNTS):
        account_id = f"{i:012d}"
        parent, name = f"ou-{i % OUS}", f"acct {i}"
        if i == moved:
            parent, name = "ou-5", "moved"
        tree.add(
            Node(
                account_id,
                NodeType.ACCOUNT,
                name,
                f"arn:account/{account_id}",
                parent,
                f"aws+{i}@example.com",
                "ACTIVE",
                "CREATED",
                datetime(2021, 3, 4, tzinfo=UTC),
            )
        )
        tree.set_tags(account_id, {"team": f"team-{i % 97}"})
        tree.set_policies(account_id, (Policy("p-FullAWSAccess", "FullAWSAccess"),))
    return tree


def timed(work: object) -> float:
    assert callable(work)
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def one_run(directory: Path) -> dict[str, float]:
    old, new = big_tree(), big_tree(moved=7)
    path = directory / "big.json"
    crawled = datetime.now(UTC)
    return {
        "diff": timed(lambda: diff(old, new)),
        "cache save": timed(
            lambda: cache.save(old, source="bench", complete=True, crawled_at=crawled, path=path)
        ),
        "cache load": timed(lambda: cache.load("bench", path=path)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.runs):
            for what, took in one_run(Path(scratch)).items():
                best[what] = min(took, best.get(what, took))
    print("| what | best of runs | target |\n|---|---|---|")
    for what, took in best.items():
        print(f"| {what} | {took:.3f} s | {TARGETS[what]} s |")
    return 0 if all(best[w] <= TARGETS[w] for w in TARGETS) else 1


if __name__ == "__main__":
    sys.exit(main())
