"""Boilerplate removal for text formats: labels, stamps, prices, captions, paywalls, repeats."""

# Rules work on paragraphs (one line each in scraped text) and drop a line only on strong
# evidence: it repeats (within the document, or at the edges of its pages), it is a notice with
# next to no words of its own beside the notice phrase, it is navigation or decoration with no
# word of content, or it sits in a paywall block opened by two subscription phrases close
# together. A sentence that merely contains "©" or "click here" stays. Every rule has a name
# (RULES) so what each one removed can be counted and shown.

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

# A publisher's own notice: these phrases hardly occur in a document's own sentences.
_OWN_NOTICE = re.compile(
    r"all rights reserved|syndicated feed|auto-generated from|has not been edited by"
    r"|^(?:advertisement|sponsored|also read:?|read more:?|related:?|story continues below)$"
)  # matched against lower-cased lines: IGNORECASE makes these alternations ten times slower
# Phrases that also occur in real sentences ("the © mark on its logo was registered"): a line
# with one is a notice only when it is short and has next to no words beside the phrase.
_WEAK_NOTICE = re.compile(
    r"©|\(c\)(?= ?\d{4})|copyright(?= ?\d{4})|follow us on|share this (?:article|story)"
    r"|click here|sign up for our|download (?:our|the) app"
)
_NOTICE_MAX_WORDS = 40
_WEAK_NOTICE_MAX_WORDS = 20
_NOTICE_OWN_WORDS = 3  # content words besides the phrase: "Valdoria Daily", "Twitter, Facebook"
_NOTICE_SENTENCE_WORDS = 6  # a whole sentence this long says something of its own: kept
_FUNCTION_WORDS = _words(
    "a an the to of for and or in on at by with from our your us you we more now here this it "
    "is are be all up"
)

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
    """Return True for a short rights, syndication, sharing or advertising notice: a
    publisher's own notice phrase, or a weaker one ("©", "click here") with at most a few words
    of its own ("© 2024 Valdoria Daily"), never a sentence that only mentions one."""
    words = len(line.split())
    if words > _NOTICE_MAX_WORDS:
        return False
    lower = line.lower()
    if _OWN_NOTICE.search(lower) is not None:
        return True
    if words > _WEAK_NOTICE_MAX_WORDS or _WEAK_NOTICE.search(lower) is None:
        return False
    if words >= _NOTICE_SENTENCE_WORDS and ends_sentence(line):
        return False
    own = [w for w in _WORD.findall(_WEAK_NOTICE.sub(" ", lower)) if w not in _FUNCTION_WORDS]
    return len(own) <= _NOTICE_OWN_WORDS


def _paywall(line: str, max_words: int = _PAYWALL_LINE_WORDS) -> bool:
    """Return True for a line of at most ``max_words`` words with a paywall phrase in it."""
    return len(line.split()) <= max_words and _STRONG.search(line.lower()) is not None


# The rules' names, as counted per file and shown to the user.
DECORATION = "decoration"
NAVIGATION = "navigation label"
STAMP = "time stamp"
OFFER = "subscription price"
NOTICE = "notice"
PAYWALL = "paywall"
REPEAT = "repeated line"
DUPLICATE = "duplicate paragraph"
CAPTION = "caption repeated in the text"
RUNNING = "running header or footer"
PAGE_NUMBER = "page number"

_BREADCRUMB = re.compile(r"\s[|›»>/]\s")
_DATED = re.compile(
    r"\b(?:1[89]|20)\d\d\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
    r"|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.IGNORECASE,
)
_PER_PERIOD = re.compile(rf"(?:/|per|a|an|every)\s?{_PERIOD}\*?$", re.IGNORECASE)
_LONE_WORDS = 2  # a repeated line this short ("NEWS", "Share") goes in every copy


def _dated(line: str) -> bool:
    """Return True when a stamp carries a date (it says when the text was published)."""
    return _DATED.search(line) is not None


def _line_rule(line: str) -> str | None:
    """Return the rule that makes a single line boilerplate on its own, or None."""
    if _ALNUM.search(line) is None:
        return DECORATION  # "***", "—", ")": no word is lost
    if is_label(line) and _BREADCRUMB.search(line):
        return NAVIGATION  # "WORLD | ASIA"; a lone "NEWS" goes only when it repeats
    if is_stamp(line) and not _dated(line):
        return STAMP  # "Updated", "5 min read"; a date says when it was published: kept
    if is_price(line) and _PER_PERIOD.search(line.strip()):
        return OFFER  # "₹300/Month"; a bare price may be a fact of a price list: kept
    if is_notice(line):
        return NOTICE
    if _paywall(line, _SINGLE_STRONG_WORDS) and not is_prose(line):
        return PAYWALL
    return None


def _repeats(lines: Sequence[str], why: list[str | None]) -> None:
    keys = [_key(line) for line in lines]
    counts = Counter(k for k in keys if k)
    seen: set[str] = set()
    for i, (line, key) in enumerate(zip(lines, keys, strict=True)):
        if not key:
            continue
        words = len(key.split())
        if counts[key] > 1 and words <= _LONE_WORDS and not ends_sentence(line):
            why[i] = why[i] or REPEAT  # "NEWS", "Advertisement", "Share": every copy goes
        elif key in seen and (words >= _DUPLICATE_MIN_WORDS or _short(key)):
            why[i] = why[i] or DUPLICATE  # a paragraph printed twice keeps its first copy
        seen.add(key)


def _short(key: str) -> bool:
    return len(key.split()) <= _REPEAT_MAX_WORDS and len(key) <= _REPEAT_MAX_CHARS


