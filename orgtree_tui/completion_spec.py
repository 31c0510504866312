"""What shell completion needs to know, read from the argparse parser the CLI parses with.

Commands, options and the values an option takes (its choices, a file, a profile) come from
the parser itself, so a flag or a command added there is completed without a list here to
keep in step (`orgtree_tui.completion` writes the scripts). argparse keeps its actions in
private attributes (`_actions`, `_SubParsersAction`); they have been stable for a decade,
and the tests drive the generated scripts, so a change there shows.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

PROFILE_DESTS = frozenset({"profiles", "more_profiles"})  # --profile, before/after a command


@dataclass
class Option:
    flags: tuple[str, ...]
    help: str
    takes: str | None  # None: a switch; "profile", "file", "choices", "text"
    choices: tuple[str, ...] = ()


@dataclass
class Command:
    """The top level (name "") or one subcommand: its options, positionals' choices."""

    name: str
    help: str
    options: list[Option] = field(default_factory=list)
    words: tuple[str, ...] = ()  # what a positional may be (subcommands, choices)
    files: bool = False  # a positional is a file


def commands_of(parser: argparse.ArgumentParser) -> list[Command]:
    """The top level first, then each subcommand in the parser's order."""
    top = Command("", parser.description or "")
    found = [top]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                command = Command(name, helps.get(name, ""))
                _read(sub, command)
                found.append(command)
            top.words = tuple(action.choices)
        else:
            _read_action(action, top)
    return found


def _read(parser: argparse.ArgumentParser, command: Command) -> None:
    for action in parser._actions:
        _read_action(action, command)


def _read_action(action: argparse.Action, command: Command) -> None:
    if isinstance(action, argparse._SubParsersAction):
        return
    if not action.option_strings:  # a positional
        if action.choices:
            command.words += tuple(str(c) for c in action.choices)
        else:
            command.files = True  # the CLI's free positionals name files (`diff OLD NEW`)
        return
    takes: str | None = None
    choices: tuple[str, ...] = ()
    if action.nargs != 0:
        if action.dest in PROFILE_DESTS:
            takes = "profile"
        elif action.choices:
            takes, choices = "choices", tuple(str(c) for c in action.choices)
        elif _is_path(action):
            takes = "file"
        else:
            takes = "text"
    command.options.append(Option(tuple(action.option_strings), _help(action), takes, choices))


def _help(action: argparse.Action) -> str:
    """The help line as --help shows it (%(default)s filled in), on one line."""
    text = "" if action.help in (None, argparse.SUPPRESS) else str(action.help)
    # A help with a literal % in it is shown as written.
    with contextlib.suppress(KeyError, ValueError, TypeError):
        text = text % vars(action)
    return re.sub(r"\s+", " ", text).strip()


def _is_path(action: argparse.Action) -> bool:
    """Parsed into a Path (`type=Path`, or a checker annotated `-> Path`): a file."""
    if action.type is Path:
        return True
    returns = getattr(action.type, "__annotations__", {}).get("return")
    return returns is Path or (isinstance(returns, str) and returns.endswith("Path"))
