"""Name paths from the root (`/Root/Workloads/Prod`): how a name is written in one, and read.

What `--subtree /Root/...` takes and what every export and the details pane show.
"""

from __future__ import annotations


def escape_segment(name: str) -> str:
    """One name as a path segment: `\\` and `/` escaped."""
    # A "/" inside a name would split the path; AWS allows it in account names.
    return name.replace("\\", "\\\\").replace("/", "\\/")


def split_path(ref: str) -> list[str]:
    """The names of a path (`/Root/Data\\/Analytics` -> Root, Data/Analytics)."""
    segments: list[str] = []
    current: list[str] = []
    chars = iter(ref.lstrip("/"))
    for ch in chars:
        if ch == "\\":
            current.append(next(chars, ""))
        elif ch == "/":
            segments.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        segments.append("".join(current))
    return [s for s in segments if s != ""]
