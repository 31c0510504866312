"""How the human-facing formats (text, mermaid, dot) show a node: `--label` and `--policies`.

A label template is text with fields in braces, `{name} <{email}> {state}`: the fields are
FIELDS and `{tag:KEY}`, `{{` and `}}` are literal braces. It is parsed once, before any
crawl, so a typo is a usage error and nothing is written. Rendering gives raw text; each
format escapes it its own way. A field a node does not have (an OU's email, a tag it does
not carry, tags that were not read) is empty and takes the brackets around it and a space
with it (`LabelTemplate._close_up`); the `[SUSPENDED]` mark gives way to `{state}`, but
" [incomplete]" is still appended to a branch that could not be listed, since that is about
the export, not the node.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from orgtree_tui.exporters.snapshot import Entry
from orgtree_tui.records import DetailState, NodeType

_TYPES = {NodeType.ROOT: "root", NodeType.ORGANIZATIONAL_UNIT: "ou", NodeType.ACCOUNT: "account"}

_FIELDS: dict[str, Callable[[Entry], str]] = {
    "name": lambda e: e.node.name,
    "id": lambda e: e.node.id,
    "type": lambda e: _TYPES[e.node.type],
    "email": lambda e: e.node.email or "",
    "state": lambda e: e.node.state or "",
    "path": lambda e: e.path,
    "arn": lambda e: e.node.arn,
    "joined": lambda e: e.node.joined_timestamp.isoformat() if e.node.joined_timestamp else "",
}
FIELDS = tuple(_FIELDS)
_TAG = "tag:"
# `{{`, `}}`, a field, or a brace that is neither (an error).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_BRACKETS = {"(": ")", "[": "]", "<": ">"}
_CHOICES = ", ".join("{" + f + "}" for f in FIELDS) + " or {tag:KEY}"


class LabelError(ValueError):
    """A template that cannot be used; str(e) is one line fit for the user."""


@dataclass(frozen=True, slots=True)
class LabelTemplate:
    text: str
    # ("text", literal) or ("field", name) or ("tag", key), in order.
    parts: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> LabelTemplate:
        if not text.strip():
            raise LabelError(f"an empty label shows nothing; use {_CHOICES}")
        parts: list[tuple[str, str]] = []
        end = 0
        for m in _TOKEN.finditer(text):
            if m.start() > end:
                parts.append(("text", text[end : m.start()]))
            end = m.end()
            token = m.group()
            if token in ("{{", "}}"):
                parts.append(("text", token[0]))
            elif m.group(1) is None:
                raise LabelError(f"a lone {token!r} in the label; write {token * 2} for a brace")
            elif m.group(1).startswith(_TAG) and m.group(1)[len(_TAG) :]:
                parts.append(("tag", m.group(1)[len(_TAG) :]))
            elif m.group(1) in _FIELDS:
                parts.append(("field", m.group(1)))
            else:
                raise LabelError(f"unknown label field {{{m.group(1)}}}; use {_CHOICES}")
        if end < len(text):
            parts.append(("text", text[end:]))
        return cls(text, tuple(parts))

    def render(self, entry: Entry) -> str:
        out: list[str] = []
        for kind, value in self.parts:
            if kind == "text":
                out.append(value)
            elif kind == "field":
                out.append(_FIELDS[value](entry))
            else:
                out.append(_tag(entry, value))
        for i, (kind, _) in enumerate(self.parts):
            if kind != "text" and not out[i]:
                self._close_up(out, i)
        # An empty last field (an OU's email) would leave a ragged end; a label with nothing
        # left (`{email}` on an OU) would be a blank node: the name says which one it is.
        label = "".join(out).rstrip() or entry.node.name
        return label + " [incomplete]" if entry.incomplete else label

    def _close_up(self, out: list[str], i: int) -> None:
        """An empty field takes with it the brackets right around it and one space before
        it (after it, at the start), so `{name} <{email}>` labels an OU `Sandbox`, not
        `Sandbox <>`. Other text stays as written."""
        before = i - 1 if i > 0 and self.parts[i - 1][0] == "text" else None
        after = i + 1 if i + 1 < len(out) and self.parts[i + 1][0] == "text" else None
        if before is not None and after is not None:
            opener, closer = out[before][-1:], out[after][:1]
            if opener and _BRACKETS.get(opener) == closer:
                out[before], out[after] = out[before][:-1], out[after][1:]
        if before is not None and out[before].endswith(" "):
            out[before] = out[before][:-1]
        elif after is not None and out[after].startswith(" ") and not "".join(out[:i]):
            out[after] = out[after][1:]


def _tag(entry: Entry, key: str) -> str:
    details = entry.details
    if details.tags_state is not DetailState.LOADED:
        return ""
    return (details.tags or {}).get(key, "")


@dataclass(frozen=True, slots=True)
class View:
    """`label`: None for each format's default (`Name (id)` in text); `policies`: print
    the policies that apply to each node (text, mermaid, dot)."""

    label: LabelTemplate | None = None
    policies: bool = False


PLAIN = View()
