"""Attachments of e-mails: each one of a supported type is read by its format's loader and
added to the message's document as a section of its own, headed "Attachment: NAME"."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path, PurePath

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.options import LoadOptions

log = logging.getLogger(__name__)

MAX_NESTING = 3  # a message attached to a message attached to a message…


def _suffix(name: str) -> str:
    # The name is data from the message: only its suffix is used, never as a path.
    return PurePath(name.replace("\\", "/")).suffix.lower()


def add_attachment(
    builder: DocumentBuilder, name: str, data: bytes, options: LoadOptions, page: int | None
) -> bool:
    """Add the text of one attachment to ``builder``; return True when it was read.

    Attachments of unsupported types are skipped; one that cannot be read is named with the
    reason (the message itself is still indexed).
    """
    from qa_app.ingest import FORMATS, load

    suffix = _suffix(name)
    if suffix not in FORMATS or options.depth >= MAX_NESTING:
        return False
    label = " ".join(name.split())
    with tempfile.TemporaryDirectory(prefix="qa-app-attachment-") as folder:
        copy = Path(folder) / f"attachment{suffix}"
        copy.write_bytes(data)
        try:
            document = load(copy, replace(options, depth=options.depth + 1))
        except IngestError as exc:
            log.info("%s: attachment %s not read (%s)", builder.path, label, exc.reason)
            builder.add(f"Attachment: {label} (not read: {exc.reason})", "heading", page=page)
            return False
    builder.add(f"Attachment: {label}", "heading", page=page)
    for block in document.blocks:
        builder.add(document.text[block.start : block.end], block.kind, page=page, ocr=block.ocr)
    return True
