"""Property tests: no command line and no output path can make the CLI crash or half-write."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# Valid and invalid values built by construction from the forms the Organizations API
# documents (and the README promises), not from the parser's own patterns.
LOWER_OR_DIGIT = "0123456789abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"


def id_part(low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(LOWER_OR_DIGIT, min_size=low, max_size=high)


root_ids = id_part(4, 32).map(lambda s: f"r-{s}")
ou_ids = st.builds(lambda a, b: f"ou-{a}-{b}", id_part(4, 32), id_part(8, 32))
account_ids = st.text(DIGITS, min_size=12, max_size=12)
name_paths = st.builds(
    lambda before, ch, after: f"/{before}{ch}{after}",
    st.text(max_size=15),
    st.characters(blacklist_characters="/", blacklist_categories=("Cs",)),
    st.text(max_size=15),
)
any_id = st.one_of(root_ids, ou_ids, account_ids)
valid_subtrees = st.one_of(any_id, name_paths)


def uppercased(text: str, at: int) -> str:
    """One letter of an id in upper case (ids are lower case); digits get an 'X' instead."""
    i = at % len(text)
    return text[:i] + (text[i].upper() if text[i].isalpha() else "X") + text[i + 1 :]


invalid_subtrees = st.one_of(
    id_part(0, 3).map(lambda s: f"r-{s}"),  # too short
    id_part(33, 40).map(lambda s: f"r-{s}"),  # too long
    st.builds(lambda a, b: f"ou-{a}-{b}", id_part(0, 3), id_part(8, 32)),
    st.builds(lambda a, b: f"ou-{a}-{b}", id_part(4, 32), id_part(0, 7)),
    st.builds(lambda a, b: f"ou-{a}-{b}", id_part(33, 40), id_part(8, 32)),
    st.builds(lambda a, b: f"ou-{a}-{b}", id_part(4, 32), id_part(33, 40)),
    id_part(4, 32).map(lambda s: f"ou-{s}"),  # no second part
    st.text(DIGITS, min_size=1, max_size=11),  # an account id is 12 digits
    st.text(DIGITS, min_size=13, max_size=20),
    st.builds(uppercased, st.one_of(root_ids, ou_ids), st.integers(2, 80)),
    st.builds(uppercased, account_ids, st.integers(0, 11)),
    st.builds(
        lambda i, pad: i + pad, st.one_of(root_ids, ou_ids, account_ids), st.sampled_from(" \t\n")
    ),
    st.builds(
        lambda i, pad: pad + i, st.one_of(root_ids, ou_ids, account_ids), st.sampled_from(" \t")
    ),
    st.sampled_from(["", " ", "\t", "/", "//", "///", "R-ab12", "o-ab12", "ou_ab12-cdef3456"]),
    st.sampled_from(["arn:aws:organizations::111111111111:ou/o-x/ou-ab12-cdef3456", "Root"]),
)


@settings(max_examples=300)
@given(subtree=valid_subtrees)
def test_every_documented_subtree_form_is_accepted_as_given(subtree: str) -> None:
    assert parse_or_one_line(["export", "--subtree", subtree], "--subtree") == subtree


@settings(max_examples=300)
@given(subtree=invalid_subtrees)
def test_every_malformed_subtree_is_one_line_and_status_2(subtree: str) -> None:
    assert parse_or_one_line(["export", "--subtree", subtree], "--subtree") is None


@pytest.mark.parametrize(
    ("subtree", "accepted"),
    [
        ("r-ab12", True),
        ("ou-ab12-cdef3456", True),
        ("123456789012", True),
        ("/Root", True),
        ("/Root/Prod Workloads/é", True),
        ("/ ", True),
        ("", False),
        ("  ", False),
        ("/", False),
        ("///", False),
        ("r-ab1", False),
        ("R-ab12", False),
        ("ou-ab12-cdef345", False),
        ("ou-ab12", False),
        ("12345678901", False),
        ("1234567890123", False),
        ("r-ab12 ", False),
        ("Root/Prod", False),
    ],
)
def test_subtree_literals(subtree: str, accepted: bool) -> None:
    found = parse_or_one_line(["export", "--subtree", subtree], "--subtree")
    assert found == (subtree if accepted else None)


@settings(max_examples=200)
@given(subtree=st.text(max_size=40))
def test_any_subtree_text_is_kept_whole_or_one_line_and_status_2(subtree: str) -> None:
    assert parse_or_one_line(["export", "--subtree", subtree], "--subtree") in (None, subtree)


LOWER = "abcdefghijklmnopqrstuvwxyz"
valid_regions = st.builds(
    lambda area, parts, number: f"{area}-{'-'.join(parts)}-{number}",
    st.text(LOWER, min_size=2, max_size=2),
    st.lists(st.text(LOWER, min_size=1, max_size=9), min_size=1, max_size=3),
    st.text(DIGITS, min_size=1, max_size=2),
)
invalid_regions = st.one_of(
    st.builds(uppercased, valid_regions, st.integers(0, 1)),  # "EU-west-1"
    valid_regions.map(lambda r: r.rsplit("-", 1)[0]),  # no number: "eu-west"
    valid_regions.map(lambda r: r[:2] + "-" + r.rsplit("-", 1)[1]),  # no middle: "eu-1"
    valid_regions.map(lambda r: r[1:]),  # a one-letter area: "u-west-1"
    valid_regions.map(lambda r: "x" + r),  # three letters: "xeu-west-1"
    valid_regions.map(lambda r: r.replace("-", "_")),
    st.builds(lambda r, pad: r + pad, valid_regions, st.sampled_from(" \t\n")),
    st.sampled_from(["", " ", "eu-west-1a", "eu west 1", "-eu-west-1"]),
)


@settings(max_examples=200)
@given(region=valid_regions)
def test_every_region_shaped_name_is_accepted(region: str) -> None:
    assert parse_or_one_line(["--region", region], "--region") == region


@settings(max_examples=200)
@given(region=invalid_regions)
def test_every_malformed_region_is_one_line_and_status_2(region: str) -> None:
    assert parse_or_one_line(["--region", region], "--region") is None


@pytest.mark.parametrize(
    ("region", "accepted"),
    [
        ("eu-west-1", True),
        ("us-gov-west-1", True),
        ("ap-southeast-5", True),
        ("cn-north-1", True),
        ("EU-west-1", False),
        ("eu-west", False),
        ("eu-1", False),
        ("euwest1", False),
        ("eu-west-1 ", False),
        ("", False),
    ],
)
def test_region_literals(region: str, accepted: bool) -> None:
    assert parse_or_one_line(["--region", region], "--region") == (region if accepted else None)


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
