"""Text from outside made inert for a terminal, a log line or JSON: every control character escaped."""

from __future__ import annotations

import json
import re
from typing import Any

# What a terminal may act on instead of showing: C0 controls (ESC starts OSC 52 clipboard
# writes and screen clears), DEL, C1 controls (U+009B is CSI on some terminals), the line and
# paragraph separators, and lone surrogates (the bytes of a file name that is not UTF-8).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSAFE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")  # json escapes C0


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte kept by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, lines: bool = False) -> str:
    """Return ``text`` (a name or text from outside) with every control character shown escaped
    ("\\x1b", "\\u2028"; a file name's byte that is not UTF-8 as "\\xe9"), so printing it
    can neither drive the terminal nor break a one-line layout. With ``lines``, newlines and
    tabs are kept (a document's text)."""
    return (_UNSAFE_IN_LINES if lines else _UNSAFE).sub(_escaped, text)


def json_text(value: Any) -> str:
    """Return ``value`` as indented JSON that is exact (it parses back to the same strings) and
    terminal-safe: controls, separators and lone surrogates written as \\u escapes."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
