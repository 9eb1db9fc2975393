"""Fidelity of the loaders: how much of what a file says the library holds, against an independent extraction.

Usage (from the project folder, once):
    apt-get update && apt-get install -y pandoc poppler-utils
    python bench/fidelity.py --data ../shared/data [--json out.json] [--files]

Every file of the corpus (the real files of other projects in DATA/realfiles, the bundled seeds,
and the project's own format fixtures in tests/fixtures/ingest plus a Word and a PDF file made by
tests/fixtures/ingest/make_files.py) is loaded as `qa-app add` loads it (the library stores
Document.text verbatim, which `qa-app show --text` prints; an e-mail's attachments are counted
with their message), and compared with a reference extraction made by other software:

- docx, odt, epub, html: pandoc (`pandoc -t plain --wrap=none`);
- pdf: poppler's `pdftotext -enc UTF-8`;
- eml, mbox: the standard library's `email`, every text/* part (HTML parts through pandoc; in a
  multipart/alternative the HTML part is skipped when a plain-text one is there);
- txt, md: the file itself (decoded as UTF-8, else cp1252);
- pptx, xlsx, ods (pandoc reads none of them): the text elements of the package's XML
  (a:t of the slides and notes; shared and inline strings of the sheets; text:p of the
  content), read with the standard library, so numbers stored as numbers in a sheet are not in
  the reference.

Figures per file: word recall (the share of the reference's words, as a multiset, found in the
stored text; words are runs of letters and digits, case-folded), the reference paragraphs
dropped (three words or more, fewer than half of their distinct words stored), the extra words
(stored, not in the reference: headers, labels), and the paragraphs the loader left out on purpose
with the rule that did it (Document.left_out; an older tree without it shows "-"). A file whose
reference is empty or fails (an encrypted PDF, a scan) is listed but not averaged. Run it with
another tree on PYTHONPATH (e.g. a `git worktree` of an older commit) to compare.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa_app.ingest import SUPPORTED_SUFFIXES, IngestError, load
from qa_app.records import Document

ROOT = Path(__file__).resolve().parent.parent
WORD = re.compile(r"[^\W_]+")
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl"})
DROPPED_SHARE = 0.5
MIN_PARAGRAPH_WORDS = 3
FIXTURE_PAGES = [
    [
        "Harbour repairs",
        "The city harbour of Valdoria reopened on Monday after a week of repairs,",
        "the port authority said. Ships waiting offshore began to enter at dawn.",
        "Valdoria Port Authority - Annual Report",
        "1",
    ],
    [
        "Engineers found three cracked piers and a damaged crane on the east side,",
        "and the repairs cost about 2.5 million euros, officials said on Tuesday.",
        "Valdoria Port Authority - Annual Report",
        "2",
    ],
    [
        "Fishermen welcomed the news, and the ferry docked at noon.",
        "Valdoria Port Authority - Annual Report",
        "3",
    ],
]
PANDOC_FORMATS = {".docx": "docx", ".odt": "odt", ".epub": "epub", ".html": "html", ".htm": "html"}


@dataclass
class Row:
    """One file's figures."""

    path: str
    format: str
    reference_words: int = 0
    recall: float | None = None
    dropped: int = 0
    paragraphs: int = 0
    extra_words: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    note: str = ""
    dropped_examples: list[str] = field(default_factory=list)


def words(text: str) -> list[str]:
    """Return the words of ``text``: NFKC-folded runs of letters and digits, case-folded."""
    text = unicodedata.normalize("NFKC", text.translate(LIGATURES))
    return WORD.findall(text.casefold())


# -- reference extractions ------------------------------------------------------------------


def _run(command: list[str], data: bytes | None = None) -> str:
    done = subprocess.run(command, input=data, capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[:200])
    return done.stdout.decode("utf-8", "replace")


def pandoc(path: Path, fmt: str) -> str:
    return _run(["pandoc", "-f", fmt, "-t", "plain", "--wrap=none", str(path)])


