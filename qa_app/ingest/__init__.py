"""Document loading: one loader per format, each returning a clean Document or raising IngestError."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import MAX_FILE_BYTES, check_file
from qa_app.ingest.options import LoadCancelled, LoadOptions
from qa_app.records import Document

__all__ = [
    "FORMATS",
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "IngestError",
    "LoadCancelled",
    "LoadOptions",
    "load",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loader:
    """Where a format's loader lives (imported on demand: its libraries are paid for only when
    needed), its name for people, and whether it takes LoadOptions (OCR, progress, cancel)."""

    module: str
    function: str
    name: str
    options: bool = False


LOADERS: dict[str, Loader] = {
    "txt": Loader("plaintext", "load_text", "text"),
    "md": Loader("markdown", "load_markdown", "Markdown"),
    "html": Loader("html", "load_html", "HTML"),
    "pdf": Loader("pdf", "load_pdf", "PDF", options=True),
    "docx": Loader("docx", "load_docx", "Word"),
    "image": Loader("image", "load_image", "an image", options=True),
    "eml": Loader("mail", "load_eml", "e-mail", options=True),
    "mbox": Loader("mail", "load_mbox", "a mailbox", options=True),
    "msg": Loader("outlook", "load_msg", "Outlook message", options=True),
    "pptx": Loader("slides", "load_pptx", "PowerPoint"),
    "xlsx": Loader("spreadsheet", "load_xlsx", "Excel"),
    "csv": Loader("csvfile", "load_csv", "CSV"),
    "odt": Loader("opendoc", "load_odt", "OpenDocument text"),
    "ods": Loader("opendoc", "load_ods", "OpenDocument spreadsheet"),
    "rtf": Loader("rtf", "load_rtf", "RTF"),
    "epub": Loader("epub", "load_epub", "EPUB"),
}

FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".eml": "eml",
    ".mbox": "mbox",
    ".msg": "msg",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".csv": "csv",
    ".odt": "odt",
    ".ods": "ods",
    ".rtf": "rtf",
    ".epub": "epub",
}
SUPPORTED_SUFFIXES = frozenset(FORMATS)


def _loader(fmt: str) -> Callable[[Path, LoadOptions], Document]:
    spec = LOADERS[fmt]
    function: Callable[..., Document]
    function = getattr(importlib.import_module(f"qa_app.ingest.{spec.module}"), spec.function)
    if spec.options:
        return function
    return lambda path, _options: function(path)


def load(path: str | Path, options: LoadOptions | None = None) -> Document:
    """Return the Document for the file at ``path``, chosen by its suffix.

    Raises IngestError (with ``.path`` and a ``.reason`` for people) for an unsupported format,
    a missing/unreadable/empty/too large file, a broken link, binary or undecodable content,
    a damaged or encrypted file, a file with no extractable text, or one that expands past the
    limits of :mod:`qa_app.ingest.limits` (a decompression bomb, too many characters or pages).
    Raises LoadCancelled when ``options.cancel`` asked to stop during slow work (OCR).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        supported = " ".join(sorted(SUPPORTED_SUFFIXES))
        what = f"'{suffix}'" if suffix else "without a file extension"
        raise IngestError(path, f"unsupported format {what} (supported: {supported})")
    check_file(path)
    name = LOADERS[fmt].name
    try:
        return _loader(fmt)(path, options or LoadOptions())
    except (IngestError, LoadCancelled):
        raise
    except RecursionError:
        raise IngestError(path, f"too deeply nested to read as {name}") from None
    except MemoryError:
        raise IngestError(path, f"too large to read as {name} (out of memory)") from None
    except Exception as exc:  # a library failing on odd input is still the file's problem
        log.debug("loading %s failed", path, exc_info=True)
        raise IngestError(
            path, f"could not be read as {name} ({type(exc).__name__}: {exc})"
        ) from None
