"""Plain text (.txt): decode, clean, unwrap hard-wrapped lines, drop boilerplate."""

from __future__ import annotations

from pathlib import Path

from qa_app.ingest import boilerplate
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.normalize import clean
from qa_app.ingest.paragraphs import is_item, looks_like_heading, paragraphs, wrap_width
from qa_app.records import Document


def kind_of(paragraph: str) -> str:
    """Return the block kind a plain paragraph most likely is: "heading", "item" or "paragraph"."""
    if is_item(paragraph):
        return "item"
    return "heading" if looks_like_heading(paragraph) else "paragraph"


def add_text(builder: DocumentBuilder, text: str, page: int | None = None) -> None:
    """Add clean plain ``text`` to ``builder`` as paragraphs, boilerplate removed.

    Raises IngestError when only boilerplate was there.
    """
    lines = text.split("\n")
    paras = list(paragraphs(lines, wrap_width(lines)))
    rules = boilerplate.reasons(paras)
    kept = [paragraph for paragraph, rule in zip(paras, rules, strict=True) if rule is None]
    if paras and not kept:
        raise IngestError(
            builder.path,
            "no text left after removing boilerplate (labels, captions, subscription offers)",
        )
    for paragraph, rule in zip(paras, rules, strict=True):
        if rule is None:
            builder.add(paragraph, kind_of(paragraph), page=page)
        else:
            builder.leave_out(rule, paragraph)


def load_text(path: Path) -> Document:
    """Return the Document for a plain text file; raises IngestError for unusable files."""
    text = clean(decode(read_bytes(path), path))
    if not text:
        raise IngestError(path, "contains no text (only blank space)")
    builder = DocumentBuilder(path, "txt")
    add_text(builder, text)
    return builder.build()
