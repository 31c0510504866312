"""The one place that makes untrusted text safe for a terminal, a file or an error line.

Names come from whoever administers the organization, and error messages quote user input.
An escape sequence in an OU name must not recolour or rewrite the user's terminal, a bidi
override must not make one name look like another, and a line break must not split a node
(or an error message) across lines. Format-specific quoting (XML, DOT, Mermaid) builds on
`visible` inside each exporter.
"""

from __future__ import annotations

_BIDI_CONTROLS = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
# str.splitlines() also breaks on these; C0/C1 are handled by range below.
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def visible(text: str) -> str:
    r"""`text` with control characters shown as `\xNN` and bidi/line separators as `\uXXXX`."""
    # Everything we rewrite is non-printable, so the common case costs one C-level scan.
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif ch in _BIDI_CONTROLS or ch in _LINE_SEPARATORS:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str) -> str:
    """Every non-printable character but the space shown as a Python escape (`\\n`,
    `\\x1b`, `\\u202e`): stricter than `visible`, for a message that must stay one line."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def short(text: str, limit: int = 120) -> str:
    """`visible(text)`, cut to `limit` characters with "..." when longer: a quote in a message."""
    text = visible(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
