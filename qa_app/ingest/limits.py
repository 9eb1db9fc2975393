"""Limits on what one file may expand to (unzipped bytes, text characters, pages), checked as it is read."""

# A 2 MB file can unzip to gigabytes (a "decompression bomb"). Every zip-based loader calls
# check_zip() (or read_member() with one ZipBudget) before a parser sees the package. The sizes
# the archive declares are checked first (Python's zipfile never unzips a member past its
# declared size: a lying header ends in a CRC error, not in more data); then every member is
# unzipped in 1 MB pieces and counted, so a damaged member is found before a parser meets it,
# and nothing unzipped is held in memory. PDFs get the same treatment for their compressed
# streams (check_pdf_streams), before PDFium would inflate them in memory.

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from qa_app.ingest.errors import IngestError

MAX_UNZIPPED_BYTES = 200_000_000  # all members of one package together
MAX_MEMBER_BYTES = 100_000_000  # one member: an XML part this big already needs ~1 GB to parse
MAX_ZIP_MEMBERS = 20_000
MAX_TEXT_CHARS = 20_000_000  # ~10,000 printed pages; bounds a file's passages too (~20,000)
MAX_PDF_PAGES = 10_000
# Table rows are passages of their own, and each passage is embedded: past this many in one
# file the rest are counted as left out (a sheet of a million log lines is not a document).
MAX_TABLE_ROWS = 20_000
MAX_REPEATED_CELLS = 100  # one cell written once and repeated along a row (OpenDocument)

_PIECE = 1 << 20  # decompress 1 MB at a time
_STREAM = re.compile(rb"stream\r?\n")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
_FIRST = 1 << 14  # most streams are small: start with 16 KB of input
_DICT_WINDOW = 1024  # how far before "stream" its dictionary is looked for


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def bomb_error(path: str | Path, limit: int) -> IngestError:
    """Return the error for a package that unzips to more than ``limit`` bytes."""
    return IngestError(
        path, f"expands to more than {_mb(limit)} when unzipped (a decompression bomb?)"
    )


class ZipBudget:
    """Counts the bytes unzipped from one package; raises IngestError past the limits."""

    def __init__(
        self,
        path: str | Path,
        max_total: int = MAX_UNZIPPED_BYTES,
        max_member: int = MAX_MEMBER_BYTES,
    ) -> None:
        self.path = path
        self.max_total = max_total
        self.max_member = max_member
        self.total = 0

    def take(self, count: int, member_total: int) -> None:
        """Account for ``count`` more bytes (``member_total`` so far in the current member).

        Raises IngestError when the package or the member has gone past its limit.
        """
        self.total += count
        if self.total > self.max_total:
            raise bomb_error(self.path, self.max_total)
        if member_total > self.max_member:
            raise bomb_error(self.path, self.max_member)


def read_member(
    archive: zipfile.ZipFile, name: str | zipfile.ZipInfo, budget: ZipBudget, *, keep: bool = True
) -> bytes:
    """Return the unzipped bytes of member ``name`` (b"" when ``keep`` is False: only counted).

    Reads in 1 MB pieces and stops as soon as ``budget`` is exceeded. Raises IngestError for a
    bomb; KeyError for a missing member; zipfile.BadZipFile/zlib.error for damaged data.
    """
    parts: list[bytes] = []
    seen = 0
    with archive.open(name) as member:
        while piece := member.read(_PIECE):
            seen += len(piece)
            budget.take(len(piece), seen)
            if keep:
                parts.append(piece)
    return b"".join(parts)


def check_zip(
    data: bytes | BinaryIO,
    path: str | Path,
    *,
    max_total: int = MAX_UNZIPPED_BYTES,
    max_member: int = MAX_MEMBER_BYTES,
    max_members: int = MAX_ZIP_MEMBERS,
) -> None:
    """Check that the ZIP package ``data`` unzips within the limits, by unzipping and counting.

    Raises IngestError naming ``path``: a bomb ("expands to more than N MB when unzipped"),
    too many members, or a damaged package. Nothing unzipped is kept in memory.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    budget = ZipBudget(path, max_total, max_member)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > max_members:
                raise IngestError(
                    path, f"holds more than {max_members:,} packed files (a decompression bomb?)"
                )
            # Honest headers: refused without unzipping anything. Lying ones are caught below.
            if sum(info.file_size for info in infos) > max_total:
                raise bomb_error(path, max_total)
            if any(info.file_size > max_member for info in infos):
                raise bomb_error(path, max_member)
            for info in infos:
                if not info.is_dir():
                    read_member(archive, info, budget, keep=False)
    except IngestError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, NotImplementedError (compression), ...
        raise IngestError(
            path, f"corrupt or damaged package ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        if not isinstance(data, bytes):
            stream.seek(0)


def check_text(length: int, path: str | Path, limit: int | None = None) -> None:
    """Raise IngestError when a file's text has grown past ``limit`` characters
    (default MAX_TEXT_CHARS)."""
    limit = MAX_TEXT_CHARS if limit is None else limit
    if length > limit:
        raise IngestError(
            path,
            f"has more than {limit:,} characters of text (the limit for one file); split it",
        )


def check_pages(count: int, path: str | Path, limit: int | None = None) -> None:
    """Raise IngestError for a document of more than ``limit`` pages (default MAX_PDF_PAGES)."""
    limit = MAX_PDF_PAGES if limit is None else limit
    if count > limit:
        raise IngestError(path, f"has {count:,} pages (the limit for one file is {limit:,})")


def _inflated(data: bytes, start: int, budget: int) -> int:
    """Return how many bytes the zlib stream at ``data[start:]`` inflates to, counting no more
    than ``budget + 1``; 0 when no zlib stream starts there (an image, a font in the clear)."""
    inflater = zlib.decompressobj()
    view = memoryview(data)  # slices without copying: a PDF has thousands of streams
    total = 0
    position = start
    try:
        chunk = view[position : position + _FIRST]
        while chunk and total <= budget:
            total += len(inflater.decompress(chunk, _PIECE))
            while inflater.unconsumed_tail and not inflater.eof and total <= budget:
                total += len(inflater.decompress(inflater.unconsumed_tail, _PIECE))
            if inflater.eof:
                break
            position += len(chunk)
            chunk = view[position : position + _PIECE]
    except zlib.error:
        return total
    return total


def check_pdf_streams(data: bytes, path: str | Path, max_total: int | None = None) -> None:
    """Raise IngestError when the PDF's compressed streams (page contents, fonts, object
    streams; not images, which text extraction never decodes) inflate past ``max_total`` bytes
    together (default MAX_UNZIPPED_BYTES). Counted in 1 MB pieces, nothing kept."""
    limit = MAX_UNZIPPED_BYTES if max_total is None else max_total
    total = 0
    for match in _STREAM.finditer(data):
        head = data[max(0, match.start() - _DICT_WINDOW) : match.start()]
        head = head[head.rfind(b"obj") + 1 :] if b"obj" in head else head
        if _IMAGE.search(head):
            continue
        total += _inflated(data, match.end(), limit - total)
        if total > limit:
            raise IngestError(
                path,
                f"expands to more than {_mb(limit)} when its streams are unpacked "
                "(a decompression bomb?)",
            )
