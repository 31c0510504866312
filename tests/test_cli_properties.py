"""Property tests: no command line and no output path can make the CLI crash or half-write."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgtree_tui.arguments import REGION, SUBTREE_ID
from orgtree_tui.cli import parse_args
from orgtree_tui.export import FORMATS, ExportError, check_destination, write_atomic
from orgtree_tui.options import UsageError

FLAGS = [
    "export",
    "--profile",
    "--role-arn",
    "--external-id",
    "arn:aws:iam::111111111111:role/R",
    "--region",
    "--endpoint-url",
    "--demo",
    "--workers",
    "--no-details",
    "--subtree",
    "--format",
    "-o",
    "--output",
    "--force",
    "-q",
    "json",
    "csv",
    "xml",
    "0",
    "8",
    "99",
    "http://127.0.0.1:1",
    "ftp://x",
    "http://",
    "/Root/A",
    "/",
    "ou-1",
    "ou-ab12-cdef3456",
    "r-ab12",
    "123456789012",
    "eu-west-1",
    "us-gov-west-1",
    "",
    " ",
    "--",
    "-",
]
tokens = st.one_of(st.sampled_from(FLAGS), st.text(min_size=0, max_size=12))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(tokens, max_size=8))
def test_any_command_line_parses_or_fails_with_one_line_and_status_2(argv: list[str]) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            options = parse_args(argv)
        except SystemExit as exc:
            assert exc.code in (0, 2)
            if exc.code == 2:
                lines = err.getvalue().strip().splitlines()
                assert len(lines) == 1 and lines[0].startswith("orgtree-tui: error:")
            return
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
    assert 1 <= options.workers <= 64
    assert options.format in FORMATS


def parse_or_one_line(argv: list[str], flag: str) -> str | None:
    """parse_args(argv), or None after checking it exited 2 with one line about `flag`."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            options = parse_args(argv)
        except SystemExit as exc:
            assert exc.code == 2
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"orgtree-tui: error: argument {flag}")
            return None
    return options.subtree if flag == "--subtree" else options.region


subtrees = st.one_of(
    st.text(max_size=40),
    st.from_regex(SUBTREE_ID, fullmatch=True),
    st.text(max_size=40).map(lambda t: "/" + t),
)


@settings(max_examples=300)
@given(subtree=subtrees)
def test_any_subtree_is_a_findable_form_or_one_line_and_status_2(subtree: str) -> None:
    found = parse_or_one_line(["export", "--subtree", subtree], "--subtree")
    findable = subtree.startswith("/") and subtree.strip("/") != ""
    assert (found is not None) == (findable or SUBTREE_ID.fullmatch(subtree) is not None)
    assert found in (None, subtree)


@settings(max_examples=200)
@given(region=st.one_of(st.text(max_size=20), st.from_regex(REGION, fullmatch=True)))
def test_any_region_is_region_shaped_or_one_line_and_status_2(region: str) -> None:
    found = parse_or_one_line(["--region", region], "--region")
    assert found == (region if REGION.fullmatch(region) else None)


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
    min_size=1,
    max_size=40,
).filter(lambda n: n not in (".", ".."))


@settings(max_examples=150, deadline=None)
@given(name=names, exists=st.booleans(), force=st.booleans(), missing_dir=st.booleans())
def test_any_output_path_is_written_whole_or_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    exists: bool,
    force: bool,
    missing_dir: bool,
) -> None:
    base = tmp_path_factory.mktemp("out")
    folder = base / "missing" if missing_dir else base
    target = folder / name
    if exists and not missing_dir:
        try:
            target.write_text("old")
        except OSError:
            return  # a name the file system itself refuses (e.g. too long)
    try:
        check_destination(target, force=force)
        write_atomic(target, "new content\n", force=force)
    except ExportError as exc:
        assert "\n" not in str(exc)
        if exists and not missing_dir:
            assert target.read_text() == "old"
        else:
            assert not target.exists()
    else:
        assert target.read_text() == "new content\n"
        assert os.stat(target).st_mode & 0o777 == 0o600
        assert not missing_dir and (force or not exists)
    leftovers = [p.name for p in Path(base).rglob("*") if p.name not in (name, "missing")]
    assert leftovers == [], "temporary files left behind"
