"""Exact answer boundaries: a span never cuts a number, drops its quantifier or half a name.

The reader picks a start and an end token; its tokenizer splits "1,300,000" into pieces and a
name into words, so a span can start inside a number ("300,000" of "c. 1,300,000"), lose the
words that qualify a number ("90 percent" of "more than 90 percent") or keep half of a name.
Each rule here moves a span's (start, end) in its passage text; each was chosen on the top
answers of held-out SQuAD train questions (training/choose_boundaries.py, figures in
training/README.md). Crossing a paragraph break is ruled out earlier, in the span search
(qa_app.reader.spans.find_candidates), where the model's own logits choose the better side.
"""

from __future__ import annotations

import re

# A number with thousands separators or decimals: "1,300,000", "3.5", "12 000" is two numbers.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CURRENCY = "$€£¥₹"
# Words that bound the number they stand before and change the fact it states: "more than 90
# percent" is not "90 percent". Approximators ("about", "nearly", "around", "c.") are left out:
# the held-out answers leave them out more often than not (training/README.md).
QUANTIFIERS = (
    "more than",
    "less than",
    "fewer than",
    "at least",
    "at most",
    "up to",
    "no more than",
    "no fewer than",
)
_QUANTIFIER = re.compile(
    r"(?:^|(?<=\s))(?:" + "|".join(re.escape(q) for q in QUANTIFIERS) + r")\s+$", re.IGNORECASE
)
_PERCENT = re.compile(r"\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
_NAME_WORD = re.compile(r"[A-Z][\w’'.-]*")
# Words written with a capital that do not continue a name.
_NOT_NAME = frozenset(
    [
        "The",
        "A",
        "An",
        "And",
        "Or",
        "But",
        "In",
        "On",
        "At",
        "Of",
        "For",
        "To",
        "By",
        "From",
        "With",
        "As",
        "It",
        "He",
        "She",
        "They",
        "We",
        "I",
        "This",
        "That",
        "These",
        "Those",
        "His",
        "Her",
        "Their",
        "Its",
        "Who",
        "What",
        "When",
        "Where",
        "Which",
        "Why",
        "How",
        "After",
        "Before",
        "During",
        "Since",
        "Until",
        "While",
        "If",
        "Although",
        "Because",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
    ]
)


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) widened so neither edge cuts a word in two (the tokenizer's word
    pieces can end a span at "mig" of "miglior")."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def whole_numbers(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) widened so neither edge falls inside a number, and a number at an
    edge keeps its currency sign or percent ("$5", "40%", "40 percent")."""
    for m in _NUMBER.finditer(text, max(0, start - 40), min(len(text), end + 40)):
        a, b = m.span()
        if a < start < b:
            start = a
        if a < end < b:
            end = b
    if start > 0 and text[start - 1] in _CURRENCY and text[start : start + 1].isdigit():
        start -= 1
    if end > start and text[end - 1].isdigit():
        pct = _PERCENT.match(text, end)
        if pct:
            end = pct.end()
    return start, end


def with_quantifier(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) widened to take in a quantifier just before a span that starts with a
    number ("more than 90 percent", "about 300")."""
    if not (text[start : start + 1].isdigit() or text[start : start + 1] in _CURRENCY):
        return start, end
    m = _QUANTIFIER.search(text, max(0, start - 16), start)
    return (m.start(), end) if m else (start, end)


def whole_name(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) widened to the rest of a name when the span is one capitalised word of
    it ("David" → "David Lammy", "Lammy" → "David Lammy"); used for who questions. A span of
    several words is left alone: the words before a full name are often a title ("British Prime
    Minister Winston Churchill"), which the held-out answers leave out."""
    from qa_app.reader.lexicon import TITLES

    words = text[start:end].split()
    if len(words) != 1 or not _NAME_WORD.fullmatch(words[0]) or words[0] in _NOT_NAME:
        return start, end

    def is_name(word: str) -> bool:
        return word not in _NOT_NAME and word.lower() not in TITLES

    # One word on either side at most: "Denys" before "Shmyhal", not "Prime Minister Denys".
    after = re.compile(r" ([A-Z][\w’'-]*)").match(text, end)
    if after and is_name(after.group(1)):
        end = after.end()
    before = re.search(r"([A-Z][\w’'-]*) $", text[max(0, start - 40) : start])
    if before and is_name(before.group(1)):
        start -= len(before.group(0))
    return start, end


def exact(text: str, start: int, end: int, kind: str) -> tuple[int, int]:
    """Return the span's (start, end) after every boundary rule; ``kind`` is the question's answer
    type (qa_app.reader.calibrator kinds: "number", "date", "person", "place", "other")."""
    start, end = whole_words(text, start, end)
    start, end = whole_numbers(text, start, end)
    start, end = with_quantifier(text, start, end)
    if kind in ("person",):
        start, end = whole_name(text, start, end)
    return start, end
