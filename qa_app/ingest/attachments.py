"""Attachments of e-mails: each one of a supported type is read by its format's loader into a
Document of its own, linked to its message (the message keeps only their names)."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path, PurePath

from qa_app.ingest.errors import IngestError
from qa_app.ingest.limits import MAX_TEXT_CHARS
from qa_app.ingest.options import LoadOptions
from qa_app.records import Document, FileError

log = logging.getLogger(__name__)

MAX_NESTING = 3  # a message attached to a message attached to a message…
MAX_ATTACHMENTS = 500  # read from one message (a mailbox counts all of its messages')


def display_name(name: str, number: int) -> str:
    """Return an attachment's name for people: its last path part, white space made single
    ("attachment N" when it has none). The name is data from the message, never a path."""
    last = PurePath(name.replace("\\", "/")).name
    return " ".join(last.split()) or f"attachment {number}"


class Attachments:
    """Reads the attachments of one message (or mailbox) into Documents of their own.

    Every attachment counts against one budget: the text of all of them together may not pass
    ``limits.MAX_TEXT_CHARS`` (nor their number MAX_ATTACHMENTS), so a message cannot expand
    past what one file may; each attachment's own file is checked by its loader like any file.
    """

    def __init__(self, path: Path, options: LoadOptions, max_chars: int = MAX_TEXT_CHARS) -> None:
        self.path = path
        self.options = options
        self.max_chars = max_chars
        self.documents: list[Document] = []
        self.errors: list[FileError] = []
        self.names: list[str] = []  # every named attachment, read or not, for the message's text
        self._chars = 0
        self._seen = 0

    def add(self, name: str, data: bytes, page: int | None = None) -> None:
        """Read one attachment; types the library does not read are only named.

        One that cannot be read is kept in ``errors`` with the reason (the message and the other
        attachments are still read). Raises LoadCancelled when the caller asked to stop.
        """
        from qa_app.ingest import FORMATS, load

        self._seen += 1
        label = display_name(name, self._seen)
        where = f"{label} (message {page})" if page is not None else label
        self.names.append(label)
        suffix = PurePath(label).suffix.lower()
        if suffix not in FORMATS or self.options.depth >= MAX_NESTING:
            return
        if len(self.documents) + len(self.errors) >= MAX_ATTACHMENTS:
            self._fail(where, f"more than {MAX_ATTACHMENTS} attachments in one file; not read")
            return
        with tempfile.TemporaryDirectory(prefix="qa-app-attachment-") as folder:
            copy = Path(folder) / f"attachment{suffix}"
            copy.write_bytes(data)
            try:
                document = load(copy, replace(self.options, depth=self.options.depth + 1))
            except IngestError as exc:
                self._fail(where, exc.reason)
                return
        inner = [document, *document.attachments]
        size = sum(len(d.text) for d in inner)
        if self._chars + size > self.max_chars:
            self._fail(
                where,
                f"the attachments together pass {self.max_chars:,} characters of text "
                "(the limit for one file)",
            )
            return
        self._chars += size
        title = label if document.title == copy.stem else document.title
        self.documents.append(self._linked(document, where, title))
        for nested in document.attachments:  # an attached .eml's own attachments
            self.documents.append(self._linked(nested, f"{where} / {nested.attachment}"))
        self.errors += [
            FileError(f"{where} / {e.path}", e.reason) for e in document.attachment_errors
        ]

    def _linked(self, document: Document, name: str, title: str | None = None) -> Document:
        return replace(
            document,
            path=str(self.path),
            title=title or document.title,
            attachment=name,
            attachments=(),
            attachment_errors=(),
        )

    def _fail(self, name: str, reason: str) -> None:
        log.info("%s: attachment %s not read (%s)", self.path, name, reason)
        self.errors.append(FileError(name, reason))

    def finish(self, document: Document) -> Document:
        """Return the message's Document with its attachments and their errors."""
        return replace(
            document, attachments=tuple(self.documents), attachment_errors=tuple(self.errors)
        )
