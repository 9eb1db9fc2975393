"""Bytes to text: BOMs, UTF-8, a binary sniff, then charset-normalizer for legacy encodings,
line run by line run where UTF-8 and legacy text are mixed in one file."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from qa_app.ingest.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Well-known file signatures, so "binary" can say what the file probably is.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"ID3", "an MP3 audio file"),
)
_SAMPLE = 65536
# Control bytes that never occur in text (tab, newline, CR, form feed and ESC excepted).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27)) + b"\x7f"
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Where charset-normalizer hesitates between single-byte code pages, prefer the most common one.
_PREFERRED = "cp1252"
_CHAOS_MARGIN = 0.15
MAX_RUNS = 200  # runs of lines in another encoding than UTF-8, each detected on its own


def declared_charset(data: bytes) -> str | None:
    """Return the encoding an HTML file declares in a ``<meta charset>`` near its start, if any."""
    match = _DECLARED.search(data[:4096])
    if match is None:
        return None
    name = match.group(1).decode("ascii", "ignore")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _utf16_without_bom(sample: bytes) -> str | None:
    """Return "utf-16-le"/"utf-16-be" when NULs sit in every other byte, as in ASCII-range UTF-16."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _binary_reason(sample: bytes) -> str | None:
    """Return why ``sample`` is not text, or None when it may be text."""
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if b"\x00" not in sample and controls <= 0.05 * len(sample):
        return None
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            return f"binary file, not text (it looks like {what})"
    return "binary file, not text"


def decode(data: bytes, path: Path, declared: str | None = None) -> str:
    """Return ``data`` decoded to text.

    Tries a byte-order mark, then UTF-8, then ``declared`` (an HTML meta charset), then asks
    charset-normalizer. Raises IngestError for binary data or text in no recognisable encoding.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(
                    path, f"undecodable text: it starts as {encoding} but is not valid {encoding}"
                ) from None
    sample = data[:_SAMPLE]
    wide = _utf16_without_bom(sample)
    if wide is not None:
        try:
            return data.decode(wide)
        except UnicodeDecodeError:
            pass
    reason = _binary_reason(sample)
    if reason is not None:
        raise IngestError(path, reason)
    try:
        # Valid UTF-8 with any non-ASCII bytes is almost never a legacy encoding, whatever a
        # page declares; declarations are wrong more often than UTF-8 validity is misleading.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass  # fall through to detection
    return _detect(data, path)


def _best(data: bytes) -> str | None:
    """Return the encoding charset-normalizer finds for ``data`` (cp1252 when it is about as
    likely as the best: short Western text fits several code pages equally well), or None."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.chaos <= best.chaos + _CHAOS_MARGIN and (
            match.encoding == _PREFERRED or _PREFERRED in match.could_be_from_charset
        ):
            return _PREFERRED
    return str(best.encoding)


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(data: bytes, path: Path) -> str:
    """Decode text that is not valid UTF-8: one legacy encoding for the whole, unless lines in
    UTF-8 and lines in other encodings are mixed (pasted together, appended over the years);
    then every UTF-8 line is read as UTF-8 and each run of other lines in its own encoding."""
    lines = data.splitlines(keepends=True)
    mixed = any(not line.isascii() and _is_utf8(line) for line in lines)
    if not mixed:
        encoding = _best(data)
        if encoding is not None:
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                pass
    return _decode_runs(lines, path)


def _decode_runs(lines: list[bytes], path: Path) -> str:
    """Return ``lines`` decoded run by run: UTF-8 (and ASCII) lines as UTF-8, each run of
    other lines in the encoding detected for it (the one detected for all of them together
    after MAX_RUNS runs, to bound the work). Raises IngestError when no run can be read."""
    runs: list[tuple[bool, list[bytes]]] = []
    for line in lines:
        utf8 = _is_utf8(line)
        if runs and runs[-1][0] == utf8:
            runs[-1][1].append(line)
        else:
            runs.append((utf8, [line]))
    legacy = [b"".join(run) for utf8, run in runs if not utf8]
    fallback = _best(b"".join(legacy)) if len(legacy) > MAX_RUNS else None
    out = []
    found = False
    for number, (utf8, run) in enumerate(runs):
        chunk = b"".join(run)
        if utf8:
            out.append(chunk.decode("utf-8"))
            continue
        encoding = _best(chunk) if number < 2 * MAX_RUNS else fallback
        found = found or encoding is not None
        try:
            out.append(chunk.decode(encoding or _PREFERRED))
        except (UnicodeDecodeError, LookupError):
            out.append(chunk.decode(_PREFERRED, "replace"))
    if not found:
        raise IngestError(
            path,
            "undecodable text: it is not valid UTF-8 and matches no known text encoding "
            "(it may be damaged, or not a text file)",
        )
    return "".join(out)
