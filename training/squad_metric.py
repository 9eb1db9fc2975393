"""The official SQuAD v1.1 answer metric (exact match and token F1 after normalisation)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCT = set(string.punctuation)


def normalize(text: str) -> str:
    """Return text lower-cased, without punctuation, articles and extra white space."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """Return 1.0 when the normalised prediction equals any normalised gold answer, else 0.0."""
    return float(any(normalize(prediction) == normalize(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    p, g = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Return the best token F1 of the prediction against the gold answers."""
    return max((_f1(prediction, g) for g in golds), default=0.0)
