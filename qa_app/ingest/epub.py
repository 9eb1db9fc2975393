"""E-books (.epub) via ebooklib: chapters in reading (spine) order, each a section whose XHTML is
cleaned like an HTML file."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from typing import Any

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.html import markup_blocks
from qa_app.ingest.packages import check_package
from qa_app.records import Document

log = logging.getLogger(__name__)
_DRM = "META-INF/encryption.xml"


def _open(data: bytes, path: Path) -> Any:
    import zipfile

    from ebooklib import epub

    check_package(data, path, "an EPUB e-book")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if _DRM in archive.namelist():
            # Font obfuscation also lives here; only encrypted content documents matter.
            manifest = archive.read(_DRM)
            if b"EncryptedData" in manifest and b"xhtml" in manifest:
                raise IngestError(path, "encrypted (DRM-protected) e-book: it cannot be read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about its own future defaults
            return epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as exc:  # ebooklib raises EpubException, KeyError, lxml errors...
        raise IngestError(path, f"corrupt or damaged EPUB e-book ({exc})") from None


def _chapters(book: Any) -> list[Any]:
    import ebooklib

    items = []
    for idref, *_ in book.spine:
        item = book.get_item_with_id(idref)
        # The navigation document (table of contents) is a document too, but not a chapter.
        if item is not None and item.get_type() == ebooklib.ITEM_DOCUMENT and item.is_chapter():
            items.append(item)
    return items


def _book_title(book: Any) -> str | None:
    titles = book.get_metadata("DC", "title")
    return str(titles[0][0]) if titles and titles[0][0] else None


def load_epub(path: Path) -> Document:
    """Return the Document for an .epub e-book: each chapter's title a heading, then its text.

    Raises IngestError for damaged, DRM-protected or text-less e-books.
    """
    book = _open(read_bytes(path), path)
    builder = DocumentBuilder(path, "epub")
    book_title = _book_title(book)
    for item in _chapters(book):
        markup = decode(item.get_content(), path)
        if not markup.strip():
            continue
        title, blocks, left_out = markup_blocks(markup, path, main_content=False)
        if title and title != book_title and not any(k == "heading" for _, k in blocks[:2]):
            builder.add(title, "heading")
        for text, kind in blocks:
            builder.add(text, kind)
        for rule, text in left_out:
            builder.leave_out(rule, text)
    return builder.build(book_title)
