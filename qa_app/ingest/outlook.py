"""Outlook messages (.msg) via extract-msg: headers as text at the top, the body (HTML cleaned
like an HTML file when there is no plain text) and the attachments' names; each readable
attachment is a Document of its own linked to the message."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qa_app.ingest.attachments import MAX_NESTING, Attachments
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.mail import add_body, add_names, header_block
from qa_app.ingest.options import LoadOptions
from qa_app.ingest.packages import OLE
from qa_app.records import Document

log = logging.getLogger(__name__)


def _value(message: Any, name: str) -> str:
    try:
        value = getattr(message, name)
    except Exception:  # a damaged property stream is left out, not fatal
        log.debug("property %s could not be read", name, exc_info=True)
        return ""
    return "" if value is None else str(value)


def _date(message: Any) -> str:
    # The Date header as sent when the message kept its transport headers, else the
    # submit time extract-msg parsed.
    header = getattr(message, "header", None)
    sent = header.get("Date") if header is not None else None
    return str(sent) if sent else _value(message, "date")


def _add_message(
    builder: DocumentBuilder, message: Any, attachments: Attachments, depth: int = 0
) -> None:
    headers = {
        "From": _value(message, "sender"),
        "To": _value(message, "to"),
        "Cc": _value(message, "cc"),
        "Date": _date(message),
        "Subject": _value(message, "subject"),
    }
    builder.add(header_block(headers))
    body = _value(message, "body")
    if body.strip():
        add_body(builder, body, False, None)
    else:
        html = getattr(message, "htmlBody", None)
        if isinstance(html, bytes) and html.strip():
            add_body(builder, decode(html, builder.path), True, None)
    first = len(attachments.names)
    for attachment in getattr(message, "attachments", []) or []:
        data = getattr(attachment, "data", None)
        name = _value(attachment, "longFilename") or _value(attachment, "shortFilename")
        if isinstance(data, bytes):
            if name and data:
                attachments.add(name, data)
        elif data is not None and hasattr(data, "subject") and depth < MAX_NESTING:
            builder.add(f"Attached message: {name or _value(data, 'subject')}", "heading")
            _add_message(builder, data, attachments, depth + 1)
    add_names(builder, attachments.names[first:])


def load_msg(path: Path, options: LoadOptions) -> Document:
    """Return the Document for an Outlook .msg file; raises IngestError for files that are not
    Outlook messages, damaged ones and encrypted ones."""
    import extract_msg
    from extract_msg import exceptions

    if not read_bytes(path).startswith(OLE):
        raise IngestError(path, "not an Outlook message (a .msg is an OLE compound file)")
    try:
        message = extract_msg.openMsg(str(path), strict=False)
    except (exceptions.UnrecognizedMSGTypeError, exceptions.UnsupportedMSGTypeError) as exc:
        raise IngestError(path, f"an Outlook item that is not a message ({exc})") from None
    except exceptions.SecurityError as exc:
        raise IngestError(
            path, f"encrypted or signed message that cannot be opened ({exc})"
        ) from None
    except Exception as exc:  # olefile and extract-msg raise many kinds on damaged files
        raise IngestError(path, f"corrupt or damaged Outlook message ({exc})") from None
    try:
        builder = DocumentBuilder(path, "msg")
        attachments = Attachments(path, options)
        _add_message(builder, message, attachments)
        subject = _value(message, "subject")
    finally:
        message.close()
    return attachments.finish(builder.build(subject or None))
