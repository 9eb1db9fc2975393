"""Sentence boundaries and paragraph chunks: examples and property tests on random documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_app.chunking import ChunkSettings, chunk_document
from qa_app.ingest import load
from qa_app.records import Block, Document
from qa_app.sentences import sentence_spans

SEEDS = Path(__file__).resolve().parent.parent / "qa_app" / "seeds"


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


# -- sentences -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith met Dr. Jones at 5 p.m. yesterday. Then they left.",
            ["Mr. Smith met Dr. Jones at 5 p.m. yesterday.", "Then they left."],
        ),
        (
            "The U.S. Treasury acted. It was the U.S. The rest followed.",
            ["The U.S. Treasury acted.", "It was the U.S.", "The rest followed."],
        ),
        (
            "Some tools, e.g. hammers, cost $3.50 each. Prices rose 2.5% in Jan. 2024 overall.",
            [
                "Some tools, e.g. hammers, cost $3.50 each.",
                "Prices rose 2.5% in Jan. 2024 overall.",
            ],
        ),
        (
            "John F. Kennedy spoke. J. R. R. Tolkien wrote.",
            ["John F. Kennedy spoke.", "J. R. R. Tolkien wrote."],
        ),
        (
            "“Russia has now received shipments of these missiles.” He added more.",
            ["“Russia has now received shipments of these missiles.”", "He added more."],
        ),
        (
            '"They will use them against Ukrainians," Blinken said. "The supply matters."',
            ['"They will use them against Ukrainians," Blinken said.', '"The supply matters."'],
        ),
        (
            "We have been clear… that we are ready. He said including ... President Zelenskyy.",
            [
                "We have been clear… that we are ready.",
                "He said including ... President Zelenskyy.",
            ],
        ),
        ("Wait... The end came. Really?! Yes!", ["Wait...", "The end came.", "Really?!", "Yes!"]),
        ('"Why?" he asked. (It was late.) Fine.', ['"Why?" he asked.', "(It was late.)", "Fine."]),
        (
            "A heading without a stop\nThe body. More body.",
            ["A heading without a stop", "The body.", "More body."],
        ),
        ("1. First point here. 2. Second point.", ["1. First point here.", "2. Second point."]),
        ("  \n  ", []),
    ],
)
def test_sentence_examples(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentence_spans_respect_the_range() -> None:
    text = "Before. Inside one. Inside two. After."
    start, end = text.index("Inside"), text.index(" After")
    assert [text[a:b] for a, b in sentence_spans(text, start, end)] == [
        "Inside one.",
        "Inside two.",
    ]


def test_seed_sentences() -> None:
    text = load(SEEDS / "004_71c8a87dcccb59d2.txt").text
    found = sentences(text)
    assert (
        "Russia received the first shipment earlier this month, the Treasury Department said."
        in found
    )
    assert "“Russia has now received shipments of these missiles.”" in found
    text = load(SEEDS / "003_949fe4b9fafb9ed3.txt").text
    assert (
        '"Russia has now received shipments of these ballistic missiles and will likely use them '
        'within weeks in Ukraine, against Ukrainians," Blinken said.'
    ) in sentences(text)


_SENTENCE_ALPHABET = st.sampled_from(
    ["a", "B", " ", "  ", "\n", ".", "!", "?", "…", "...", "”", '"', "'", "(", ")", "U.S.", "Mr.",
     "e.g.", "3.5", "The", "he", "\u00a0", "\t", "x."]
)  # fmt: skip


@given(st.lists(_SENTENCE_ALPHABET, max_size=80).map("".join), st.data())
def test_sentence_span_invariants(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = sentence_spans(text, start, end)
    covered: set[int] = set()
    previous = start
    for a, b in spans:
        assert previous <= a < b <= end
        piece = text[a:b]
        assert piece == piece.strip() and "\n" not in piece
        covered.update(range(a, b))
        previous = b
    assert {i for i in range(start, end) if not text[i].isspace()} <= covered


# -- chunks --------------------------------------------------------------------------------


def test_settings_defaults_and_manifest_form() -> None:
    settings_ = ChunkSettings()
    assert settings_.min_chars < settings_.target_chars < settings_.max_chars <= 1200
    assert json.loads(json.dumps(settings_.as_dict())) == settings_.as_dict()
    assert set(settings_.as_dict()) == {"target_chars", "max_chars", "min_chars", "version"}
    with pytest.raises(ValueError, match="min_chars <= target_chars"):
        ChunkSettings(target_chars=100, max_chars=50, min_chars=10)


def _document(paragraphs: list[tuple[str, str, int | None]], sep: str = "\n\n") -> Document:
    text, blocks = "", []
    for body, kind, page in paragraphs:
        if text:
            text += sep
        blocks.append(Block(len(text), len(text) + len(body), page, kind))
        text += body
    return Document("/x.txt", "x", "txt", text, tuple(blocks))


def test_headings_and_short_paragraphs_join_their_neighbours() -> None:
    long = "This paragraph is long enough to stand alone as a chunk of its own. " * 4
    doc = _document(
        [
            ("Title", "heading", None),
            (long.strip(), "paragraph", None),
            ("A one-liner.", "paragraph", None),
            ("Next section", "heading", None),
            (long.strip(), "paragraph", None),
        ]
    )
    chunks = chunk_document(doc, ChunkSettings(target_chars=300, max_chars=400, min_chars=100))
    assert [c.text.split("\n\n")[0] for c in chunks] == ["Title", "Next section"]
    assert chunks[0].text.endswith("A one-liner.")
    assert [c.ordinal for c in chunks] == [0, 1]


def test_short_pieces_never_cross_pages() -> None:
    doc = _document([("Page one text.", "paragraph", 1), ("Page two text.", "paragraph", 2)])
    assert [(c.text, c.page) for c in chunk_document(doc)] == [
        ("Page one text.", 1),
        ("Page two text.", 2),
    ]


def test_long_paragraph_splits_at_sentences_and_long_sentence_at_spaces() -> None:
    sentence = "The harbour of Valdoria reopened on Monday after a week of repairs. "
    words = " ".join(["word"] * 200)
    doc = _document([((sentence * 20).strip(), "paragraph", None), (words, "paragraph", None)])
    chunks = chunk_document(doc, ChunkSettings(target_chars=300, max_chars=400, min_chars=100))
    assert all(len(c.text) <= 400 for c in chunks)
    assert all(c.text.startswith("The harbour") and c.text.endswith("repairs.") for c in chunks[:4])
    assert chunks[-1].text.startswith("word")


def test_seed_chunks_fit_the_embedder() -> None:
    paths = sorted(SEEDS.glob("*.txt"))
    assert paths, f"no seed documents in {SEEDS}"
    for path in paths:
        doc = load(path)
        chunks = chunk_document(doc)
        assert chunks and all(doc.text[c.start : c.end] == c.text for c in chunks)
        assert all(len(c.text) <= ChunkSettings().max_chars for c in chunks)


_WORDS = st.sampled_from(
    ["the", "harbour", "Valdoria", "reopened.", "U.S.", "Mr.", "said,", "“quoted.”", "3.5",
     "extraordinarily-long-hyphenated-compound-word", "x" * 70, "…", "Why?", "no"]
)  # fmt: skip
_PARAGRAPH = st.lists(_WORDS, min_size=1, max_size=60).map(" ".join)
_SEPARATORS = st.sampled_from(["\n\n", "\n", " \n\n ", "\n\n\n"])


@st.composite
def documents(draw: st.DrawFn) -> Document:
    count = draw(st.integers(0, 12))
    paged = draw(st.booleans())
    text, blocks, page = "", [], 1
    for _ in range(count):
        if text:
            text += draw(_SEPARATORS)
        body = draw(_PARAGRAPH)
        if paged and draw(st.booleans()):
            page += 1
        kind = draw(st.sampled_from(["paragraph", "heading", "item", "table"]))
        blocks.append(Block(len(text), len(text) + len(body), page if paged else None, kind))
        text += body
    return Document("/random.txt", "random", "pdf" if paged else "txt", text, tuple(blocks))


@st.composite
def chunk_settings(draw: st.DrawFn) -> ChunkSettings:
    max_chars = draw(st.integers(20, 400))
    target = draw(st.integers(1, max_chars))
    return ChunkSettings(target, max_chars, draw(st.integers(1, target)))


@settings(max_examples=300)
@given(documents(), chunk_settings())
def test_chunk_invariants(doc: Document, settings_: ChunkSettings) -> None:
    chunks = chunk_document(doc, settings_)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    previous = 0
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert previous <= chunk.start < chunk.end
        previous = chunk.end
        assert chunk.text == chunk.text.strip()
        assert len(chunk.text) <= settings_.max_chars or len(chunk.text.split()) == 1
        touching = [b for b in doc.blocks if b.start < chunk.end and chunk.start < b.end]
        assert touching and {b.page for b in touching} == {chunk.page}
    covered = {i for c in chunks for i in range(c.start, c.end)}
    for block in doc.blocks:
        for i in range(block.start, block.end):
            assert doc.text[i].isspace() or i in covered
