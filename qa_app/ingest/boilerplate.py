"""Boilerplate removal for text formats: labels, stamps, prices, captions, paywalls, repeats."""

# Rules work on paragraphs (one line each in scraped text) and drop only lines that do not read
# like running text, with two bounded exceptions: a later exact copy of a paragraph, and a
# paywall block opened by two subscription phrases close together.

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from qa_app.ingest.paragraphs import ends_sentence, is_prose

_ALNUM = re.compile(r"[^\W_]")
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A lone section label: "NEWS", "WORLD | ASIA", "LIVE UPDATES".
_LABEL_MAX_WORDS, _LABEL_MAX_CHARS = 4, 30

# A line made only of these words (plus numbers and punctuation) is a time stamp or byline stamp.
_STAMP_HEADS = _words("updated update published posted modified edited ago read")
_STAMP_WORDS = _STAMP_HEADS | _words(
    "last on at am pm a p m min mins minute minutes hour hours hr hrs h day days week weeks "
    "reading time today yesterday et edt est ct cdt cst mt mdt mst pt pdt pst gmt utc bst cet "
    "cest eet ist jst aest sgt hkt wib "
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs "
    "fri sat sun"
)
_STAMP_MAX_CHARS = 80

_CURRENCY = r"(?:[$€£¥₹₩₽]|rs\.?|inr|usd|eur|gbp|us\$)"
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_PERIOD = r"(?:months?|mos?|years?|yrs?|annum|weeks?|wks?|days?|quarters?)"
_PRICE = re.compile(
    rf"^(?:{_CURRENCY}\s?{_AMOUNT}|{_AMOUNT}\s?{_CURRENCY})"
    rf"(?:\s?(?:/|per|a|an|every)\s?{_PERIOD})?\*?$"
    rf"|^\d+\s?{_PERIOD}$",
    re.IGNORECASE,
)

_NOTICE = re.compile(
    r"all rights reserved|©|\(c\) \d{4}|copyright \d{4}|syndicated feed|auto-generated from"
    r"|has not been edited by|follow us on|share this (?:article|story)|click here"
    r"|sign up for our|download (?:our|the) app|^(?:advertisement|sponsored|also read:?"
    r"|read more:?|related:?|story continues below)$"
)  # matched against lower-cased lines: IGNORECASE makes these alternations ten times slower
_NOTICE_MAX_WORDS = 40

# Paywall vocabulary: phrases that almost never occur in an article's own sentences.
_STRONG = re.compile(
    r"reached your (?:monthly |free )?(?:article )?limit|free articles?\b|subscribe (?:now|today"
    r"|to (?:read|continue|unlock))|already (?:a )?(?:subscribed|subscriber|member)"
    r"|unlimited (?:digital )?access|renews? automatically|auto-?renew|cancel any ?time"
    r"|subscription plans?|to continue reading|(?:sign|log) ?in to (?:read|continue)"
    r"|\{\{\s*\w+\s*\}\}|paywall|start your free trial"
)  # lower-cased lines, as above
_PAYWALL_WINDOW = 4  # a strong line needs another strong one this close to open a paywall block
_PAYWALL_LINE_WORDS = 30
_SINGLE_STRONG_WORDS = 12

_REPEAT_MAX_WORDS, _REPEAT_MAX_CHARS = 6, 60
_DUPLICATE_MIN_WORDS = 4
_CAPTION_MIN_WORDS = 4
_CAPTION_WINDOW = 10  # the paragraph a caption repeats follows within this many lines
_CREDIT_MAX_CHARS = 25  # "…David LammyAP", "… (Reuters)": a caption with a photo credit glued on


def _key(line: str) -> str:
    return " ".join(line.casefold().split())


def is_label(line: str) -> bool:
    """Return True for a lone all-capitals section label such as "NEWS" or "WORLD | ASIA"."""
    words = line.split()
    return (
        0 < len(words) <= _LABEL_MAX_WORDS
        and len(line) <= _LABEL_MAX_CHARS
        and any(c.isalpha() for c in line)
        and line.upper() == line
        and not ends_sentence(line)
    )


def is_stamp(line: str) -> bool:
    """Return True for a lone "Updated" or date/time line ("Sept. 10, 2024, 4:05 PM EDT")."""
    if len(line) > _STAMP_MAX_CHARS:
        return False
    words = _WORD.findall(line.casefold())
    if not words or any(w not in _STAMP_WORDS for w in words):
        return False
    return any(c.isdigit() for c in line) or any(w in _STAMP_HEADS for w in words)


def is_price(line: str) -> bool:
    """Return True for a line that is only a price or a duration ("₹300/Month", "3 Months")."""
    return _PRICE.match(line.strip()) is not None


def is_notice(line: str) -> bool:
    """Return True for a short rights, syndication, sharing or advertising notice."""
    return len(line.split()) <= _NOTICE_MAX_WORDS and _NOTICE.search(line.lower()) is not None


def _paywall(line: str, max_words: int = _PAYWALL_LINE_WORDS) -> bool:
    """Return True for a line of at most ``max_words`` words with a paywall phrase in it."""
    return len(line.split()) <= max_words and _STRONG.search(line.lower()) is not None


def _line_rules(line: str) -> bool:
    """Return True when a single line is boilerplate on its own."""
    if _ALNUM.search(line) is None:
        return True  # decoration: "***", "—", ")"
    if is_label(line) or is_stamp(line) or is_price(line) or is_notice(line):
        return True
    return _paywall(line, _SINGLE_STRONG_WORDS) and not is_prose(line)


