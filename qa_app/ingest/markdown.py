"""Markdown (.md, .markdown): markup stripped lightly; blocks point into the produced clean text."""

from __future__ import annotations

import html
import re
from pathlib import Path

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.normalize import normalize_lines
from qa_app.records import Document

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.*)$")
_QUOTE = re.compile(r"^ {0,3}>[ ]?")
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*\S")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_META = re.compile(r"^[A-Za-z_][\w-]*:")
_TITLE_META = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.IGNORECASE)
_MAX_LIST = 50  # front matter lists (tags, authors) longer than this are cut

_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PLACEHOLDER = 0xF0000  # escaped characters hide in a private-use plane while markup is removed
_RESTORE = {_PLACEHOLDER + code: code for code in range(128)}
_DEST = r"\((?:[^()]|\([^()]*\))*\)"
_INLINE = (
    (re.compile(r"!\[([^\]]*)\]" + _DEST), r"\1"),  # image → alt text
    (re.compile(r"\[([^\]]+)\]" + _DEST), r"\1"),  # link → its text
    (re.compile(r"!?\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference link
    (re.compile(r"<((?:https?|ftp|mailto):[^>\s]+|[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),  # inline HTML tags
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"), r"\1"),
    (re.compile(r"(?<!\*)\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?!\*)"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
)


def _plain(segment: str) -> str:
    segment = _ESCAPE.sub(lambda m: chr(_PLACEHOLDER + ord(m.group(1))), segment)
    for pattern, replacement in _INLINE:
        segment = pattern.sub(replacement, segment)
    return html.unescape(segment).translate(_RESTORE)


def strip_inline(text: str) -> str:
    """Return ``text`` without inline Markdown: emphasis, links and images (their text kept),
    inline HTML, escapes; code spans keep their content verbatim."""
    parts: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(_plain(text[last : match.start()]))
        parts.append(match.group(2).strip(" ") or match.group(2))
        last = match.end()
    parts.append(_plain(text[last:]))
    return "".join(parts)


def _join(lines: list[str]) -> str:
    # Markdown soft breaks are spaces; two trailing spaces or a backslash make a hard break.
    out = []
    for i, line in enumerate(lines):
        hard = line.endswith("  ") or line.endswith("\\")
        out.append(line.rstrip(" \\") if hard else line.strip())
        if i < len(lines) - 1:
            out.append("\n" if hard else " ")
    return "".join(out)


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [strip_inline(cell.strip()) for cell in re.split(r"(?<!\\)\|", row)]


def _scalar(value: object) -> str | None:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    return " ".join(str(value).split()) or None


def _field(key: object, value: object) -> str | None:
    """Return one front matter entry as "Key: value" ("Tags: a, b"), or None for nested data."""
    name = str(key).replace("_", " ").replace("-", " ").strip()
    if isinstance(value, list):
        items = [_scalar(item) for item in value[:_MAX_LIST]]
        text = ", ".join(item for item in items if item) if all(items) else None
    else:
        text = _scalar(value)
    return f"{name[:1].upper()}{name[1:]}: {text}" if name and text else None


def _metadata_text(body: list[str]) -> tuple[str, str | None]:
    """Return front matter as readable "Key: value" lines, and its title; the lines as they
    are when they are not a YAML mapping."""
    import yaml

    try:
        data = yaml.safe_load("\n".join(body))
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        title = next((m.group(1) for m in map(_TITLE_META.match, body) if m), None)
        return "\n".join(body), title.strip("\"'") if title else None
    title = _scalar(data.get("title"))
    fields = (_field(key, value) for key, value in data.items())
    return "\n".join(f for f in fields if f), title


def _front_matter(lines: list[str]) -> tuple[int, str | None, str]:
    """Return (lines to skip, title, its text) for a YAML front matter block at the top."""
    if not lines or lines[0].strip() != "---":
        return 0, None, ""
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            body = lines[1:end]
            if not any(_META.match(line) for line in body):
                return 0, None, ""
            text, title = _metadata_text(body)
            return end + 1, title, text
    return 0, None, ""


class _Parser:
    """A line-by-line reader of the block structure (enough of CommonMark for plain text)."""

    def __init__(self, builder: DocumentBuilder) -> None:
        self.builder = builder
        self.para: list[str] = []
        self.item: list[str] | None = None
        self.h1: str | None = None

    def flush(self) -> None:
        if self.para:
            self.builder.add(strip_inline(_join(self.para)), "paragraph")
            self.para = []
        if self.item is not None:
            self.builder.add(strip_inline(_join(self.item)), "item")
            self.item = None

    def heading(self, text: str, level: int) -> None:
        self.flush()
        text = strip_inline(text.strip())
        if level == 1 and self.h1 is None and text:
            self.h1 = text
        self.builder.add(text, "heading")

    def run(self, lines: list[str]) -> None:
        i = 0
        while i < len(lines):
            line = lines[i]
            while _QUOTE.match(line):
                line = _QUOTE.sub("", line, count=1)
            i += 1
            if not line.strip():
                self.flush()
            elif fence := _FENCE.match(line):
                self.flush()
                marker, code = fence.group(1), []
                while i < len(lines) and not lines[i].strip().startswith(marker):
                    code.append(lines[i])
                    i += 1
                i += 1  # the closing fence (or the end of the file)
                self.builder.add("\n".join(code), "paragraph")
            elif atx := _ATX.match(line):
                self.heading(atx.group(2) or "", len(atx.group(1)))
            elif self.para and _SETEXT.match(line):
                text, self.para = _join(self.para), []
                self.heading(text, 1 if line.strip().startswith("=") else 2)
            elif _RULE.match(line) or _REF_DEF.match(line):
                self.flush()
            elif "|" in line and i < len(lines) and "|" in lines[i] and _TABLE_SEP.match(lines[i]):
                self.flush()
                rows = [_cells(line)]
                i += 1
                while i < len(lines) and "|" in lines[i] and lines[i].strip():
                    rows.append(_cells(lines[i]))
                    i += 1
                self.builder.add(
                    "\n".join(" | ".join(c for c in row if c) for row in rows), "table"
                )
            elif item := _ITEM.match(line):
                self.flush()
                self.item = [item.group(1)]
            elif self.item is not None:
                self.item.append(line)
            else:
                self.para.append(line)
        self.flush()


def load_markdown(path: Path) -> Document:
    """Return the Document for a Markdown file; raises IngestError for unusable files."""
    text = normalize_lines(decode(read_bytes(path), path))
    text = _COMMENT.sub("", text)
    if not text.strip():
        raise IngestError(path, "contains no text (only blank space)")
    lines = text.split("\n")
    skip, title, metadata = _front_matter(lines)
    builder = DocumentBuilder(path, "md")
    parser = _Parser(builder)
    parser.run(lines[skip:])
    # The front matter (author, date, tags) stays searchable, after the body so the body's
    # heading still names the document.
    builder.add(metadata, "paragraph")
    return builder.build(title or parser.h1)
