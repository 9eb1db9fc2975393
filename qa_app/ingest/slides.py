"""PowerPoint (.pptx) via python-pptx: each slide's title, text, tables and notes; the slide
number is the page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.packages import check_package
from qa_app.ingest.tables import add_table
from qa_app.records import Document


def _shapes(shapes: Any) -> Iterator[Any]:
    """Yield shapes in reading order (top to bottom, then left to right), groups opened."""

    def position(shape: Any) -> tuple[int, int]:
        return (shape.top or 0, shape.left or 0)

    for shape in sorted(shapes, key=position):
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _add_slide(builder: DocumentBuilder, slide: Any, number: int) -> None:
    title = slide.shapes.title
    if title is not None and title.has_text_frame:
        builder.add(title.text_frame.text, "heading", page=number)
    for shape in _shapes(slide.shapes):
        if title is not None and shape.shape_id == title.shape_id:
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            rows = ([cell.text for cell in row.cells] for row in shape.table.rows)
            add_table(builder, rows, page=number)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            for paragraph in shape.text_frame.paragraphs:
                kind = "item" if paragraph.level else "paragraph"
                builder.add(paragraph.text, kind, page=number)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            builder.add(notes.text, "paragraph", page=number)


def load_pptx(path: Path) -> Document:
    """Return the Document for a .pptx presentation; raises IngestError for damaged or locked
    files."""
    import pptx

    data = read_bytes(path)
    check_package(data, path, "a PowerPoint presentation")
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx/lxml raise many kinds on damaged packages
        raise IngestError(path, f"corrupt or damaged PowerPoint presentation ({exc})") from None
    builder = DocumentBuilder(path, "pptx")
    slides = list(presentation.slides)
    for number, slide in enumerate(slides, 1):
        _add_slide(builder, slide, number)
    return builder.build(presentation.core_properties.title or None, pages=len(slides))
