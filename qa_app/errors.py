"""The errors a person is shown: one base class that the front ends catch and say in one line."""

from __future__ import annotations

__all__ = ["AlreadyExists", "InvalidInput", "NotFound", "QaAppError"]


class QaAppError(Exception):
    """An expected failure, said to a person as one line (its ``str``); anything else is a bug.

    Each subclass also derives from the builtin it stands for (``class StoreError(QaAppError,
    RuntimeError)``), so code that catches the builtin keeps working. The front ends catch
    this class alone: the command line prints "error: …" and exits 2, the window shows the
    sentence; any other exception is a bug, logged with its traceback.

    The classes live beside the code that raises them and derive from this one:
    ``index.database.StoreError`` (``StoreMissing``, ``StoreDamaged``, ``server.settings.
    ServerError``), ``index.locking.LibraryBusy``, ``models.weights.ModelError``
    (``reader.neural.ReaderModelError``), ``reader.calibrator.CalibratorError``,
    ``ingest.errors.IngestError``, ``ingest.ocr.OcrUnavailable``, ``evaluation.formats.
    EvalFormatError``, ``cli.arguments.UsageError``, and the three general ones below.
    """

    def __str__(self) -> str:
        # The message as given: KeyError's own str would quote it ("'no such library'").
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class InvalidInput(QaAppError, ValueError):
    """Input that cannot be used as given: a library name, an empty question, an unknown reader."""


class NotFound(QaAppError, KeyError):
    """What was named does not exist: a library, a document id."""


class AlreadyExists(QaAppError, FileExistsError):
    """A name already taken (renaming a library onto another one)."""
