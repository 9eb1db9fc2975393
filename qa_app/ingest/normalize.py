"""Text clean-up shared by all loaders: NFC, one newline style, no control characters, single spaces."""

from __future__ import annotations

import re
import unicodedata

_NEWLINES = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0/C1 controls (except tab and newline) and invisible format characters that only get in the
# way of search and offsets. ZWJ/ZWNJ (U+200C/D) stay: they change how some scripts are written.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_SPACES = re.compile("[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_RUNS = re.compile(" {2,}")
# PDF text often carries typographic ligatures; NFC keeps them, and "ﬁnance" would never match
# a search for "finance". Only these are unfolded, not everything NFKC would change.
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
_EDGES = re.compile(" ?\n ?")


def normalize_lines(text: str) -> str:
    """Return ``text`` with newlines unified to ``\\n`` and control/invisible characters removed.

    Spaces and line contents are otherwise untouched (Markdown needs its indentation and
    trailing double spaces); see :func:`clean` for the full treatment.
    """
    text = _NEWLINES.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text)


def clean(text: str) -> str:
    """Return clean text: NFC, ``\\n`` newlines, no controls or ligatures, single spaces, lines
    stripped."""
    text = normalize_lines(text).translate(_LIGATURES)
    text = _RUNS.sub(" ", text)
    text = _EDGES.sub("\n", text).strip()
    # NFC last: the steps above only remove or replace characters, never compose them.
    return unicodedata.normalize("NFC", text)


def clean_block(text: str) -> str:
    """Return ``text`` cleaned as one block: like :func:`clean`, with no blank lines inside."""
    return re.sub(r"\n{2,}", "\n", clean(text))
