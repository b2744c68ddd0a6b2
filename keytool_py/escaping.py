"""Text that reaches a terminal or a log: control characters made visible.

A certificate name, an alias or a file name can hold CR, LF or terminal escapes; printed as
they are, they forge lines (`OK: every check holds` after a failing check) or repaint the
screen. Every line ktpy prints as text goes through `escape`: C0 and C1 control characters and
DEL become \\n, \\r, \\t or \\xNN, and the Unicode bidirectional overrides (which reorder what a
line shows) become \\uNNNN. JSON output needs nothing more: json.dumps escapes them itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 controls, DEL, C1 controls; the bidi marks, embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape(text: str) -> str:
    """`text` as one line with every control character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def escape_lines(lines: Iterable[str]) -> str:
    """Lines joined by newlines, each escaped: a line break inside a line cannot forge another."""
    return "\n".join(escape(line) for line in lines)
