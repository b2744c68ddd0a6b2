"""Text that reaches a terminal, a log, a JSON reader or Prometheus: one escaping rule.

A certificate name, an alias or a file name can hold CR, LF or terminal escapes; printed as
they are, they forge lines (`OK: every check holds` after a failing check) or repaint the
screen. A file name need not even be UTF-8. Every string ktpy prints or writes goes through
`escape`:

- C0 and C1 control characters and DEL become \\n, \\r, \\t or \\xNN;
- the Unicode bidirectional marks, embeddings, overrides and isolates (which reorder what a line
  shows: CVE-2021-42574) and the line and paragraph separators become \\uNNNN;
- a byte that was not UTF-8 (Python reads such a file name as a lone surrogate, PEP 383's
  surrogateescape) becomes \\xNN, the byte itself; any other lone surrogate becomes \\uNNNN.

The result is printable UTF-8 on one line. JSON output escapes its strings the same way (the
JSON encoder then has nothing left to escape but quotes and backslashes), and Prometheus label
values get Prometheus's own escapes on top (`prometheus_label`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# C0 controls, DEL, C1 controls; the bidi marks, embeddings, overrides and isolates; the line
# and paragraph separators; every surrogate (in a str, only a lone one can occur).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                     "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte 0x80..0xFF
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` as one line of printable UTF-8, every unsafe character shown as an escape."""
    return _UNSAFE.sub(_visible, text)


def escape_lines(lines: Iterable[str]) -> str:
    """Lines joined by newlines, each escaped: a line break inside a line cannot forge another."""
    return "\n".join(escape(line) for line in lines)


def escape_data(value: object) -> object:
    """A JSON-ready value with every string in it (keys too) escaped: what a JSON reader shows
    or prints (`jq -r`) is then as safe as ktpy's text output."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, dict):
        return {escape(k) if isinstance(k, str) else k: escape_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_data(v) for v in value]
    return value


def prometheus_label(value: str) -> str:
    """A label value for the Prometheus text format: escaped as above (valid UTF-8, no control
    characters), then backslash, double quote and line feed escaped as the format requires."""
    return escape(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
