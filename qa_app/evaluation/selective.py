"""Selective answering: risk–coverage curve, coverage at a target accuracy, AURC, calibration error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

ECE_BINS = 10
TARGETS = (0.8, 0.9)  # accuracies whose coverage is reported (coverage_at_80, coverage_at_90)
_EPS = 1e-12  # accuracy 0.9 computed as 9/10 must count as reaching 0.9


@dataclass(frozen=True)
class CurvePoint:
    """One step of the risk–coverage curve: answer every question scored at least ``score``."""

    score: float  # the lowest top-candidate score answered at this step (a threshold reaching it)
    answered: int
    right: int
    coverage: float  # answered / all questions
    accuracy: float  # right / answered; risk = 1 - accuracy


@dataclass(frozen=True)
class Bin:
    """One score bucket of the reliability table: [low, high), the last one closed."""

    low: float
    high: float
    count: int
    mean_score: float | None
    accuracy: float | None  # share right; None for an empty bucket


def _sorted(scores: Sequence[float], right: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np  # lazy: `qa-app --help` need not load it

    s = np.asarray(scores, dtype=float)
    r = np.asarray(right, dtype=bool)
    if s.shape != r.shape or s.ndim != 1:
        raise ValueError(f"scores and right differ in length ({s.size} and {r.size})")
    order = np.argsort(-s, kind="stable")
    return s[order], r[order]


def risk_coverage(
    scores: Sequence[float], right: Sequence[bool], total: int | None = None
) -> list[CurvePoint]:
    """Return the risk–coverage curve, one point per distinct score, highest score first.

    Questions are sorted by score, descending; equal scores are one step (no threshold can
    answer one of them without the others). ``total`` is the number of questions coverage is a
    share of (default: ``len(scores)``); it also counts questions that have no scored candidate
    and so are never answered. Raises ValueError when the lengths differ or ``total`` is too small.
    """
    import numpy as np

    s, r = _sorted(scores, right)
    total = s.size if total is None else total
    if total < s.size:
        raise ValueError(f"total {total} is below the {s.size} scored questions")
    if s.size == 0:
        return []
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last index of each tie group
    answered = ends + 1
    right_so_far = np.cumsum(r)[ends]
    return [
        CurvePoint(float(s[e]), int(n), int(k), float(n / total), float(k / n))
        for e, n, k in zip(ends, answered, right_so_far, strict=True)
    ]


def coverage_at(points: Sequence[CurvePoint], target: float) -> tuple[float, float | None]:
    """Return (the largest coverage whose accuracy is at least ``target``, its score threshold).

    (0.0, None) when no step reaches the target.
    """
    best: tuple[float, float | None] = (0.0, None)
    for point in points:
        if point.accuracy >= target - _EPS and point.coverage > best[0]:
            best = (point.coverage, point.score)
    return best


def aurc(scores: Sequence[float], right: Sequence[bool]) -> float | None:
    """Return the area under the risk–coverage curve: the mean of risk over the sorted prefixes.

    This is the usual definition (Geifman et al., 2019): sort by score, descending, and average
    the risk (1 - accuracy) of answering the first 1, 2, ..., n questions. A prefix that ends
    inside a group of equal scores takes the risk of the whole group (one step). None when empty.
    """
    import numpy as np

    s, r = _sorted(scores, right)
    if s.size == 0:
        return None
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    answered = ends + 1
    risk = 1.0 - np.cumsum(r)[ends] / answered
    sizes = np.diff(np.r_[0, answered])
    return float(np.sum(sizes * risk) / s.size)


def reliability(scores: Sequence[float], right: Sequence[bool], bins: int = ECE_BINS) -> list[Bin]:
    """Return ``bins`` equal-width score buckets over [0, 1] (scores outside are clipped into it)."""
    import numpy as np

    s, r = _sorted(scores, right)
    index = np.minimum((np.clip(s, 0.0, 1.0) * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        table.append(
            Bin(
                b / bins,
                (b + 1) / bins,
                count,
                float(s[inside].mean()) if count else None,
                float(r[inside].mean()) if count else None,
            )
        )
    return table


def expected_calibration_error(table: Sequence[Bin]) -> float | None:
    """Return ECE: the bucket-size-weighted mean of |mean score - share right|; None when empty."""
    total = sum(b.count for b in table)
    if total == 0:
        return None
    return sum(
        b.count / total * abs((b.mean_score or 0.0) - (b.accuracy or 0.0)) for b in table if b.count
    )


def measure(
    scores: Sequence[float], right: Sequence[bool], total: int | None = None
) -> dict[str, Any]:
    """Return every selective-answering figure of one "right" criterion, JSON-ready.

    Keys: ``coverage_at_80``/``threshold_at_80`` (and 90), ``aurc``, ``ece``, ``reliability``
    (list of bins as dicts) and ``curve`` (list of points as dicts). Coverages are shares of
    ``total`` questions (default ``len(scores)``); with no scored question every figure is None.
    """
    points = risk_coverage(scores, right, total)
    table = reliability(scores, right)
    out: dict[str, Any] = {}
    for target in TARGETS:
        coverage, threshold = coverage_at(points, target) if points else (None, None)
        out[f"coverage_at_{round(target * 100)}"] = coverage
        out[f"threshold_at_{round(target * 100)}"] = threshold
    out["aurc"] = aurc(scores, right)
    out["ece"] = expected_calibration_error(table)
    out["reliability"] = [asdict(b) for b in table]
    out["curve"] = [asdict(p) for p in points]
    return out
