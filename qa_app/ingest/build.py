"""Assemble a Document from blocks of text, keeping every block's offsets into the clean text."""

from __future__ import annotations

from pathlib import Path

from qa_app.ingest.errors import IngestError
from qa_app.ingest.limits import check_text
from qa_app.ingest.normalize import clean, clean_block
from qa_app.ingest.paragraphs import short_line
from qa_app.records import Block, Document, LeftOut

SEPARATOR = "\n\n"  # between blocks, so a blank line always means "new paragraph"
TITLE_CHARS = 200
EXAMPLE_CHARS = 200  # of the first paragraph a rule left out, shown as its example
TITLE_SEARCH = 3  # a heading further in names a section, not the document


class DocumentBuilder:
    """Collects blocks in reading order; ``build()`` returns the finished Document."""

    def __init__(self, path: Path, fmt: str, max_chars: int | None = None) -> None:
        self.path = path
        self.max_chars = max_chars
        self.format = fmt
        self._parts: list[str] = []
        self._blocks: list[Block] = []
        self._length = 0
        self._left_out: dict[str, list[int | str]] = {}  # rule -> [count, first example]
        self.rows = 0  # table rows added (each a passage of its own)

    def add(
        self, text: str, kind: str = "paragraph", page: int | None = None, *, ocr: bool = False
    ) -> None:
        """Append ``text`` (cleaned; dropped when nothing is left) as one block; ``ocr`` marks
        text recognised from an image.

        Raises IngestError once the document's text passes ``max_chars`` (checked as it grows,
        so a runaway file stops here instead of filling memory and the library); default
        ``limits.MAX_TEXT_CHARS``.
        """
        check_text(self._length + len(text), self.path, self.max_chars)
        text = clean_block(text)
        if not text:
            return
        if self._parts:
            self._parts.append(SEPARATOR)
            self._length += len(SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self._blocks.append(Block(start, self._length, page, kind, ocr))
        self.rows += kind == "row"

    def leave_out(self, rule: str, text: str, count: int = 1) -> None:
        """Count ``count`` paragraphs (or rows) left out on purpose by ``rule``; the first one
        is kept as the example shown to the user."""
        entry = self._left_out.setdefault(rule, [0, " ".join(text.split())[:EXAMPLE_CHARS]])
        entry[0] = int(entry[0]) + count

    @property
    def left_out(self) -> tuple[LeftOut, ...]:
        """Return what was left out so far, one record per rule in the order first seen."""
        return tuple(LeftOut(rule, int(n), str(ex)) for rule, (n, ex) in self._left_out.items())

    @property
    def empty(self) -> bool:
        """Return True while no block has been added."""
        return not self._blocks

    def texts(self) -> list[tuple[str, str]]:
        """Return ``(text, kind)`` of every block so far."""
        joined = "".join(self._parts)
        return [(joined[b.start : b.end], b.kind) for b in self._blocks]

    def build(self, title: str | None = None, pages: int | None = None) -> Document:
        """Return the Document. Without a ``title`` it is a heading among the first blocks, else
        the first line when short, else the file name. Raises IngestError when no text was added."""
        if not self._blocks:
            raise IngestError(self.path, "no extractable text")
        return Document(
            path=str(self.path),
            title=self._title(title),
            format=self.format,
            text="".join(self._parts),
            blocks=tuple(self._blocks),
            pages=pages,
            left_out=self.left_out,
        )

    def _title(self, given: str | None) -> str:
        candidates = [given]
        texts = self.texts()
        candidates += [text for text, kind in texts[:TITLE_SEARCH] if kind == "heading"][:1]
        candidates.append(short_line(texts[0][0]) if texts else None)
        for candidate in candidates:
            if candidate and clean(candidate):
                title = " ".join(clean(candidate).split())
                return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
        return self.path.stem
