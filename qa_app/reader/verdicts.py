"""The verdict scale: a calibrated probability put in words, as an answer, a possible answer or none.

An analyst reads an estimate as a phrase ("very likely", "about even"), not as 0.73. Each band
below is a range of the calibrator's probability that the answer is right, with the share of
held-out answers in that range that were right (SQuAD train articles the reader never trained
on, asked through a library of their paragraphs as the app asks; training/choose_bands.py
measured it, training/README.md has the table). The top bands are *answers* (at least 9 in 10
right), the middle one a *possible answer* to check against its source, and below it the app
says "not found in your documents". The band edges were chosen on those held-out reads only.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa_app.records import Verdict

ANSWER = "answer"
POSSIBLE = "possible"
NOT_FOUND = "not_found"
KINDS = (ANSWER, POSSIBLE, NOT_FOUND)


@dataclass(frozen=True)
class Band:
    """A range of probability [low, next band's low) with its words and measured hit rate."""

    low: float
    words: str
    # Share right (F1 >= 0.5) of the held-out answers scored in this band, asked the app's way
    # (a library of the held-out paragraphs; cross-validated probabilities).
    hit_rate: float


# Highest first. The answer threshold (the calibrator's, 0.76, or --threshold) splits answers
# from possible answers; POSSIBLE_FLOOR splits possible answers from "not found".
BANDS: tuple[Band, ...] = (
    Band(0.90, "almost certain", 0.949),
    Band(0.76, "very likely", 0.828),
    Band(0.60, "likely", 0.715),
    Band(0.40, "about even", 0.532),
    Band(0.00, "unlikely", 0.342),
)
# The least probability shown as a possible answer: the lowest edge (on a 0.05 grid) at which the
# possible band as a whole stays at least 3 in 5 right on the held-out reads (with one
# unanswerable read in five); training/choose_bands.py chose it.
POSSIBLE_FLOOR = 0.40


def band(score: float) -> Band:
    """Return the band a calibrated probability falls in."""
    for b in BANDS:
        if score >= b.low:
            return b
    return BANDS[-1]


def verdict(
    score: float | None,
    threshold: float,
    *,
    calibrated: bool,
    floor: float = POSSIBLE_FLOOR,
) -> Verdict:
    """Return the verdict on a question whose best candidate scored ``score`` (None: no candidate).

    ``threshold`` is the least score given as an answer; a calibrated score between ``floor`` and
    the threshold is a possible answer. An uncalibrated score (a reader without a calibrator) is
    not a probability, so it gives only answer or not found, without words or hit rate.
    """
    if score is None:
        return Verdict(NOT_FOUND, "", None)
    if not calibrated:
        return Verdict(ANSWER if score >= threshold else NOT_FOUND, "", None)
    b = band(score)
    if score >= threshold:
        kind = ANSWER
    elif score >= floor:
        kind = POSSIBLE
    else:
        kind = NOT_FOUND
    return Verdict(kind, b.words, b.hit_rate)


def describe(v: Verdict) -> str:
    """Return one plain line on what a verdict means ("very likely: about 9 in 10 answers like
    this were right")."""
    if v.hit_rate is None:
        return {
            ANSWER: "the reader's score cleared the threshold (not a calibrated probability)",
            POSSIBLE: "a possible answer",
            NOT_FOUND: "no answer reached the threshold",
        }[v.kind]
    return f"{v.words}: {in_ten(v.hit_rate)} answers like this were right"


def in_ten(rate: float) -> str:
    """Return a share said as people say it: "almost all", "about 2 in 3", "about 7 in 10"."""
    if rate >= 0.95:
        return "almost all"
    if abs(rate - 2 / 3) < 0.02:
        return "about 2 in 3"
    if abs(rate - 0.5) < 0.03:
        return "about half the"
    if rate < 0.05:
        return "almost none of the"
    return f"about {round(rate * 10)} in 10"
