"""The environment the snapshots and exact-version checks were made in: constraints.txt."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parent.parent / "constraints.txt"


def pinned_version(package: str) -> str | None:
    for line in CONSTRAINTS.read_text().splitlines():
        name, sep, version = line.partition("==")
        if sep and name.strip().lower() == package.lower():
            return version.strip()
    return None


def mismatch(package: str) -> str | None:
    """Why this is not the pinned environment for `package`, or None when it is."""
    pinned = pinned_version(package)
    installed = importlib.metadata.version(package)
    if pinned == installed:
        return None
    return (
        f"{package} {installed} is installed but constraints.txt pins {pinned}; install with "
        "`pip install -c constraints.txt -e '.[test]'`"
    )
