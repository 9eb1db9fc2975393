"""ZIP-based files (.xlsx, .pptx, .odt, .ods, .epub): opened only when they are ZIP packages
whose contents stay within a sane size once expanded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qa_app.ingest.errors import IngestError

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: an encrypted OOXML, or a 97-2003 file
MAX_EXPANDED_BYTES = 1_000_000_000  # 1 GB once unpacked: far beyond any real document
MAX_MEMBERS = 100_000


def check_package(data: bytes, path: Path, what: str) -> None:
    """Raise IngestError unless ``data`` is a ZIP package of reasonable expanded size.

    ``what`` names the format for people ("Excel workbook"). An OLE compound file means a
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
    if len(members) > MAX_MEMBERS:
        raise IngestError(path, f"too many parts inside ({len(members):,})")
    expanded = sum(member.file_size for member in members)
    if expanded > MAX_EXPANDED_BYTES:
        raise IngestError(
            path,
            f"too large once expanded ({expanded / 1e6:,.0f} MB; the limit is "
            f"{MAX_EXPANDED_BYTES / 1e6:,.0f} MB)",
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise IngestError(path, "encrypted: its parts need a password to open")
