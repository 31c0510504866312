"""The `orgtree-tui` command: the CLI, with the TUI as what it opens when no command is given.

The one module above both `cli` and `ui`, so the CLI never imports the UI. The UI is
imported only when it is started: `orgtree-tui export` never loads Textual.
"""

from __future__ import annotations

from collections.abc import Sequence

from orgtree_tui import cli
from orgtree_tui.options import Options


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, tui=run_tui)


def run_tui(options: Options) -> int:
    from orgtree_tui.ui.launch import run_tui as launch  # Textual loads here, not for export

    return launch(options)
