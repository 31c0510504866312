"""Exporting a subtree of the org: rendering, choosing a destination, writing it safely.

UI-free on purpose: the CLI, the TUI and tests all call this module, and it must never
import textual or rich. The per-format renderers live in `orgtree_tui.exporters`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TextIO

from orgtree_tui.exporters import (
    as_csv,
    as_dot,
    as_graphml,
    as_json,
    as_mermaid,
    as_reach,
    as_text,
)
from orgtree_tui.exporters.selection import Selection, narrow
from orgtree_tui.exporters.snapshot import Snapshot, matches_of, take_snapshot
from orgtree_tui.exporters.view import View
from orgtree_tui.records import NodeType
from orgtree_tui.text import visible
from orgtree_tui.tree_view import TreeView

FORMATS = ("json", "csv", "text", "mermaid", "dot", "graphml")

EXTENSIONS = {
    "json": "json",
    "csv": "csv",
    "text": "txt",
    "mermaid": "mmd",
    "dot": "dot",
    "graphml": "graphml",
}

_MODULES = {
    "json": as_json,
    "csv": as_csv,
    "text": as_text,
    "mermaid": as_mermaid,
    "dot": as_dot,
    "graphml": as_graphml,
}
_RENDERERS: dict[str, Callable[[Snapshot], str]] = {f: m.render for f, m in _MODULES.items()}
_GROUPED: dict[str, Callable[[Sequence[Snapshot]], str]] = {
    f: m.render_many for f, m in _MODULES.items()
}
Write = Callable[[str], object]
# A body is the text, or what hands it to a `Write` a piece at a time: a 45 MB JSON export
# written to a file as it is rendered never exists as one string (stdout gets the whole text,
# so a pipe never sees half a document).
Body = str | Callable[[Write], None]
_STREAMED: dict[str, Callable[[Snapshot, Write], None]] = {"json": as_json.stream}
_STREAMED_MANY: dict[str, Callable[[Sequence[Snapshot], Write], None]] = {
    "json": as_json.stream_many
}
# The formats a `View` (`--label`, `--policies`) changes; the others always carry everything.
VIEWED = ("text", "mermaid", "dot")
_VIEWED = {"text": as_text, "mermaid": as_mermaid, "dot": as_dot}


class ExportError(Exception):
    """A problem with the export request (bad format, bad path, exists without force), or
    an OS error while writing. str(e) is a one-line message fit to show the user."""


@dataclass(frozen=True)
class ExportResult:
    """What was written. `ous` and `accounts` count the nodes in the output, including
    the subtree's top node when it is an OU or an account. `complete` and `missing` say
    whether the output lacks anything and what, in one line (see orgtree_tui.gaps)."""

    path: Path | None
    ous: int
    accounts: int
    format: str
    # Derived from what was written, so left out of ==: a result is where and how much.
    complete: bool = field(default=True, compare=False)
    missing: str = field(default="", compare=False)
    matches: int | None = field(default=None, compare=False)  # a filtered export's matches


def render(
    tree: TreeView,
    root_id: str,
    fmt: str,
    *,
    complete: bool,
    documents: bool = False,
    view: View | None = None,
    selection: Selection | None = None,
) -> str:
    """The subtree under root_id as text. `complete` says whether the crawl had finished;
    `documents`: JSON gets "policy_documents"; `view`: labels and policies (text, diagrams)."""
    snap = narrow(_snapshot(tree, root_id, complete=complete, documents=documents), selection)
    return _renderer(fmt, view)(snap)


def export_subtree(
    tree: TreeView,
    root_id: str,
    fmt: str,
    path: Path | None,
    *,
    force: bool = False,
    complete: bool = True,
    stream: TextIO | None = None,
    documents: bool = False,
    view: View | None = None,
    selection: Selection | None = None,
) -> ExportResult:
    """Render and write to `path`, or to `stream` (default stdout) when path is None."""
    fmt = _check_format(fmt)
    snap = narrow(_snapshot(tree, root_id, complete=complete, documents=documents), selection)
    body: Body
    if path is not None and fmt in _STREAMED:
        body = partial(_STREAMED[fmt], snap)
    else:
        body = _renderer(fmt, view)(snap)
    return _emit(body, [snap], fmt, path, force=force, stream=stream)


@dataclass(frozen=True)
class Part:
    """One organization's share of a grouped export: its tree and the subtree to write."""

    tree: TreeView
    root_id: str
    complete: bool = True
    documents: bool = False  # JSON: "policy_documents"
    selection: Selection | None = None  # a filtered export: only what it keeps