def _repeats(lines: Sequence[str], drop: list[bool]) -> None:
    keys = [_key(line) for line in lines]
    counts = Counter(k for k in keys if k)
    seen: set[str] = set()
    for i, (line, key) in enumerate(zip(lines, keys, strict=True)):
        if not key:
            continue
        words = len(key.split())
        short = words <= _REPEAT_MAX_WORDS and len(key) <= _REPEAT_MAX_CHARS
        if counts[key] > 1 and short and not ends_sentence(line):
            drop[i] = True  # "NEWS", "Advertisement", "Share": every copy goes
        elif key in seen and words >= _DUPLICATE_MIN_WORDS:
            drop[i] = True  # a paragraph printed twice keeps its first copy
        seen.add(key)


def _captions(lines: Sequence[str], drop: list[bool]) -> None:
    content = [i for i, line in enumerate(lines) if line]
    first = next((i for i in content if not drop[i]), None)
    for pos, i in enumerate(content):
        caption = lines[i]
        if i == first or ends_sentence(caption) or len(caption.split()) < _CAPTION_MIN_WORDS:
            continue  # the first line is the headline, whatever follows it
        for j in content[pos + 1 : pos + 1 + _CAPTION_WINDOW]:
            later = lines[j]
            if len(later) > len(caption) and later.startswith(caption):
                drop[i] = True
                rest = later[len(caption) :]
                if len(rest) <= _CREDIT_MAX_CHARS and not ends_sentence(later):
                    drop[j] = True  # the same caption again, with the photo credit glued on
                break


def _paywalls(lines: Sequence[str], drop: list[bool]) -> None:
    content = [i for i, line in enumerate(lines) if line]
    pos = 0
    while pos < len(content):
        line = lines[content[pos]]
        window = content[pos + 1 : pos + 1 + _PAYWALL_WINDOW]
        if not (_paywall(line) and any(_paywall(lines[j]) for j in window)):
            pos += 1
            continue
        drop[content[pos]] = True
        pos += 1
        # The block runs on over plan names, prices and feature lists until real prose resumes.
        while pos < len(content):
            line = lines[content[pos]]
            if is_prose(line) and not _paywall(line):
                break
            drop[content[pos]] = True
            pos += 1


def keep_mask(lines: Sequence[str]) -> list[bool]:
    """Return for each of ``lines`` (cleaned paragraphs, one per entry) whether it is content.

    Blank entries are kept (True); callers treat them as separators.
    """
    drop = [bool(line) and _line_rules(line) for line in lines]
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is not None and len(lines[first].split()) > 1 and is_label(lines[first]):
        # A capitalised first line of several words is the document's title ("ANNUAL REPORT
        # 2023"); a single word up there ("NEWS", "OPINION") is still a section label.
        line = lines[first]
        drop[first] = is_stamp(line) or is_price(line) or is_notice(line)
    _repeats(lines, drop)
    _paywalls(lines, drop)
    _captions(lines, drop)
    return [not d for d in drop]


def remove(lines: Sequence[str]) -> list[str]:
    """Return ``lines`` without the boilerplate ones (see :func:`keep_mask`)."""
    return [line for line, keep in zip(lines, keep_mask(lines), strict=True) if keep]


_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.IGNORECASE
)
_EDGE = 2  # running headers and footers sit within this many lines of a page's top or bottom
_RUNNING_SHARE = 0.5
_NUMBERED = re.compile(r"^#\s.*[^\W\d_]|.*[^\W\d_].*\s#$")  # "# chapter" or "chapter #"
_NUMBERED_PAGES = 2


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", _key(line))


def _edges(page: Sequence[str]) -> set[int]:
    filled = [i for i, line in enumerate(page) if line.strip()]
    return set(filled[:_EDGE] + filled[-_EDGE:])


def strip_running(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Return each page's lines without page numbers and running headers/footers.

    A header or footer is a line (numbers ignored) at a page's top or bottom edge on at least
    half the pages, when there are three or more pages, or on two pages or more when it starts
    or ends with a number (a page number beside a chapter's name); a sentence is never one. A page whose
    only text is such lines keeps them: they are its content (the same word on every slide),
    not a header above other text.
    """
    edges = [_edges(page) for page in pages]
    counts: Counter[str] = Counter()
    for page, edge in zip(pages, edges, strict=True):
        counts.update({_edge_key(page[i]) for i in edge})
    need = max(3, _RUNNING_SHARE * len(pages))
    running = {key for key, n in counts.items() if n >= need and not is_prose(key)}
    # A page number beside the chapter's name ("12 1.4. ZUSAMMENHANG") runs over that chapter's
    # pages only: two pages are enough for a line that carries a number at one end.
    running |= {
        key
        for key, n in counts.items()
        if n >= _NUMBERED_PAGES and _NUMBERED.match(key) and not is_prose(key)
    }
    out = []
    for page, edge in zip(pages, edges, strict=True):
        numbers = {i for i in edge if _PAGE_NUMBER.match(page[i].strip())}
        repeated = {i for i in edge if _edge_key(page[i]) in running}
        kept = [line for i, line in enumerate(page) if i not in numbers | repeated]
        if not any(line.strip() for line in kept):
            kept = [line for i, line in enumerate(page) if i not in numbers]
        out.append(kept)
    return out
