"""Arrows point one way: nothing outside orgtree_tui.ui may import textual or rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

UI_FREE = [
    "orgtree_tui",
    "orgtree_tui.model",
    "orgtree_tui.quotas",
    "orgtree_tui.aws",
    "orgtree_tui.crawl.topics",
    "orgtree_tui.crawl.engine",
    "orgtree_tui.crawl.ratelimit",
    "orgtree_tui.crawl.subscribers",
    "orgtree_tui.crawl.crawler",
    "orgtree_tui.export",
    "orgtree_tui.demo",
    "orgtree_tui.sim.server",
    "orgtree_tui.headless",
    "orgtree_tui.source",
    "orgtree_tui.cli",
    "orgtree_tui.cache",
    "orgtree_tui.changes",
    "orgtree_tui.locations",
    "orgtree_tui.identity",
    "orgtree_tui.settings",
    "orgtree_tui.console",
    "orgtree_tui.arguments",
    "orgtree_tui.aws_errors",
    "orgtree_tui.progress",
]


@pytest.mark.parametrize("module", UI_FREE)
def test_module_imports_no_textual_or_rich(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
