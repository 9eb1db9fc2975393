"""Safe reading of a document file: checked (exists, regular, size, permission) before a byte is read."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from qa_app.ingest.errors import IngestError

MAX_FILE_BYTES = 100_000_000  # 100 MB: beyond this a "document" is almost surely not one to read


def _megabytes(size: int, digits: int = 0) -> str:
    return f"{size / 1e6:.{digits}f} MB"


def check_file(path: Path) -> int:
    """Return the size of ``path`` after checking it can be read as a document.

    Raises IngestError for a missing file, a broken link, a folder or other non-regular file,
    an empty file, or a file over MAX_FILE_BYTES (the file is not opened in those cases).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise IngestError(path, "broken link: its target is missing") from None
        raise IngestError(path, "no such file") from None
    except PermissionError:
        raise IngestError(path, "cannot be read: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IngestError(path, "broken link: it points to itself in a loop") from None
        raise IngestError(path, f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise IngestError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        # Reading a FIFO or device would block or never end.
        raise IngestError(path, "is not a regular file (a device, pipe or socket)")
    if st.st_size == 0:
        raise IngestError(path, "empty file")
    if st.st_size > MAX_FILE_BYTES:
        raise IngestError(
            path,
            f"too large ({_megabytes(st.st_size, 1)}; the limit is {_megabytes(MAX_FILE_BYTES)})",
        )
    return st.st_size


def read_bytes(path: Path) -> bytes:
    """Return the bytes of ``path`` after :func:`check_file`; raises IngestError for any failure."""
    size = check_file(path)
    try:
        with open(path, "rb") as handle:
            # read(n) reserves n bytes up front: ask for the size stat() gave, then (a file that
            # grew since) for the rest up to one byte past the limit, so it is still refused.
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(MAX_FILE_BYTES + 1 - len(data))
    except PermissionError:
        raise IngestError(path, "cannot be read: permission denied") from None
    except IsADirectoryError:
        raise IngestError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(path, f"too large (the limit is {_megabytes(MAX_FILE_BYTES)})")
    if not data:
        raise IngestError(path, "empty file")
    return data
