"""HTML (.html, .htm): main content via trafilatura, a plain-tag fallback, boilerplate removed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from qa_app.ingest import boilerplate
from qa_app.ingest.build import DocumentBuilder
from qa_app.ingest.decoding import declared_charset, decode
from qa_app.ingest.errors import IngestError
from qa_app.ingest.files import read_bytes
from qa_app.ingest.markup_text import FURNITURE, Blocks, element_blocks, inline_text
from qa_app.ingest.normalize import clean
from qa_app.ingest.tables import table_rows
from qa_app.records import Document

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_TITLE_SPLIT = re.compile(r"\s+[|–—·:-]\s+")
# Elements of trafilatura's XML that stand on lines of their own inside another one.
_NESTED_BLOCKS = frozenset({"list", "item", "p", "head", "quote", "table", "row", "code"})
_BYLINE_CHARS = 200  # longer "authors" are a list of contributors or a mis-read paragraph
_BYLINE_SEARCH = 4  # a byline in the text sits right under the headline
_JS_NOTICE = re.compile(
    r"\b(?:enable|turn on|activate|allow)\s+javascript|javascript\s+(?:is\s+)?"
    r"(?:disabled|required|must be enabled|needs to be enabled|is turned off)"
    r"|(?:requires|needs)\s+javascript|javascript\s+to\s+(?:run|view|use|display|work)",
    re.IGNORECASE,
)
_JS_MAX_WORDS = 60  # a real article that mentions JavaScript is longer than the notice


def _text(element: Any) -> str:
    """Return an element of trafilatura's XML as text, <lb/> as a newline (read without
    recursion, like any tree here)."""
    return inline_text(element, _NESTED_BLOCKS)


def _trafilatura_blocks(markup: str) -> tuple[Blocks, str | None]:
    """Return the main content's blocks and the author trafilatura found (byline, meta tags)."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        markup,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        with_metadata=True,  # for the author; a quick date search keeps it cheap (+2 ms, not +15)
        date_extraction_params={"extensive_search": False, "original_date": False},
    )
    if not xml:
        return [], None
    doc = etree.fromstring(xml.encode("utf-8"))
    main = doc.find("main")
    return (list(_walk(main)) if main is not None else []), doc.get("author")


def _walk(element: Any) -> Iterator[tuple[str, str]]:
    for child in element:
        tag = child.tag
        if tag == "head":
            yield _text(child), "heading"
        elif tag == "list":
            for item in child.findall("item"):  # nested lists stay inside their item
                yield _text(item), "item"
        elif tag == "table":
            grid = [[" ".join(_text(cell).split()) for cell in row] for row in child.iter("row")]
            head = bool(grid) and all(cell.get("role") == "head" for cell in child.find("row"))
            for text in table_rows(grid, header=True if head and len(grid) > 1 else None):
                yield text, "row"
        elif tag in ("quote", "div") and any(c.tag in ("p", "list", "head") for c in child):
            yield from _walk(child)
        elif tag != "graphic":
            yield _text(child), "paragraph"


def _fallback_blocks(root: Any, web_page: bool, left_out: list[tuple[str, str]]) -> Blocks:
    """Every block element's text (a web page's navigation, header and footer left out)."""
    blocks = element_blocks(root, web_page=web_page, left_out=left_out)
    if not any(clean(text) for text, _ in blocks):
        blocks = [(line, "paragraph") for line in root.text_content().split("\n")]
    return blocks


def _meta_author(root: Any) -> str | None:
    for value in root.xpath("//meta[@name='author' or @property='article:author']/@content"):
        if clean(str(value)):
            return str(value)
    return None


def _with_byline(blocks: Blocks, author: str | None) -> Blocks:
    """Return ``blocks`` with a "By AUTHOR" line after the headline, unless the text names the
    author near the top already (the byline is what answers "Who wrote it?")."""
    author = " ".join(clean(author).split()) if author else ""
    if not blocks or not author or len(author) > _BYLINE_CHARS:
        return blocks
    near_top = " ".join(text for text, _ in blocks[:_BYLINE_SEARCH]).casefold()
    if author.casefold() in near_top:
        return blocks
    at = 1 if blocks and blocks[0][1] == "heading" else 0
    return [*blocks[:at], (f"By {author}", "paragraph"), *blocks[at:]]


def _needs_javascript(blocks: Blocks) -> bool:
    """Return True when all the text there is says the page needs JavaScript to show itself."""
    text = " ".join(text for text, _ in blocks)
    return len(text.split()) <= _JS_MAX_WORDS and _JS_NOTICE.search(text) is not None


def _title(root: Any) -> str | None:
    """Return the <title>, without a trailing " | Site name" when it has one."""
    node = root.find(".//title")
    title = clean(node.text_content()) if node is not None else ""
    if not title:
        return None
    parts = _TITLE_SPLIT.split(title)
    return max(parts, key=len) if len(parts) > 1 else title