def pandoc_html(markup: str) -> str:
    return _run(["pandoc", "-f", "html", "-t", "plain", "--wrap=none"], markup.encode())


def pdftotext(path: Path) -> str:
    return _run(["pdftotext", "-enc", "UTF-8", str(path), "-"])


def mail_text(path: Path) -> str:
    import email
    import mailbox
    from email import policy
    from email.message import EmailMessage

    def parts(message: EmailMessage) -> Iterator[str]:
        for part in message.walk():
            if part.get_content_maintype() != "text" or part.is_attachment():
                continue
            parent_plain = False
            if part.get_content_subtype() == "html":
                parent_plain = any(
                    p.get_content_type() == "multipart/alternative"
                    and any(c.get_content_type() == "text/plain" for c in p.iter_parts())
                    and part in list(p.iter_parts())
                    for p in message.walk()
                )
            if parent_plain:
                continue
            try:
                content = part.get_content()
            except (LookupError, ValueError):
                raw = part.get_payload(decode=True)
                content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            if part.get_content_subtype() == "html":
                content = pandoc_html(content)
            yield content

    if path.suffix.lower() == ".mbox":
        box = mailbox.mbox(path, create=False)
        messages = [email.message_from_bytes(m.as_bytes(), policy=policy.default) for m in box]
    else:
        messages = [email.message_from_bytes(path.read_bytes(), policy=policy.default)]
    return "\n\n".join(t for m in messages if isinstance(m, EmailMessage) for t in parts(m))


def package_xml_text(path: Path) -> str:
    """Return the text elements of an Office Open XML or OpenDocument package's XML."""
    from xml.etree import ElementTree

    wanted = {
        ".pptx": (re.compile(r"ppt/(slides|notesSlides)/[^/]+\.xml$"), {"t"}),
        ".xlsx": (re.compile(r"xl/(sharedStrings|worksheets/[^/]+)\.xml$"), {"t"}),
        ".ods": (re.compile(r"content\.xml$"), {"p", "h"}),
    }[path.suffix.lower()]
    pattern, tags = wanted
    paragraphs = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if not pattern.search(name):
                continue
            tree = ElementTree.parse(io.BytesIO(archive.read(name)))
            for element in tree.iter():
                if element.tag.rsplit("}", 1)[-1] in tags:
                    paragraphs.append("".join(element.itertext()))
    return "\n\n".join(paragraphs)


