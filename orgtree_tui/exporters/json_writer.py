"""The JSON export's text, written straight from the snapshot.

`json.dumps(..., indent=2)` runs json's pure-Python encoder (the C one does no indenting): at
50,000 accounts it takes about 3 s, plus the document's 200 MB of dicts built first. This
writes the very same bytes (tests/test_json_layout.py holds it to `json.dumps` of
`as_json.document`) with json's C string encoder and a layout fixed in code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from orgtree_tui.exporters.policies_json import Chains
from orgtree_tui.exporters.snapshot import Entry, Snapshot
from orgtree_tui.records import DetailState, NodeType

# What ensure_ascii=False uses: the C encoder when available.
_str = json.encoder.encode_basestring
_FLUSH_EVERY = 8192  # fragments: a few hundred KB of text


class Out(Protocol):
    """Where the fragments go: a list to join, or `Flushing` to write as they come."""

    def append(self, fragment: str, /) -> None: ...


class Flushing:
    """Fragments handed on to `write` a few thousand at a time: a 50,000-account document
    is 1.5 million fragments and 45 MB of text, none of which needs to be held at once."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self.write = write
        self.fragments: list[str] = []

    def append(self, fragment: str, /) -> None:
        self.fragments.append(fragment)
        if len(self.fragments) >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.fragments:
            self.write("".join(self.fragments))
            self.fragments.clear()


def write_document(head: dict[str, Any], snap: Snapshot, indent: str, out: Out) -> None:
    """`head` (the document's keys before "tree"), then the tree, as one JSON object."""
    write_value(head, indent, out, open_end=True)
    out.append(f'{indent}  "tree": ')
    _write_node(snap, snap.root, Chains(snap), indent + "  ", out)
    out.append(f"\n{indent}}}")


def _write_node(snap: Snapshot, entry: Entry, chains: Chains, indent: str, out: Out) -> None:
    node, details = entry.node, entry.details
    i1 = indent + "  "
    out.append(
        f'{{\n{i1}"id": {_str(node.id)},\n{i1}"type": {_str(node.type.value)},'
        f'\n{i1}"name": {_str(node.name)},\n{i1}"arn": {_str(node.arn)},'
        f'\n{i1}"path": {_str(entry.path)},\n'
    )
    if node.type is NodeType.ACCOUNT:
        joined = node.joined_timestamp.isoformat() if node.joined_timestamp else None
        out.append(
            f'{i1}"email": {_opt(node.email)},\n{i1}"state": {_opt(node.state)},'
            f'\n{i1}"joined_method": {_opt(node.joined_method)},'
            f'\n{i1}"joined_timestamp": {_opt(joined)},\n'
        )
    out.append(f'{i1}"tags": ')
    if details.tags_state is DetailState.LOADED:
        write_value(dict(sorted((details.tags or {}).items())), i1, out)
        out.append(",\n")
    else:
        out.append(f'{{}},\n{i1}"tags_state": {_str(details.tags_state.value)},\n')
    out.append(f'{i1}"policies": ')
    write_value(chains.of(node.id), i1, out)
    out.append(",\n")
    if entry.incomplete:
        out.append(f'{i1}"incomplete": true,\n')
    if not entry.children:
        out.append(f'{i1}"children": []\n{indent}}}')
        return
    out.append(f'{i1}"children": [\n')
    i2 = i1 + "  "
    entries = snap.entries
    for i, child in enumerate(entry.children):
        out.append(i2 if i == 0 else ",\n" + i2)
        _write_node(snap, entries[child], chains, i2, out)
    out.append(f"\n{i1}]\n{indent}}}")


def write_value(value: Any, indent: str, out: Out, *, open_end: bool = False) -> None:
    """A small JSON value laid out as json.dumps(indent=2) would. `open_end`: leave a dict
    open after its last item (followed by ",\\n") for the caller to add keys."""
    if isinstance(value, dict):
        if not value and not open_end:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{\n")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",\n")
            out.append(f"{inner}{_str(key)}: ")
            write_value(item, inner, out)
        out.append(",\n" if open_end else f"\n{indent}}}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[\n")
        for i, item in enumerate(value):
            out.append(inner if i == 0 else ",\n" + inner)
            write_value(item, inner, out)
        out.append(f"\n{indent}]")
    elif isinstance(value, str):
        out.append(_str(value))
    else:  # None, booleans, numbers: rare here, so json.dumps itself
        out.append(json.dumps(value))


def _opt(value: str | None) -> str:
    return "null" if value is None else _str(value)