def load_html(path: Path) -> Document:
    """Return the Document for an HTML file; raises IngestError for unusable files."""
    data = read_bytes(path)
    markup = decode(data, path, declared_charset(data))
    if not markup.strip():
        raise IngestError(path, "contains no text (only blank space)")
    parsed, author = _parse(markup, path, main_content=True)
    title, blocks = parsed.title, parsed.blocks
    if _needs_javascript(blocks):
        raise IngestError(
            path,
            "the page shows only a notice that it needs JavaScript; its content is loaded "
            "by scripts (save the page from a browser once it has loaded)",
        )
    builder = DocumentBuilder(path, "html")
    for text, kind in _with_byline(blocks, author):
        builder.add(text, kind)
    for rule, text in parsed.left_out:
        builder.leave_out(rule, text)
    return builder.build(title)


_WORDS = re.compile(r"[^\W_]+")
_PARSER_DEPTH = 2048  # libxml2 stops there even with huge_tree; the text below is lost
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^>]*?(/?)>")
_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


def _depth(markup: str) -> int:
    """Return how deep the elements of ``markup`` nest, counted from its tags."""
    depth = deepest = 0
    for closing, name, empty in _TAG.findall(markup):
        if closing:
            depth = max(0, depth - 1)
        elif not empty and name.lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def _flattened(blocks: Blocks) -> bool:
    """Return True when trafilatura gave a short page as one run of text (its fallback for
    pages too small to analyse), losing headings and table rows."""
    return len(blocks) == 1


def _same_words(flat: Blocks, structured: Blocks) -> bool:
    """Return True when ``structured`` holds every word of ``flat`` in more blocks."""
    words = set(_WORDS.findall(" ".join(text for text, _ in flat).casefold()))
    found = set(_WORDS.findall(" ".join(text for text, _ in structured).casefold()))
    return len(structured) > len(flat) and words <= found


def _outside_article(root: Any, kept: Blocks) -> list[tuple[str, str]]:
    """Return, as left out on purpose, the page's blocks that trafilatura's main-content
    detection did not keep (menus, mastheads, "most read" lists, footers): every block of the
    whole page less than half of whose distinct words are in the kept text."""
    found = set(_WORDS.findall(" ".join(text for text, _ in kept).casefold()))
    out: list[tuple[str, str]] = []
    for text, _ in element_blocks(root, web_page=False):
        words = set(_WORDS.findall(text.casefold()))
        if words and len(words & found) * 2 < len(words):
            out.append((FURNITURE, text))
    return out


class Markup(NamedTuple):
    """HTML read into blocks: its title, the kept (text, kind) blocks, and the (rule, text) of
    every block left out on purpose."""

    title: str | None
    blocks: Blocks
    left_out: list[tuple[str, str]]


def markup_blocks(markup: str, path: Path, *, main_content: bool = True) -> Markup:
    """Return the title, the clean (text, kind) blocks of HTML ``markup`` (boilerplate removed
    and a byline added as for an HTML file; also used for e-mail bodies and e-book chapters)
    and what was left out. ``main_content=False`` skips trafilatura's main-content detection
    and keeps headers and footers (a book chapter is all content). Raises IngestError (naming
    ``path``) when lxml cannot parse it."""
    parsed, author = _parse(markup, path, main_content=main_content)
    return parsed._replace(blocks=_with_byline(parsed.blocks, author))


def _parse(markup: str, path: Path, *, main_content: bool) -> tuple[Markup, str | None]:
    """Return the title, the kept blocks and what was left out of HTML ``markup``, and its
    author."""
    import lxml.html
    from lxml import etree

    try:
        # lxml refuses a str that still carries an XML encoding declaration (XHTML files);
        # huge_tree: without it libxml2 stops at 256 levels of nesting and the text is lost.
        parser = lxml.html.HTMLParser(huge_tree=True)
        text = _XML_DECLARATION.sub("", markup, count=1)
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise IngestError(path, f"not readable as HTML ({exc})") from None
    title = _title(root)
    blocks, author = _trafilatura_blocks(markup) if main_content else ([], None)
    left_out: list[tuple[str, str]] = []
    if not any(clean(text) for text, _ in blocks) or _flattened(blocks):
        structured = _fallback_blocks(root, main_content, left_out)
        if not blocks or _same_words(blocks, structured):
            blocks = structured
        else:
            left_out = []
    if main_content and blocks and not left_out:
        left_out = _outside_article(root, blocks)
    if not any(clean(text) for text, _ in blocks) and _depth(text) >= _PARSER_DEPTH:
        raise IngestError(
            path, f"nested more than {_PARSER_DEPTH:,} elements deep: too deep to read as HTML"
        )
    blocks = [(clean(text), kind) for text, kind in blocks]
    blocks = [(text, kind) for text, kind in blocks if text]
    lines = [" ".join(text.split()) for text, _ in blocks]
    # A web page is a template around an article; a book chapter (or anything read without
    # main-content detection) is all content: only lines without a word are left out there.
    rules = boilerplate.reasons(lines) if main_content else boilerplate.decoration(lines)
    left_out += [(rule, text) for (text, _), rule in zip(blocks, rules, strict=True) if rule]
    blocks = [block for block, rule in zip(blocks, rules, strict=True) if rule is None]
    return Markup(title, blocks, left_out), author or _meta_author(root)