def plain_file(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def reference(path: Path) -> str:
    """Return the reference text of ``path``; raises RuntimeError when the tool fails."""
    suffix = path.suffix.lower()
    if suffix in PANDOC_FORMATS:
        return pandoc(path, PANDOC_FORMATS[suffix])
    if suffix == ".pdf":
        return pdftotext(path)
    if suffix in (".eml", ".mbox"):
        return mail_text(path)
    if suffix in (".txt", ".md", ".markdown", ".csv"):
        return plain_file(path)
    if suffix in (".pptx", ".xlsx", ".ods"):
        return package_xml_text(path)
    raise RuntimeError(f"no reference extraction for {suffix}")


# -- comparison -----------------------------------------------------------------------------


def stored_text(document: Document) -> str:
    return "\n\n".join([document.text, *(d.text for d in document.attachments)])


def compare(path: Path, ref: str, document: Document) -> Row:
    stored = Counter(words(stored_text(document)))
    wanted = Counter(words(ref))
    row = Row(str(path), path.suffix.lower().lstrip("."))
    row.reference_words = sum(wanted.values())
    if row.reference_words:
        found = sum(min(n, stored[w]) for w, n in wanted.items())
        row.recall = found / row.reference_words
    row.extra_words = sum((stored - wanted).values())
    for paragraph in re.split(r"\n\s*\n", ref):
        distinct = set(words(paragraph))
        if len(words(paragraph)) < MIN_PARAGRAPH_WORDS:
            continue
        row.paragraphs += 1
        if sum(w in stored for w in distinct) < DROPPED_SHARE * len(distinct):
            row.dropped += 1
            if len(row.dropped_examples) < 3:
                row.dropped_examples.append(" ".join(paragraph.split())[:100])
    left = getattr(document, "left_out", None)
    row.left_out = {x.rule: x.count for x in left} if left is not None else {"-": 0}
    return row


def measure(path: Path) -> Row:
    row = Row(str(path), path.suffix.lower().lstrip("."))
    try:
        document = load(path)
    except IngestError as exc:
        row.note = f"not loaded: {exc.reason}"[:90]
        document = None
    try:
        ref = reference(path)
    except Exception as exc:  # the reference tool failed: an encrypted or broken file
        row.note = (row.note + "; " if row.note else "") + f"no reference: {exc}"[:80]
        return row
    if document is None:
        row.reference_words = len(words(ref))
        row.recall = 0.0 if row.reference_words else None
        return row
    result = compare(path, ref, document)
    result.note = row.note
    return result


# -- corpus and report ----------------------------------------------------------------------


def corpus(data: Path, made: Path) -> list[Path]:
    files = sorted(p for p in (data / "realfiles").rglob("*") if p.is_file())
    files += sorted((ROOT / "seeds").glob("*.txt"))
    fixtures = ROOT / "tests" / "fixtures" / "ingest"
    files += sorted(p for p in fixtures.iterdir() if p.suffix in (".txt", ".md", ".html"))
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.ingest.make_files import pdf_bytes, write_docx

    files.append(write_docx(made / "fixture-report.docx"))
    (made / "fixture-article.pdf").write_bytes(pdf_bytes(FIXTURE_PAGES))
    files.append(made / "fixture-article.pdf")
    return [p for p in files if p.suffix.lower() in SUPPORTED_SUFFIXES]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def print_files(rows: list[Row]) -> None:
    print(f"{'file':<42} {'fmt':>5} {'ref w':>6} {'recall':>6} {'drop':>5} {'extra':>6}  left out")
    for row in rows:
        left = ", ".join(f"{rule} {n}" for rule, n in row.left_out.items()) or ""
        name = Path(row.path).name[:42]
        print(
            f"{name:<42} {row.format:>5} {row.reference_words:>6} {_percent(row.recall):>6} "
            f"{row.dropped:>5} {row.extra_words:>6}  {left} {row.note}".rstrip()
        )
        for example in row.dropped_examples:
            print(f"{'':<50}dropped: {example}")


def print_formats(rows: list[Row]) -> None:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.format, []).append(row)
    print(
        f"\n{'format':<7} {'files':>5} {'scored':>6} {'recall':>7} {'min':>6} {'≥99%':>5} "
        f"{'dropped':>8} {'extra w':>8}  left out on purpose"
    )
    for fmt, group in sorted(groups.items()):
        scored = [r for r in group if r.recall is not None]
        total = sum(r.reference_words for r in scored)
        found = sum((r.recall or 0) * r.reference_words for r in scored)
        pooled = found / total if total else None
        low = min((r.recall for r in scored if r.recall is not None), default=None)
        good = sum(1 for r in scored if (r.recall or 0) >= 0.99)
        rules: Counter[str] = Counter()
        for r in group:
            rules.update(r.left_out)
        left = ", ".join(f"{rule} {n}" for rule, n in rules.most_common() if rule != "-")
        print(
            f"{fmt:<7} {len(group):>5} {len(scored):>6} {_percent(pooled):>7} {_percent(low):>6} "
            f"{good:>5} {sum(r.dropped for r in group):>8} "
            f"{sum(r.extra_words for r in group):>8}  {left}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--files", action="store_true", help="print the per-file table too")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("pandoc", "pdftotext") if shutil.which(tool) is None]
    if missing:
        print(
            f"missing {', '.join(missing)}: apt-get update && apt-get install -y pandoc "
            "poppler-utils",
            file=sys.stderr,
        )
        return 2
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="qa-fidelity-") as made:
        rows = [measure(path) for path in corpus(args.data, Path(made))]
    if args.files:
        print_files(rows)
    print_formats(rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
