"""Lines to paragraphs: unwrap hard-wrapped lines, tell headings from prose."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

# A line ending like a sentence or clause (closing quotes/brackets may follow the mark).
_CLAUSE_END = re.compile(r"[.!?…,;][”’\"')\]»]*$")
_SENTENCE_END = re.compile(r"[.!?…][”’\"')\]»]*$")
_BULLET = re.compile(r"^(?:[-*+•◦▪‣–]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")
_HYPHENATED = re.compile(r"[^\W\d_]-$")
_LETTER = re.compile(r"[^\W\d_]")
_MID_SENTENCE = re.compile(r"(?:[^\W\d_]|[,;\-–])$")  # ends with a letter, comma or dash

WRAP_MIN, WRAP_MAX = 40, 110  # plausible widths of hard-wrapped plain text
FULL_LINE = 0.7  # a line this close to the wrap width probably continues on the next one


def wrap_width(lines: Sequence[str], *, max_width: int | None = WRAP_MAX) -> int | None:
    """Return the width ``lines`` seem hard-wrapped at, or None when each line is a paragraph.

    ``max_width=None`` accepts any width (PDF lines are always wrapped, whatever their length).
    """
    lengths = sorted(len(line) for line in lines if line.strip())
    if len(lengths) < 3:
        return None
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if width < WRAP_MIN or (max_width is not None and width > max_width):
        return None
    near = sum(1 for n in lengths if n >= FULL_LINE * width)
    return width if near >= 0.4 * len(lengths) else None


def is_item(line: str) -> bool:
    """Return True when ``line`` starts like a list item ("- x", "1. x", "• x")."""
    return _BULLET.match(line) is not None


def _continues(prev: str, nxt: str, width: int | None, join_broken: bool) -> bool:
    if is_item(nxt):
        return False
    if join_broken and ends_sentence(prev) and looks_like_heading(nxt):
        return False  # "… was damaged." then "Results": a heading after a full last line
    if width is not None and len(prev) >= FULL_LINE * width:
        return True
    # A line that stops mid-sentence ("… the port", "infor-") before a lowercase word goes on.
    return join_broken and _MID_SENTENCE.search(prev) is not None and nxt[:1].islower()


def _join(prev: str, nxt: str) -> str:
    # "infor-" + "mation": a hyphen at a line end followed by a lowercase letter is a word break.
    if _HYPHENATED.search(prev) and nxt[:1].islower():
        return prev[:-1] + nxt
    return f"{prev} {nxt}"


def paragraphs(
    lines: Sequence[str], width: int | None, *, join_broken: bool = False
) -> Iterator[str]:
    """Yield paragraphs from stripped ``lines``: blank lines separate them; with a wrap ``width``
    consecutive full lines are joined with spaces, without one every line is its own paragraph.

    ``join_broken`` also joins a line that ends mid-sentence (a letter, comma or hyphen) to a
    next line starting in lowercase, whatever its length (PDF text, where lines are laid out).
    """
    current: str | None = None
    previous = ""
    for line in lines:
        if not line:
            if current is not None:
                yield current
            current = None
            continue
        if current is not None and _continues(previous, line, width, join_broken):
            current = _join(current, line)
        else:
            if current is not None:
                yield current
            current = line
        previous = line
    if current is not None:
        yield current


def looks_like_heading(text: str) -> bool:
    """Return True for a short single line that does not end like a sentence or clause."""
    words = text.split()
    return (
        "\n" not in text
        and 0 < len(words) <= 12
        and len(text) <= 100
        and _LETTER.search(text) is not None
        and _CLAUSE_END.search(text) is None
        and not is_item(text)
    )


def ends_sentence(text: str) -> bool:
    """Return True when ``text`` ends with . ! ? or …, closing quotes or brackets allowed."""
    return _SENTENCE_END.search(text) is not None


def is_prose(text: str, min_words: int = 8) -> bool:
    """Return True when ``text`` reads like running text: enough words, ends like a sentence."""
    return len(text.split()) >= min_words and _SENTENCE_END.search(text) is not None


def short_line(text: str) -> str | None:
    """Return the first line of ``text`` when it is short and not a sentence (a title candidate)."""
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 150 and len(first.split()) <= 20 and not _SENTENCE_END.search(first):
        return first
    return None
