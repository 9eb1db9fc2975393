"""ZIP-based files (.xlsx, .pptx, .odt, .ods, .epub): opened only when they are ZIP packages, not
encrypted, that unzip within the limits of qa_app.ingest.limits."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qa_app.ingest import limits
from qa_app.ingest.errors import IngestError

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: an encrypted OOXML, or a 97-2003 file


def check_package(data: bytes, path: Path, what: str) -> None:
    """Raise IngestError unless ``data`` is a ZIP package that unzips within the limits.

    ``what`` names the format for people ("an Excel workbook"). An OLE compound file means a
    password-protected Office file (or an old binary one renamed).
    """
    if data.startswith(OLE):
        raise IngestError(
            path,
            f"password-protected, or an old binary Office file renamed; save it as an "
            f"unprotected {path.suffix.lower()}",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise IngestError(path, f"corrupt or not {what} (it should be a ZIP package)") from None
    if any(member.flag_bits & 0x1 for member in members):
        raise IngestError(path, "encrypted: its parts need a password to open")
    limits.check_zip(data, path, max_total=limits.MAX_UNZIPPED_BYTES)
