"""Frozen records passed between layers; every offset is a character offset into a document's text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A structural unit of a document (paragraph, heading, list item) at ``text[start:end]``."""

    start: int
    end: int
    page: int | None = None  # 1-based page for paged formats (PDF), else None
    kind: str = "paragraph"  # "paragraph" | "heading" | "item" | "table" | "row" (of a sheet)
    ocr: bool = False  # the text was recognised from an image of the page (OCR), not read


@dataclass(frozen=True)
class LeftOut:
    """Text a loader left out on purpose, by one rule: how many paragraphs (or rows) and the
    first of them, so a user can see what the library does not hold and why."""

    rule: str  # "notice", "repeat", "running header or footer", "repeated rows collapsed", …
    count: int
    example: str = ""


@dataclass(frozen=True)
class Document:
    """A loaded document: clean, NFC-normalised text plus blocks pointing into it."""

    path: str
    title: str
    format: str  # a key of qa_app.ingest.LOADERS: "txt", "pdf", "image", "eml", "xlsx", …
    text: str
    blocks: tuple[Block, ...]
    pages: int | None = None
    # An e-mail's attachments of supported types, each a Document of its own (its ``path`` the
    # message's, its ``attachment`` its name), and those that could not be read.
    attachment: str | None = None  # set on a document read from an attachment: its name
    attachments: tuple[Document, ...] = ()
    attachment_errors: tuple[FileError, ...] = ()  # ``path`` holds the attachment's name
    left_out: tuple[LeftOut, ...] = ()  # boilerplate and capped repeats, counted per rule


@dataclass(frozen=True)
class Chunk:
    """A paragraph-sized passage: ``document.text[start:end] == text``."""

    ordinal: int
    start: int
    end: int
    text: str
    page: int | None = None
    ocr: bool = False  # some of its text was recognised from an image of the page (OCR)


@dataclass(frozen=True)
class DocumentInfo:
    """What the library knows about one stored document (no text)."""

    id: int
    path: str
    title: str
    format: str
    size: int
    mtime: float
    content_hash: str
    pages: int | None
    chunks: int
    status: str = "indexed"  # "indexed" | "failed"
    error: str | None = None
    # For an e-mail attachment stored as a document of its own: its name; ``path`` is then the
    # message's file and ``parent_id`` the message's document id (-1 for one that failed).
    attachment: str | None = None
    parent_id: int | None = None
    left_out: tuple[LeftOut, ...] = ()  # what the loader left out on purpose, per rule


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its source and ranking evidence."""

    chunk_id: int
    doc_id: int
    path: str
    title: str
    page: int | None
    start: int  # offset of the passage in the document text
    end: int
    text: str
    score: float  # fused retrieval score (higher is better)
    dense_rank: int | None = None  # 1-based rank in dense search, None if not retrieved there
    keyword_rank: int | None = None  # 1-based rank in keyword search
    ocr: bool = False  # some of its text was recognised from an image (OCR): may hold misreadings
    attachment: str | None = None  # from an e-mail attachment of this name (``path``: the message)


@dataclass(frozen=True)
class Span:
    """A candidate answer from a reader; offsets are into ``passages[passage_index].text``."""

    passage_index: int
    start: int
    end: int
    text: str
    score: float  # calibrated to [0, 1]; comparable across passages and documents
    sentence_start: int
    sentence_end: int
    # The reader's evidence for this span (logits, margins, window probability...), named so a
    # calibrator can turn it into "probability this answer is right"; empty for simple readers.
    features: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Citation:
    """Where an answer was found; offsets are into the cited document's text."""

    doc_id: int
    path: str
    title: str
    page: int | None
    answer_start: int
    answer_end: int
    sentence_start: int
    sentence_end: int
    sentence: str
    passage_start: int
    passage_end: int
    passage: str
    score: float
    ocr: bool = False  # the cited passage was read by OCR: it may hold recognition errors
    attachment: str | None = None  # from an e-mail attachment of this name (``path``: the message)


def source_name(path: str, attachment: str | None) -> str:
    """Return how a source is named for people: the file's name, or "report.pdf (attached to
    message.eml)" for an e-mail attachment."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1] or path
    return f"{attachment} (attached to {name})" if attachment else name


@dataclass(frozen=True)
class Answer:
    """One distinct answer text with every source that gives it."""

    text: str
    score: float
    citations: tuple[Citation, ...]

    @property
    def documents(self) -> int:
        """Return how many distinct documents support this answer."""
        return len({c.doc_id for c in self.citations})

    @property
    def sources(self) -> int:
        """Return how many independent sources support this answer: documents that cite the same
        sentence (a syndicated report, a quoted e-mail) count once."""
        return len({" ".join(c.sentence.split()).casefold() for c in self.citations})


@dataclass(frozen=True)
class Verdict:
    """What the app says of a question's best candidate: an answer, a possible answer (to check
    against its source) or not found, with the probability in words and the share of held-out
    answers in its band that were right (None when the score is not calibrated)."""

    kind: str  # "answer" | "possible" | "not_found" (qa_app.reader.verdicts)
    words: (
        str  # "almost certain", "very likely", "likely", "about even", "unlikely"; "" uncalibrated
    )
    hit_rate: float | None


_UNJUDGED = Verdict("not_found", "", None)  # the default: replaced from ``answer`` on creation


@dataclass(frozen=True)
class Result:
    """The outcome of one question: best answer (or None for "not found"), alternatives, passages."""

    question: str
    answer: Answer | None
    alternatives: tuple[Answer, ...]
    passages: tuple[Passage, ...]
    reader: str
    threshold: float
    timings: dict[str, float] = field(default_factory=dict)
    # The best-scored candidate whatever the threshold (the answer itself when one is found);
    # None only when the reader gave no span. Selective-answering metrics sort questions by it.
    top: Answer | None = None
    # True when scores are the calibrator's probability that the answer is right.
    calibrated: bool = False
    # The verdict on ``top``: "answer" exactly when ``answer`` is set; "possible" when the best
    # candidate is shown as a possible answer; "not_found" otherwise. Left out, it follows
    # ``answer`` (answer or not found, without words).
    verdict: Verdict = field(default_factory=lambda: _UNJUDGED)

    def __post_init__(self) -> None:
        if self.verdict is _UNJUDGED:
            kind = "answer" if self.answer is not None else "not_found"
            object.__setattr__(self, "verdict", Verdict(kind, "", None))

    @property
    def possible(self) -> Answer | None:
        """Return the possible answer (the best candidate, below the answer threshold but in the
        possible-answer band), or None."""
        return self.top if self.verdict.kind == "possible" else None

    @property
    def found(self) -> bool:
        """Return True when an answer cleared the threshold."""
        return self.answer is not None


@dataclass(frozen=True)
class FileError:
    """A file that could not be indexed, and why (said for a person)."""

    path: str
    reason: str


@dataclass(frozen=True)
class SyncReport:
    """What an add/sync did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0
    failed: tuple[FileError, ...] = ()
    cancelled: bool = False
    chunks_embedded: int = 0
    seconds: float = 0.0
    notices: tuple[str, ...] = ()  # things the user should know that are not failures

    @property
    def ok(self) -> bool:
        """Return True when no file failed and the run was not cancelled."""
        return not self.failed and not self.cancelled


@dataclass(frozen=True)
class Progress:
    """A progress tick from a long core call."""

    done: int
    total: int
    # "index" (reading files) | "ocr" (pages of the file being read) | "rechunk" | "model" |
    # "embed" (a library's sync) | "answer" (evaluation)
    stage: str
    item: str = ""
