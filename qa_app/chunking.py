"""Paragraph-sized chunks with exact character offsets into the document text."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from qa_app.records import Chunk, Document
from qa_app.sentences import sentence_spans

CHUNKER_VERSION = 1  # bump when the algorithm changes, so saved libraries are re-chunked


@dataclass(frozen=True)
class ChunkSettings:
    """Sizes in characters. all-MiniLM-L6-v2 reads 256 word pieces, about 1,000-1,200 characters
    of English, so ``max_chars`` keeps every chunk inside what the embedder actually sees."""

    target_chars: int = 700  # long paragraphs are cut into pieces about this long
    max_chars: int = 1000  # no chunk is longer (except one unsplittable word)
    min_chars: int = 200  # shorter pieces (headings, one-liners) join a neighbour on their page

    def __post_init__(self) -> None:
        if not 0 < self.min_chars <= self.target_chars <= self.max_chars:
            raise ValueError(
                "chunk sizes must satisfy 0 < min_chars <= target_chars <= max_chars, got "
                f"{self.min_chars}, {self.target_chars}, {self.max_chars}"
            )

    def as_dict(self) -> dict[str, int]:
        """Return the settings (and chunker version) as plain JSON-ready values."""
        return {**asdict(self), "version": CHUNKER_VERSION}


@dataclass
class _Piece:
    start: int
    end: int
    page: int | None
    kind: str
    ocr: bool = False

    @property
    def size(self) -> int:
        return self.end - self.start


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _hard_split(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at whitespace into parts of at most ``limit`` characters."""
    parts = []
    while end - start > limit:
        cut = start + limit
        while cut > start and not text[cut].isspace():
            cut -= 1
        if cut == start:  # one word longer than the limit: keep it whole
            cut = start + limit
            while cut < end and not text[cut].isspace():
                cut += 1
        piece = _trim(text, start, cut)
        parts.append(piece)
        start, end = _trim(text, cut, end)
    if end > start:
        parts.append((start, end))
    return parts


def _split_block(text: str, start: int, end: int, settings: ChunkSettings) -> list[tuple[int, int]]:
    """Cut a long paragraph at sentence boundaries into pieces of about ``target_chars``."""
    sentences: list[tuple[int, int]] = []
    for s, e in sentence_spans(text, start, end):
        if e - s > settings.max_chars:
            sentences.extend(_hard_split(text, s, e, settings.max_chars))
        else:
            sentences.append((s, e))
    pieces: list[tuple[int, int]] = []
    for s, e in sentences:
        if pieces and e - pieces[-1][0] <= settings.target_chars:
            pieces[-1] = (pieces[-1][0], e)
        else:
            pieces.append((s, e))
    return pieces


def _pieces(doc: Document, settings: ChunkSettings) -> list[_Piece]:
    pieces: list[_Piece] = []
    position = 0
    for block in sorted(doc.blocks, key=lambda b: (b.start, b.end)):
        start, end = _trim(doc.text, max(block.start, position), min(block.end, len(doc.text)))
        if end <= start:
            continue
        position = end
        if end - start <= settings.max_chars:
            pieces.append(_Piece(start, end, block.page, block.kind, block.ocr))
            continue
        for s, e in _split_block(doc.text, start, end, settings):
            pieces.append(_Piece(s, e, block.page, block.kind, block.ocr))
    return pieces


def _merge(pieces: list[_Piece], settings: ChunkSettings) -> list[_Piece]:
    """Join short pieces with a neighbour on the same page; a heading joins what follows it."""
    groups: list[_Piece] = []
    for piece in pieces:
        if groups:
            group = groups[-1]
            fits = group.page == piece.page and piece.end - group.start <= settings.max_chars
            short_piece = piece.size < settings.min_chars and piece.kind != "heading"
            # A spreadsheet row is a passage of its own: next to its neighbours the reader
            # answers "the revenue in 2023" from the 2022 row as readily as from the 2023 one.
            rows = piece.kind == "row" or group.kind == "row"
            joins = group.kind == "heading" or (
                not rows and (group.size < settings.min_chars or short_piece)
            )
            if fits and joins:
                group.end = piece.end
                group.kind = piece.kind
                group.ocr = group.ocr or piece.ocr
                continue
        groups.append(_Piece(piece.start, piece.end, piece.page, piece.kind, piece.ocr))
    return groups


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    """Return the chunks of ``doc`` in reading order, numbered from 0.

    Every chunk satisfies ``doc.text[chunk.start:chunk.end] == chunk.text``; chunks do not
    overlap, never cross a page, and are at most ``max_chars`` long unless one word is longer.
    """
    settings = settings or ChunkSettings()
    groups = _merge(_pieces(doc, settings), settings)
    return [
        Chunk(
            ordinal=i,
            start=g.start,
            end=g.end,
            text=doc.text[g.start : g.end],
            page=g.page,
            ocr=g.ocr,
        )
        for i, g in enumerate(groups)
    ]
