"""The box every modal screen draws its content in: title, error line, buttons."""

from __future__ import annotations

from textual.containers import Vertical


class Dialog(Vertical):
    DEFAULT_CSS = """
    Dialog {
        width: 72;
        max-width: 90%;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    .dialog-title {
        text-style: bold;
        margin-bottom: 1;
    }
    .dialog-error {
        color: $error;
        height: auto;
    }
    .dialog-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    .dialog-buttons Button {
        margin-left: 2;
    }
    """
