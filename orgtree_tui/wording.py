"""Counts in words, the same in the CLI and the TUI."""

from __future__ import annotations


def plural(count: int, word: str, many: str = "") -> str:
    """`plural(1, "OU")` is "1 OU", `plural(2, "branch", "branches")` is "2 branches"."""
    return f"{count} {word}" if count == 1 else f"{count} {many or word + 's'}"
