"""Typed candidate spans in one sentence: dates, quantities, names, noun phrases, lists."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_app.reader.lexicon import (
    ABBREVIATIONS,
    AUXILIARIES,
    BOUNDARY,
    CHUNK_OPENERS,
    DATE_PATTERN,
    MONTHS_WEEKDAYS,
    NAME_CONNECTORS,
    NUMBER_PATTERN,
    ORG_HEADS,
    PERSON,
    PLACE,
    PLACES,
    TITLES,
)
from qa_app.text_norm import STOPWORDS, stem, term

TITLE_KEYS = frozenset(stem(t) for t in TITLES)


@dataclass(frozen=True)
class TypedSpan:
    """A typed span ``text[start:end]`` and how well it fits the expected type (0..1)."""

    start: int
    end: int
    quality: float
    proximity: float = 0.0  # closeness to the question's words in the sentence, 0..1
    anchor: float = 0.0  # share of the question's words right next to it, 0..1


# --- tokens -----------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"(?:[A-Za-z]\.){2,}"  # U.S., a.m.
    r"|(?:" + ABBREVIATIONS + r")\.(?=\s)"
    r"|[$€£¥₹]?\d+(?:[,.:/]\d+)*(?:-\w+)*"
    r"|\w+(?:[-'’&]\w+)*"
    r"|[^\w\s]"
)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    key: str | None  # matching key (stem) of a content word, None for stopwords/punctuation

    @property
    def low(self) -> str:
        return self.text.lower()

    @property
    def word(self) -> bool:
        return self.text[0].isalnum() or self.text[0] in "$€£¥₹"


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Return the tokens of ``text[start:end]`` with offsets into ``text``."""
    end = len(text) if end is None else end
    return [
        Token(m.start(), m.end(), m.group(), term(m.group()) if m.group()[0].isalnum() else None)
        for m in _TOKEN_RE.finditer(text, start, end)
    ]


# --- typed candidates -------------------------------------------------------------------------

_DATE_RE = re.compile(DATE_PATTERN, re.VERBOSE)
_NUMBER_RE = re.compile(NUMBER_PATTERN, re.VERBOSE)
_LIST_SEP = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+|&\s*)")
_YEARLIKE = re.compile(r"(?:1[5-9]|20)\d\d")


def date_spans(text: str, start: int = 0, end: int | None = None) -> list[TypedSpan]:
    """Return date/time expressions in ``text[start:end]`` (without a leading preposition)."""
    end = len(text) if end is None else end
    out = []
    for m in _DATE_RE.finditer(text, start, end):
        vague = m.lastgroup == "vague"
        relative = m.lastgroup == "relative"
        out.append(TypedSpan(m.start(), m.end(), 0.5 if vague else 0.9 if relative else 1.0))
    return out


def number_spans(
    text: str, start: int = 0, end: int | None = None, *, qterms: frozenset[str] = frozenset()
) -> list[TypedSpan]:
    """Return numbers and quantities (with hedge and unit) in ``text[start:end]``.

    A trailing generic noun that is a question word or stopword is cut off; a quantity in
    parentheses right after another one ("500 square miles (1,300 kilometers)") is a restatement
    and is skipped; numbers inside date expressions are skipped.
    """
    end = len(text) if end is None else end
    dates = date_spans(text, start, end)
    out: list[TypedSpan] = []
    for m in _NUMBER_RE.finditer(text, start, end):
        a, b = m.start(), m.end()
        quality = 1.0 if (m.group("unit") or m.group("hyphen")) else 0.75
        if m.group("noun"):
            noun = m.group("noun").split()[-1].lower()
            if noun in STOPWORDS or noun in BOUNDARY or term(noun) in qterms:
                b = m.start("noun")
            else:
                quality = 0.9
        core = m.group("num")
        if re.fullmatch(
            r"(?i:hundreds|thousands|millions|billions|dozens|tens|several|a\s+few|a\s+number)(?:\s+of\s+\w+)?",
            core,
        ):
            quality = 0.6
        elif _YEARLIKE.fullmatch(core) and b == m.end("num"):
            quality = 0.2
        elif core.lower() in ("one", "a"):
            quality = 0.3
        if any(d.start < b and a < d.end for d in dates) and not m.group("unit"):
            continue
        if out and text[out[-1].end : a].strip() == "(":
            continue
        out.append(TypedSpan(a, b, quality))
    return out


def _is_cap(
    tokens: list[Token], i: int, sent_start: int, text: str, common: frozenset[str]
) -> bool:
    tok = tokens[i]
    if not tok.text[0].isupper():
        return False
    low = tok.low.rstrip(".")
    if tok.text in MONTHS_WEEKDAYS:
        return False
    if low in STOPWORDS and not (tok.text.isupper() and len(tok.text) > 1):
        return False
    # A capital that only marks the start of a sentence or quotation is not a name when the
    # documents also use the word in lower case ("Speaking to reporters, ...").
    before = text[sent_start : tok.start].rstrip()
    initial = not before or before[-1] in "“\"‘'(:—–-"
    return not (initial and low in common)


