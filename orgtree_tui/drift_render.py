"""A drift report (`drift.Drift`) as text for people, JSON for scripts, Markdown for a ticket.

Names come from whoever administers the organization: text and Markdown show them through
`text.visible` (Markdown also escapes its own markup), JSON keeps them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from orgtree_tui.drift import DIFF_FORMAT, Change, Drift, Unknown
from orgtree_tui.drift_sides import Side
from orgtree_tui.text import visible
from orgtree_tui.wording import plural

FORMATS = ("text", "json", "markdown")


def render(drift: Drift, fmt: str) -> str:
    """The report in `fmt`, one of FORMATS; ValueError (one line) for any other."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown diff format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return renderer(drift)


def as_json(drift: Drift) -> str:
    document = {
        "format": DIFF_FORMAT,
        "old": _side(drift.old),
        "new": _side(drift.new),
        "partial": drift.partial,
        "changes": [c.as_json() for c in drift.changes],
        "not_compared": [u.as_json() for u in drift.not_compared],
        "notes": list(drift.notes),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _side(side: Side) -> dict[str, Any]:
    return {
        "source": side.label,
        "format": side.format,
        "organization_id": side.organization_id,
        "complete": side.complete,
        "missing": side.gaps_line(),
    }


def as_text(drift: Drift) -> str:
    lines = [f"{_said_side(drift.old)} -> {_said_side(drift.new)}"]
    lines += [f"{c.kind:<9}{_node(c)}{_detail(c, visible)}" for c in drift.changes]
    lines.append(_summary(drift))
    lines += _partial(drift, bullet="  ", show=visible)
    return "\n".join(lines) + "\n"


def as_markdown(drift: Drift) -> str:
    lines = [
        "## Organization changes",
        "",
        f"{_md(_said_side(drift.old))} -> {_md(_said_side(drift.new))}: {_summary(drift)}",
    ]
    if drift.changes:
        lines += ["", "| change | type | name | id | what changed |", "|---|---|---|---|---|"]
        lines += [
            f"| {c.kind} | {_TYPE[c.type]} | {_md(c.name)} | `{c.id}` | {_detail(c, _md)[2:]} |"
            for c in drift.changes
        ]
    partial = _partial(drift, bullet="- ", show=_md)
    if partial:
        lines += ["", f"### {partial[0].rstrip(':').capitalize()}", "", *partial[1:]]
    return "\n".join(lines) + "\n"


_TYPE = {"ROOT": "root", "ORGANIZATIONAL_UNIT": "OU", "ACCOUNT": "account"}


def _said_side(side: Side) -> str:
    org = f", {side.organization_id}" if side.organization_id else ""
    return f"{visible(side.label)} ({side.format}{org})"


def _node(change: Change) -> str:
    return f"{_TYPE[change.type]} {visible(change.name)} ({change.id})"


def _summary(drift: Drift) -> str:
    if not drift.changes:
        return "no changes" + (" in what could be compared" if drift.partial else "")
    return f"{plural(len(drift.changes), 'change')}: {drift.summary()}"


def _detail(change: Change, show: Callable[[str], str]) -> str:
    data = change.data
    if change.kind in ("added", "removed"):
        return f": {show(change.path)}"
    if change.kind == "moved":
        return f": {show(data['before']['path'])} -> {show(data['after']['path'])}"
    if change.kind in ("renamed", "state"):
        return f": {show(data['before'])} -> {show(data['after'])}"
    if change.kind == "tags":
        return ": " + "; ".join(_tag(t, show) for t in data["tags"])
    moves = [f"+{_policy(p, show)}" for p in data["attached"]]
    moves += [f"-{_policy(p, show)}" for p in data["detached"]]
    return f": {data['policy_type']} {', '.join(moves)}"


def _tag(tag: dict[str, Any], show: Callable[[str], str]) -> str:
    key, before, after = show(tag["key"]), tag["before"], tag["after"]
    if before is None:
        return f"+{key}={show(after)}"
    if after is None:
        return f"-{key} (was {show(before)})"
    return f"{key}: {show(before)} -> {show(after)}"


def _policy(policy: dict[str, str], show: Callable[[str], str]) -> str:
    return f"{show(policy['name'])} ({policy['id']})"


def _partial(drift: Drift, *, bullet: str, show: Callable[[str], str]) -> list[str]:
    """The lines that say what the report could not look at: a heading line, then bullets."""
    lines: list[str] = []
    for side in (drift.old, drift.new):
        if not side.complete:
            lines.append(f"{bullet}{show(side.label)} is incomplete: {side.gaps_line()}")
    lines += [f"{bullet}{show(n)}" for n in drift.notes]
    lines += [f"{bullet}{line}" for line in _unknown_lines(drift.not_compared, show)]
    if not lines:
        return []
    head = "partial comparison:" if drift.partial else "not compared:"
    return [head, *lines]


def _unknown_lines(unknown: Sequence[Unknown], show: Callable[[str], str]) -> list[str]:
    out = []
    for u in unknown:
        node = f"{show(u.name)} ({u.id})"
        if u.what == "presence":
            out.append(f"{node}: not in {u.side}, which did not list every branch")
            continue
        reason = "not permitted" if u.reason == "denied" else u.reason  # as the gaps say it
        what = "tags" if u.what == "tags" else u.policy_type
        out.append(f"{what} of {node}: {reason} in {u.side}")
    return out


def _md(text: str) -> str:
    # Table cells: a pipe ends the cell, a backslash or backtick starts markup.
    escaped = visible(text)
    for ch in "\\`*_[]<>|":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


_RENDERERS: dict[str, Callable[[Drift], str]] = {
    "text": as_text,
    "json": as_json,
    "markdown": as_markdown,
}