def _captions(lines: Sequence[str], why: list[str | None]) -> None:
    content = [i for i, line in enumerate(lines) if line]
    first = next((i for i in content if why[i] is None), None)
    for pos, i in enumerate(content):
        caption = lines[i]
        if i == first or ends_sentence(caption) or len(caption.split()) < _CAPTION_MIN_WORDS:
            continue  # the first line is the headline, whatever follows it
        for j in content[pos + 1 : pos + 1 + _CAPTION_WINDOW]:
            later = lines[j]
            if len(later) > len(caption) and later.startswith(caption):
                why[i] = why[i] or CAPTION  # its words are all in the paragraph that follows
                rest = later[len(caption) :]
                if len(rest) <= _CREDIT_MAX_CHARS and not ends_sentence(later):
                    why[j] = why[j] or CAPTION  # the caption again, with a photo credit glued on
                break


def _paywalls(lines: Sequence[str], why: list[str | None]) -> None:
    content = [i for i, line in enumerate(lines) if line]
    pos = 0
    while pos < len(content):
        line = lines[content[pos]]
        window = content[pos + 1 : pos + 1 + _PAYWALL_WINDOW]
        if not (_paywall(line) and any(_paywall(lines[j]) for j in window)):
            pos += 1
            continue
        why[content[pos]] = why[content[pos]] or PAYWALL
        pos += 1
        # The block runs on over plan names, prices and feature lists until real prose resumes.
        while pos < len(content):
            line = lines[content[pos]]
            if is_prose(line) and not _paywall(line):
                break
            why[content[pos]] = why[content[pos]] or PAYWALL
            pos += 1


def reasons(lines: Sequence[str]) -> list[str | None]:
    """Return for each of ``lines`` (cleaned paragraphs, one per entry) the rule that makes it
    boilerplate (one of the names above), or None for content. Blank entries are content."""
    why = [_line_rule(line) if line else None for line in lines]
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is not None and why[first] == NAVIGATION and len(lines[first].split()) > 1:
        why[first] = None  # a capitalised first line of several words is the title
    _repeats(lines, why)
    _paywalls(lines, why)
    _captions(lines, why)
    return why


def decoration(lines: Sequence[str]) -> list[str | None]:
    """Return DECORATION for each of ``lines`` with no letter or digit ("***"), else None."""
    return [DECORATION if line and _ALNUM.search(line) is None else None for line in lines]


def keep_mask(lines: Sequence[str]) -> list[bool]:
    """Return for each of ``lines`` whether it is content (see :func:`reasons`)."""
    return [rule is None for rule in reasons(lines)]


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
_SENTENCE_WORDS = 4  # a line ending like a sentence with this many words is body text


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", _key(line))


def _edges(page: Sequence[str]) -> set[int]:
    filled = [i for i, line in enumerate(page) if line.strip()]
    return set(filled[:_EDGE] + filled[-_EDGE:])


def strip_running(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Return each page's lines without page numbers and running headers/footers (see
    :func:`strip_running_counted`)."""
    return strip_running_counted(pages)[0]


def _reads_on(page: Sequence[str], i: int) -> bool:
    """Return True when line ``i`` of ``page`` is part of a paragraph running over it: the line
    before stops mid-sentence and this one goes on in lowercase, or this one stops
    mid-sentence and the next goes on in lowercase. Such a line is body text, even when the
    same words end every page."""
    line = page[i].strip()
    before = next((p.strip() for p in reversed(page[:i]) if p.strip()), "")
    after = next((p.strip() for p in page[i + 1 :] if p.strip()), "")
    if before and line[:1].islower() and not ends_sentence(before) and _MID.search(before):
        return True
    return bool(after) and after[:1].islower() and _MID.search(line) is not None


_MID = re.compile(r"(?:[^\W\d_]|[,;\-–])$")  # ends with a letter, a comma or a dash


def strip_running_counted(
    pages: Sequence[Sequence[str]],
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Return each page's lines without page numbers and running headers/footers, and what was
    removed as (rule, line) pairs.

    A header or footer is a line (numbers ignored) at a page's top or bottom edge on at least
    half the pages, when there are three or more pages, or on two pages or more when it starts
    or ends with a number (a page number beside a chapter's name). A sentence is never one,
    nor a line that continues the paragraph around it. A page whose only text is such lines
    keeps them: they are its content (the same word on every slide), not a header above other
    text.
    """
    edges = [_edges(page) for page in pages]
    counts: Counter[str] = Counter()
    for page, edge in zip(pages, edges, strict=True):
        counts.update({_edge_key(page[i]) for i in edge})
    need = max(3, _RUNNING_SHARE * len(pages))

    def sentence(key: str) -> bool:
        return is_prose(key) or (ends_sentence(key) and len(key.split()) >= _SENTENCE_WORDS)

    running = {key for key, n in counts.items() if n >= need and not sentence(key)}
    # A page number beside the chapter's name ("12 1.4. ZUSAMMENHANG") runs over that chapter's
    # pages only: two pages are enough for a line that carries a number at one end.
    running |= {
        key
        for key, n in counts.items()
        if n >= _NUMBERED_PAGES and _NUMBERED.match(key) and not sentence(key)
    }
    out = []
    removed: list[tuple[str, str]] = []
    for page, edge in zip(pages, edges, strict=True):
        numbers = {i for i in edge if _PAGE_NUMBER.match(page[i].strip())}
        repeated = {
            i for i in edge if _edge_key(page[i]) in running and not _reads_on(page, i)
        } - numbers
        kept = [line for i, line in enumerate(page) if i not in numbers | repeated]
        if not any(line.strip() for line in kept):
            kept = [line for i, line in enumerate(page) if i not in numbers]
            repeated = set()
        removed += [(PAGE_NUMBER, page[i]) for i in sorted(numbers)]
        removed += [(RUNNING, page[i]) for i in sorted(repeated)]
        out.append(kept)
    return out, removed
