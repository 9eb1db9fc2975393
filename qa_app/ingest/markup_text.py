"""HTML element trees to (text, kind) blocks, read without recursion: headings, items, line breaks, table rows."""

# A page nested thousands of levels deep is read like any other: lxml's iterwalk walks the tree
# without Python recursion, so no depth makes the text vanish or raises RecursionError.

from __future__ import annotations

import re
from typing import Any

from qa_app.ingest.tables import table_rows

Blocks = list[tuple[str, str]]  # (text, kind) in reading order

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = HEADINGS | {
    "p", "li", "pre", "blockquote", "dt", "dd", "div", "section", "article", "main", "body",
    "ul", "ol", "dl", "header", "footer", "aside", "nav", "figure", "figcaption", "address",
    "caption", "details", "summary", "hr", "center", "td", "th", "tr", "hgroup",
}  # fmt: skip
# Never text: code, styles, controls.
NEVER_TEXT = frozenset(
    {"script", "style", "noscript", "template", "iframe", "svg", "button", "select", "object"}
)
# Page furniture of a web page (not of a book chapter, where a <header> holds the heading).
PAGE_FURNITURE = frozenset({"nav", "header", "footer", "aside", "form", "figcaption"})
_NUMBER_MARK = re.compile(r"line-?num|line-?no|linenumber|page-?num|page-?no|page-?break", re.I)
_NUMBER_TEXT = re.compile(r"^[\s\d.,:;()\[\]ivxlcdm-]{0,12}$", re.IGNORECASE)

_SPACE = re.compile(r"[ \t\r\n\f]+")  # HTML white space: a newline in the source is a space
_PREFORMATTED = frozenset({"pre", "code", "textarea", "listing", "plaintext", "xmp"})

LINE_OR_PAGE_NUMBER = "line or page number"
FURNITURE = "page navigation, header or footer"


def _flow(text: str | None, pre: int) -> str:
    """Return source text as shown: runs of white space one space, except in <pre>."""
    if not text:
        return ""
    return text if pre else _SPACE.sub(" ", text)


def _tag(element: Any) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def is_number_mark(element: Any) -> bool:
    """Return True for a span marking a line or page number (a class or epub:type such as
    "linenum" or "pagebreak", and nothing but a number in it): glued to the text it reads
    "Hofgarten,10"."""
    marks = " ".join(str(v) for k, v in element.attrib.items() if k in ("class", "role")
                     or k.endswith("type"))  # fmt: skip
    if not marks or _NUMBER_MARK.search(marks) is None:
        return False
    return _NUMBER_TEXT.match(element.text_content() or "") is not None


def _cells(row: Any) -> list[tuple[str, bool]]:
    cells = []
    for cell in row:
        tag = _tag(cell)
        if tag in ("td", "th"):
            cells.append((" ".join(inline_text(cell).split()), tag == "th"))
    return cells


def _table_blocks(table: Any) -> Blocks:
    """Return a table's caption and its rows, each row with its label and the column headers."""
    rows = [r for r in table.iter("tr") if _owner(r) is table]
    grid = [_cells(row) for row in rows]
    grid = [row for row in grid if any(text for text, _ in row)]
    blocks: Blocks = []
    caption = table.find("caption")
    if caption is not None and inline_text(caption).strip():
        blocks.append((inline_text(caption), "heading"))
    if not grid:
        return blocks
    header = all(th for _, th in grid[0]) and len(grid) > 1
    texts = [[text for text, _ in row] for row in grid]
    blocks += [(text, "row") for text in table_rows(texts, header=header or None)]
    return blocks


def _owner(row: Any) -> Any:
    parent = row.getparent()
    while parent is not None and _tag(parent) != "table":
        parent = parent.getparent()
    return parent


def inline_text(element: Any, blocks: frozenset[str] = BLOCK_TAGS) -> str:
    """Return an element's text with <br> as a newline, ``blocks`` on lines of their own and
    line/page number marks left out; white space flows as HTML shows it (kept in <pre>)."""
    from lxml import etree

    pre = int(_tag(element) in _PREFORMATTED)
    parts = [_flow(element.text, pre)] if isinstance(element.tag, str) else []
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        if node is element:
            continue
        tag = _tag(node)
        if event == "start":
            if tag in NEVER_TEXT or (tag and is_number_mark(node)):
                walker.skip_subtree()
                continue
            pre += tag in _PREFORMATTED
            if tag in ("br", "lb") or tag in blocks:
                parts.append("\n")
            if tag:
                parts.append(_flow(node.text, pre))
        else:
            if tag in blocks:
                parts.append("\n")
            if tag in _PREFORMATTED and not _skipped(node, False):
                pre -= 1
            parts.append(_flow(node.tail, pre))
    return "".join(parts)


def element_blocks(
    root: Any, *, web_page: bool, left_out: list[tuple[str, str]] | None = None
) -> Blocks:
    """Return the (text, kind) blocks of an HTML tree in reading order: every block element
    starts a new block (h1-h6 headings, li items), text directly inside an outer block is kept
    too, <br> is a line break, tables become rows with their headers. ``web_page`` leaves out
    navigation, headers and footers (counted in ``left_out`` as (rule, text) pairs)."""
    from lxml import etree

    out: Blocks = []
    parts: list[str] = []
    kinds = ["paragraph"]
    pre = 0

    def flush() -> None:
        text = "".join(parts)
        parts.clear()
        if text.strip():
            out.append((text, kinds[-1]))

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, node in walker:
        tag = _tag(node)
        if event == "start":
            if tag in NEVER_TEXT or tag == "head" or (tag and is_number_mark(node)):
                if tag not in NEVER_TEXT and tag != "head" and left_out is not None:
                    left_out.append((LINE_OR_PAGE_NUMBER, node.text_content()))
                walker.skip_subtree()
            elif web_page and tag in PAGE_FURNITURE:
                if left_out is not None and node.text_content().strip():
                    left_out.append((FURNITURE, node.text_content()))
                walker.skip_subtree()
            elif tag == "table":
                flush()
                out.extend(_table_blocks(node))
                walker.skip_subtree()
            elif tag in ("br", "lb"):
                parts.append("\n")
            elif tag in BLOCK_TAGS:
                flush()
                kinds.append("heading" if tag in HEADINGS else "item" if tag == "li" else
                             "paragraph")  # fmt: skip
                pre += tag in _PREFORMATTED
                parts.append(_flow(node.text, pre))
            elif tag:
                pre += tag in _PREFORMATTED
                parts.append(_flow(node.text, pre))
        else:
            if node is root:
                break
            skipped = _skipped(node, web_page)
            if tag in BLOCK_TAGS and not skipped:
                flush()
                kinds.pop()
            if tag in _PREFORMATTED and not skipped:
                pre -= 1
            parts.append(_flow(node.tail, pre))
    flush()
    return out


def _skipped(node: Any, web_page: bool) -> bool:
    tag = _tag(node)
    furniture = web_page and tag in PAGE_FURNITURE
    return tag in NEVER_TEXT or tag == "head" or furniture or is_number_mark(node)
