"""The one error every loader raises: which file, and why, said for a person."""

from __future__ import annotations

from pathlib import Path

from qa_app.errors import QaAppError


class IngestError(QaAppError):
    """A file that cannot be turned into a document; ``str()`` is ``"PATH: reason"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(self.path, reason)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))