def render_grouped(parts: Sequence[Part], fmt: str, *, view: View | None = None) -> str:
    """Several organizations in one document, each named by its organization id."""
    return _grouped_renderer(fmt, view)([narrow(_part_snapshot(p), p.selection) for p in parts])


def export_grouped(
    parts: Sequence[Part],
    fmt: str,
    path: Path | None,
    *,
    force: bool = False,
    stream: TextIO | None = None,
    view: View | None = None,
) -> ExportResult:
    """`export_subtree` for several organizations: JSON gets an "organizations" list, CSV
    an organization_id column, diagrams a group per organization."""
    fmt = _check_format(fmt)
    snaps = [narrow(_part_snapshot(p), p.selection) for p in parts]
    body: Body
    if path is not None and fmt in _STREAMED_MANY:
        body = partial(_STREAMED_MANY[fmt], snaps)
    else:
        body = _grouped_renderer(fmt, view)(snaps)
    return _emit(body, snaps, fmt, path, force=force, stream=stream)


def check_destination(path: Path, *, force: bool) -> None:
    """Raise ExportError if `path` cannot be written. Cheap: call it before a long crawl."""
    target = _target(path)
    shown = _show(path)
    try:
        parent = target.parent
        if not parent.exists():
            raise ExportError(f"directory does not exist: {_show(parent)}")
        if not parent.is_dir():
            raise ExportError(f"not a directory: {_show(parent)}")
        if target.is_dir():
            raise ExportError(f"{shown} is a directory")
        if target.exists():
            # os.replace over a device or fifo (say /dev/stdout as root) would swap the
            # node itself out instead of writing into it.
            if not target.is_file():
                raise ExportError(f"{shown} is not a regular file")
            if not force:
                raise ExportError(f"{shown} already exists (overwrite it with force)")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise ExportError(f"directory is not writable: {_show(parent)}")
    except OSError as e:
        raise ExportError(f"cannot use {shown}: {e.strerror or e}") from e


_WRITE_CHUNK = 1 << 20  # characters


def write_atomic(path: Path, text: Body, *, force: bool) -> None:
    """Write `text` (or what it writes, see Body) as UTF-8 so that `path` ends up either
    untouched or complete.

    The new file has mode 0600 (org data is not for other local users), also when it
    replaces an existing file. A symlink is followed, so the link stays and its target is
    replaced. Raises ExportError for every failure, with the temporary file removed.
    """
    check_destination(path, force=force)
    target = _target(path)
    try:
        # mkstemp creates the file 0600 and in the same directory, so os.replace is a
        # rename within one filesystem and therefore atomic.
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise ExportError(f"cannot write {_show(path)}: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as fh:

            def write(piece: str) -> None:
                # Encoded a slice at a time: a whole encoded copy of a 45 MB text beside
                # the text would be the export's peak memory.
                for start in range(0, len(piece), _WRITE_CHUNK):
                    fh.write(piece[start : start + _WRITE_CHUNK].encode("utf-8"))

            if isinstance(text, str):
                write(text)
            else:
                text(write)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, target, force=force, shown=_show(path))
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, UnicodeEncodeError):
            raise ExportError(f"cannot encode the export as UTF-8: {e.reason}") from e
        if isinstance(e, OSError):
            raise ExportError(f"cannot write {_show(path)}: {e.strerror or e}") from e
        raise
    _fsync_directory(target.parent)


def export_reach(
    tree: TreeView,
    root_id: str,
    ref: str,
    fmt: str,
    path: Path | None,
    *,
    force: bool = False,
    complete: bool = True,
    stream: TextIO | None = None,
) -> ExportResult:
    """`export --policy`: the nodes one policy (id or unique name) applies to, json or text."""
    if fmt not in as_reach.FORMATS:
        raise ExportError(f"--policy writes {' or '.join(as_reach.FORMATS)}, not {fmt}")
    snap = _snapshot(tree, root_id, complete=complete)
    try:
        found = as_reach.reach(snap, as_reach.find(snap, ref))
    except as_reach.PolicyNotFoundError as exc:
        raise ExportError(str(exc)) from None
    render_reach = as_reach.render_json if fmt == "json" else as_reach.render_text
    result = _emit(render_reach(snap, found), [snap], fmt, path, force=force, stream=stream)
    kinds = [e.node.type for e, _ in found.applies_to]
    return replace(
        result,
        ous=kinds.count(NodeType.ORGANIZATIONAL_UNIT),
        accounts=kinds.count(NodeType.ACCOUNT),
    )


