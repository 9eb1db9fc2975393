"""Text normalisation shared by readers and evaluation: SQuAD answer normalisation, terms, stemming."""

from __future__ import annotations

import collections
import re
import string
import unicodedata
from collections.abc import Iterable

# --- SQuAD v1.1 (verbatim semantics of the official evaluate-v1.1.py) ---------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ASCII_PUNCT = frozenset(string.punctuation)


def normalize_answer(s: str) -> str:
    """Return ``s`` lower-cased without ASCII punctuation, articles and extra white space.

    This is exactly the official SQuAD v1.1 ``normalize_answer``: curly quotes and other
    non-ASCII punctuation are kept, as the official script keeps them.
    """
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _ASCII_PUNCT)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, golds: Iterable[str]) -> float:
    """Return 1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    norm = normalize_answer(prediction)
    return float(any(norm == normalize_answer(g) for g in golds))


def f1_score(prediction: str, golds: Iterable[str]) -> float:
    """Return the best SQuAD v1.1 token F1 of ``prediction`` against the gold answers (0.0 if none)."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        ref = normalize_answer(gold).split()
        common = collections.Counter(pred) & collections.Counter(ref)
        same = sum(common.values())
        if same == 0:
            continue
        precision, recall = same / len(pred), same / len(ref)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def group_key(s: str) -> str:
    """Return the key under which two answer texts count as the same answer.

    SQuAD normalisation plus removal of non-ASCII punctuation (curly quotes, dashes), so that
    “hundreds” and "hundreds" group together; falls back to the stripped lower-case text when
    normalisation leaves nothing (an answer that is only an article or punctuation).
    """
    cleaned = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in s)
    return normalize_answer(cleaned) or " ".join(s.lower().split())


# --- terms for matching questions against sentences ----------------------------------------------

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be been before being below
    between both but by can could did do does doing down during each either else ever few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just may me might more most much must my myself no nor not now of off on once only or other
    our ours ourselves out over own same shall she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up upon us very was we were
    what when where which while who whom whose why will with would you your yours yourself yourselves
    according many name named called one ones s t
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

WORD_RE = re.compile(r"\w+(?:[-'’.]\w+)*", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s?$")


def stem(word: str) -> str:
    """Return a light stem of a lower-case word: plural, -ing, -ed and final -e removed.

    Deliberately crude (no dictionary): it only has to map "receive"/"received"/"receives" and
    "build"/"building" to one key, the same way for questions and sentences.
    """
    w = _POSSESSIVE.sub("", word)
    if len(w) <= 3:
        return w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5:
        w = w[:-3]
    elif w.endswith("ure") and len(w) > 6:
        w = w[:-3]  # "seizure" -> "seiz", as "seize"
    elif w.endswith("ed") and len(w) > 4:
        w = w[:-2]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # "stopped" -> "stopp" -> "stop"
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    return w


def term(word: str) -> str | None:
    """Return the matching key of one word, or None for a stopword or a one-letter token."""
    low = _POSSESSIVE.sub("", word.lower()).replace("’", "'")
    if len(low) < 2 and not low.isdigit():
        return None
    if low in STOPWORDS and not (word.isupper() and len(word) > 1):
        return None  # but "US" and "IT" in capitals are names, not pronouns
    return stem(low.replace(".", "")) or None


def terms(text: str) -> list[str]:
    """Return the matching keys of the content words of ``text``, in order (repeats kept)."""
    out = []
    for m in WORD_RE.finditer(text):
        t = term(m.group())
        if t:
            out.append(t)
    return out
