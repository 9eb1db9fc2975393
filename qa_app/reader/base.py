"""The reader protocol: a question and ranked passages in, scored candidate answer spans out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from qa_app.records import Passage, Span


@runtime_checkable
class Reader(Protocol):
    """Finds extractive answers in passages.

    ``read`` returns at most ``top_n`` candidate spans, best first. Each span's offsets point into
    ``passages[span.passage_index].text`` (answer and supporting sentence), and its ``score`` is
    calibrated to [0, 1] so that spans compare across passages and documents; the engine says
    "not found" when the best score is below ``threshold`` (the reader's recommended default).
    """

    name: str
    threshold: float

    def read(self, question: str, passages: Sequence[Passage], *, top_n: int = 10) -> list[Span]:
        """Return candidate answer spans sorted best first (empty when there is nothing to read)."""
        ...