def default_filename(tree: TreeView, node_id: str, fmt: str, today: date) -> str:
    """`<name-slug>-<YYYY-MM-DD>.<ext>`, falling back to the id when the name has no
    ASCII letters or digits (say, an all-CJK name)."""
    ext = EXTENSIONS[_check_format(fmt)]
    node = tree.get(node_id)
    slug = (_slug(node.name) if node else "") or _slug(node_id) or "org"
    return f"{slug}-{today.isoformat()}.{ext}"


# -- helpers --------------------------------------------------------------------------


def _emit(
    text: Body,
    snaps: Sequence[Snapshot],
    fmt: str,
    path: Path | None,
    *,
    force: bool,
    stream: TextIO | None,
) -> ExportResult:
    if path is None:
        assert isinstance(text, str)  # see Body: stdout gets the whole text
        (stream if stream is not None else sys.stdout).write(text)
    else:
        path = path.expanduser()
        write_atomic(path, text, force=force)
    return ExportResult(
        path=path,
        ous=sum(s.count(NodeType.ORGANIZATIONAL_UNIT) for s in snaps),
        accounts=sum(s.count(NodeType.ACCOUNT) for s in snaps),
        format=fmt,
        complete=all(s.complete for s in snaps),
        missing=_missing(snaps),
        matches=matches_of(snaps),
    )


def _missing(snaps: Sequence[Snapshot]) -> str:
    """`tags of 2 nodes failed`; with several organizations each is named by its id."""
    said = []
    for snap in snaps:
        if snap.complete:
            continue
        what = snap.gaps.summary() if snap.gaps else "the crawl had not finished"
        if len(snaps) > 1:
            org = snap.organization
            what = f"{org.id if org else 'unknown organization'}: {what}"
        said.append(what)
    return "; ".join(said)


def _part_snapshot(part: Part) -> Snapshot:
    return _snapshot(part.tree, part.root_id, complete=part.complete, documents=part.documents)


def _renderer(fmt: str, view: View | None) -> Callable[[Snapshot], str]:
    fmt = _check_format(fmt)
    module = _VIEWED.get(fmt) if view is not None else None
    return _RENDERERS[fmt] if module is None else partial(module.render, view=view)


def _grouped_renderer(fmt: str, view: View | None) -> Callable[[Sequence[Snapshot]], str]:
    fmt = _check_format(fmt)
    module = _VIEWED.get(fmt) if view is not None else None
    return _GROUPED[fmt] if module is None else partial(module.render_many, view=view)


def _check_format(fmt: str) -> str:
    if fmt not in _RENDERERS:
        choices = ", ".join(FORMATS)
        raise ExportError(f"unknown format {visible(repr(fmt))}; choose one of {choices}")
    return fmt


def _snapshot(tree: TreeView, root_id: str, *, complete: bool, documents: bool = False) -> Snapshot:
    try:
        return take_snapshot(tree, root_id, complete=complete, documents=documents)
    except KeyError:
        raise ExportError(f"no node {visible(repr(root_id))} in the tree") from None


def _target(path: Path) -> Path:
    # Resolve symlinks so the temp file lands beside the real file (same filesystem) and
    # the replace swaps the file, not the user's link.
    return Path(os.path.realpath(path.expanduser()))


def _show(path: Path) -> str:
    return visible(str(path))


def _publish(tmp: str, target: Path, *, force: bool, shown: str) -> None:
    if force:
        os.replace(tmp, target)
        return
    # A hard link fails if the name exists, closing the gap between our check and the
    # write; fall back to check-then-replace on filesystems without hard links.
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise ExportError(f"{shown} already exists (overwrite it with force)") from None
    except OSError:
        if target.exists():
            raise ExportError(f"{shown} already exists (overwrite it with force)") from None
        os.replace(tmp, target)
        return
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some platforms cannot open a directory, which is fine.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].rstrip("-")