def name_runs(
    text: str, tokens: list[Token], sent_start: int, common: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Return (first, last+1) token index ranges of capitalised name sequences."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        if not _is_cap(tokens, i, sent_start, text, common):
            i += 1
            continue
        j = i + 1
        while j < n and not re.search(r"['’]s$", tokens[j - 1].text):
            if (
                _is_cap(tokens, j, sent_start, text, common)
                and tokens[j].start - tokens[j - 1].end <= 1
            ):
                j += 1
            elif (
                tokens[j].low in NAME_CONNECTORS
                and j + 1 < n
                and _is_cap(tokens, j + 1, sent_start, text, common)
            ):
                j += 2
            else:
                break
        runs.append((i, j))
        i = j
    return runs


def _span_of(tokens: list[Token], a: int, b: int) -> tuple[int, int]:
    end = tokens[b - 1].end
    m = re.search(r"['’]s?$", tokens[b - 1].text)
    if m and len(tokens[b - 1].text) > 2:
        end -= len(m.group())
    return tokens[a].start, end


def name_spans(
    text: str,
    tokens: list[Token],
    kind: str,
    sent_start: int,
    qterms: frozenset[str],
    common: frozenset[str],
) -> list[TypedSpan]:
    """Return capitalised names fitting ``kind`` (PERSON, PLACE or ENTITY), each with a quality."""
    out = []
    for a, b in name_runs(text, tokens, sent_start, common):
        while a < b and tokens[a].low in STOPWORDS and not tokens[a].text.isupper():
            a += 1
        first = a
        if kind == PERSON:
            last_title = max(
                (k for k in range(a, b) if tokens[k].low.rstrip(".") in TITLES), default=-1
            )
            a = max(a, last_title + 1)
            if a >= b and b - first > 1 and tokens[b - 1].low in ORG_HEADS:
                a = first  # only title words: an organisation ("the Treasury Department")
        if a >= b:
            continue
        # A name right after a title ("spokesman Dmitry Peskov") is a person; if the question
        # names a title too ("Who is the Prime Minister?"), a name under another title is most
        # likely somebody else ("President Biden").
        title = tokens[a - 1] if a > 0 and tokens[a - 1].low.rstrip(".") in TITLES else None
        if title is None:
            titled = 0.0
        elif title.key in qterms:
            titled = 1.0
        else:
            titled = 0.5 if not qterms.isdisjoint(TITLE_KEYS) else 0.85
        keys = [t.key for t in tokens[a:b] if t.key]
        if not keys or all(k in qterms for k in keys):
            continue  # the answer never repeats the question ("Kremlin" for "Kremlin spokesman")
        start, end = _span_of(tokens, a, b)
        single = b - a == 1
        place = text[start:end] in PLACES
        demonym = (
            single
            and bool(re.search(r"(ian|ean|ese|ish|ic)$", tokens[a].text))
            and b < len(tokens)
            and tokens[b].text[0].islower()
        )
        after_prep = a > 0 and tokens[a - 1].low in (
            "in",
            "at",
            "from",
            "to",
            "near",
            "into",
            "across",
            "outside",
            "inside",
            "of",
        )
        if kind == PERSON:
            q = titled or (0.25 if place else 0.2 if demonym else 0.6 if single else 0.8)
        elif kind == PLACE:
            q = 1.0 if place else 0.1 if titled else 0.2 if demonym else 0.7 if after_prep else 0.4
        else:
            digit = any(ch.isdigit() for ch in text[start:end])
            q = 0.2 if demonym else 0.6 if place else 0.9 if (not single or digit) else 0.7
        out.append(TypedSpan(start, end, q))
    return out


def chunk_spans(text: str, tokens: list[Token], qterms: frozenset[str]) -> list[TypedSpan]:
    """Return noun-phrase-like chunks: runs of content words between function words, punctuation
    and question words, with a leading determiner ("a", "the", "other", "its") kept."""
    out = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        opener = tok.low in CHUNK_OPENERS
        if not opener and (not tok.word or tok.low in BOUNDARY or tok.key in qterms):
            i += 1
            continue
        j = i + 1
        while j < n:
            t = tokens[j]
            if not t.word or t.low in BOUNDARY or t.key in qterms or t.low in CHUNK_OPENERS:
                break
            j += 1
        a = i
        # A leading participle is the verb, not the noun phrase ("providing Russians").
        while not opener and j - a > 1 and re.search(r"(ing|ed)$", tokens[a].low):
            a += 1
        content = [t for t in tokens[a:j] if t.key]
        if content:
            # Right after an auxiliary or "to" a chunk is a verb phrase ("has held back").
            verbish = (not opener and a > 0 and tokens[a - 1].low in AUXILIARIES) or (
                len(content) == 1 and re.search(r"(ed|ing|ly)$", content[0].low) is not None
            )
            q = 0.3 if verbish else 0.85 if opener else 0.75 if len(content) > 1 else 0.6
            if j < n and tokens[j].key in qterms:
                q *= 0.5  # it modifies a question word ("Iranian weapons"), it does not answer
            out.append(TypedSpan(tokens[a].start, tokens[j - 1].end, q))
        i = j
    return out


def join_lists(text: str, cands: list[TypedSpan]) -> list[TypedSpan]:
    """Return ``cands`` with runs like "X, Y and Z" merged into one candidate (mean quality)."""
    out: list[TypedSpan] = []
    members: list[int] = []
    for c in sorted(cands, key=lambda c: c.start):
        if out and c.start >= out[-1].end and _LIST_SEP.fullmatch(text[out[-1].end : c.start]):
            last, n = out[-1], members[-1]
            out[-1] = TypedSpan(last.start, c.end, (last.quality * n + c.quality) / (n + 1))
            members[-1] = n + 1
        else:
            out.append(c)
            members.append(1)
    return out
