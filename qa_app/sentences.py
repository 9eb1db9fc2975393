"""Sentence boundaries by rules (abbreviations, quotes, decimals, ellipses); newlines always split."""

from __future__ import annotations

import re

# Terminal punctuation, closing quotes/brackets glued to it, then a space or the end.
_TERMINAL = re.compile(r"[.!?…]+([”’\"')\]»]*)(?=\s|$)")
_WORD_AFTER = re.compile(r"[“‘\"'(\[«]*([^\W\d_][\w’'-]*)")
_OPENERS = "“‘\"'([«"
_ACRONYM = re.compile(r"(?:[^\W\d_]{1,2}\.)+[^\W\d_]{1,2}")  # U.S, e.g, a.m, Ph.D
_ENUMERATOR = re.compile(r"\(?(?:\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})\)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Always followed by more of the same sentence (titles, "e.g.", "vs.").
_NEVER_FINAL = _words(
    "mr mrs ms mx dr prof rev hon gen sen rep gov lt col maj capt cmdr adm sgt cpl pvt supt insp "
    "det fr messrs mme mlle pres amb e.g i.e cf vs viz approx ca esp incl"
)
# May end a sentence ("… Apple Inc. The …"); only when a usual sentence opener follows.
_MAYBE_FINAL = _words(
    "etc inc ltd co corp llc plc jr sr bros no nos vol vols fig figs p pp ch sec art para ed eds "
    "al dept univ assn ave blvd rd st mt ft jan feb mar apr jun jul aug sep sept oct nov dec "
    "mon tue tues wed thu thur thurs fri sat sun est"
)
# Words that usually start a sentence; after an abbreviation they signal a real boundary.
_OPENER_WORDS = _words(
    "The A An He She It They We I You This That These Those There Then But And Or So Yet In On "
    "At For If As By To From With After Before When While His Her Its Their Our My Your However "
    "Meanwhile What Why How Who Where Some Many Most All Both One Such Each Every Other Another "
    "No Not Nor Still Also Since Because Although Though Despite During Instead Earlier Later "
    "Officials"
)


def _skip_space(text: str, pos: int, end: int) -> int:
    while pos < end and text[pos].isspace():
        pos += 1
    return pos


def _opens_sentence(text: str, pos: int, end: int) -> bool:
    """Return True when a usual sentence opener (or an opening quote) starts at ``pos``."""
    if text[pos] in _OPENERS:
        return True
    match = _WORD_AFTER.match(text, pos, end)
    return match is not None and match.group(1) in _OPENER_WORDS


def _is_boundary(text: str, match: re.Match[str], start: int, end: int) -> bool:
    nxt = _skip_space(text, match.end(), end)
    if nxt >= end:
        return True
    if text[nxt].islower():
        return False  # "“Why?” he asked", "e.g. this", "5 p.m. yesterday"
    mark = text[match.start() : match.end() - len(match.group(1))]
    if ".." in mark or "…" in mark:
        return _opens_sentence(text, nxt, end)  # "including ... President Zelenskyy"
    if mark != "." or match.group(1):
        return True  # "!" or "?", or a closing quote after the period: “…said.”
    token_start = match.start()
    while token_start > start and not text[token_start - 1].isspace():
        token_start -= 1
    token = text[token_start : match.start()].lstrip(_OPENERS)
    if not token:
        return True
    if token_start == start and _ENUMERATOR.fullmatch(token):
        return False  # "1. First point", "a) …" at the start of a line
    lower = token.lower()
    if lower in _NEVER_FINAL:
        return False
    if lower in _MAYBE_FINAL or _ACRONYM.fullmatch(token) or (len(token) == 1 and token.isalpha()):
        return _opens_sentence(text, nxt, end)
    return True


def _line_spans(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    begin = _skip_space(text, start, end)
    for match in _TERMINAL.finditer(text, begin, end):
        if match.start() < begin:
            continue
        if _is_boundary(text, match, begin, end):
            out.append((begin, match.end()))
            begin = _skip_space(text, match.end(), end)
    stop = end
    while stop > begin and text[stop - 1].isspace():
        stop -= 1
    if stop > begin:
        out.append((begin, stop))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets into ``text`` of each sentence in ``text[start:end]``.

    Spans are ordered, do not overlap, never contain a newline, never start or end with
    whitespace, and together cover every non-whitespace character of the range.
    """
    end = len(text) if end is None else min(end, len(text))
    start = max(0, start)
    spans: list[tuple[int, int]] = []
    line_start = start
    while line_start < end:
        newline = text.find("\n", line_start, end)
        line_end = end if newline < 0 else newline
        _line_spans(text, line_start, line_end, spans)
        line_start = line_end + 1
    return spans
