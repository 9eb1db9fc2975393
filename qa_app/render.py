"""A Result for people, one way for every front end: its words, and as text, Markdown and JSON."""

# The command prints ``to_text`` and ``to_json(terminal=True)``; the window copies
# ``clipboard_text``, exports ``to_markdown`` and ``to_json``, and its answer card takes its
# sentences (``score_text``, ``not_found_text``, ``disagree_text``...) from here. Document text is
# data in each: control characters escaped for a terminal, markup escaped in Markdown.

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import asdict
from typing import Any, Protocol

from qa_app.answers import disagreeing
from qa_app.reader.verdicts import NOT_FOUND as NOT_FOUND_KIND
from qa_app.reader.verdicts import band, describe
from qa_app.records import Answer, Citation, Progress, Result, source_name
from qa_app.safe_text import json_text, terminal_safe

NOT_FOUND = "Not found in your documents"
VERDICT_HEADINGS = {"answer": "Answer", "possible": "Possible answer", "not_found": "Not found"}
# The window's badge: a word and a shape as well as a colour, so the three states differ at a glance.
BADGE_WORDS = {
    "answer": "✔ Answer",
    "possible": "? Possible answer: check the source",
    "not_found": "✘ Not found",
}
# Said of a score when the reader has no calibrator: it ranks answers but is not a probability.
UNCALIBRATED_MEANING = "This is the reader's own score, not a calibrated chance of being right."
OCR_LABEL = "read by OCR"
OCR_NOTE = "read by OCR from a scanned image: may contain recognition errors"  # the terminal's
ELIDE_CHARS = 280  # longer headings are cut (the window shows the whole text in a tooltip)
ALTERNATIVE_CHARS = 80  # an answer quoted inside a sentence is cut here


class Source(Protocol):
    """Anything that names where text came from: a Citation, a Passage, the window's source row."""

    @property
    def path(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def page(self) -> int | None: ...
    @property
    def ocr(self) -> bool: ...
    @property
    def attachment(self) -> str | None: ...


# -- words -----------------------------------------------------------------------------------


def plural(count: int, noun: str, many: str | None = None) -> str:
    """Return "1 document", "2 documents" (``many`` for irregular plurals)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def elide(text: str, limit: int = ELIDE_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def file_of(source: Source) -> str:
    """Return a source's file, and the attachment it came from if any ("/mail/m.eml » a.pdf")."""
    return f"{source.path} » {source.attachment}" if source.attachment else source.path


def source_label(title: str, path: str, attachment: str | None) -> str:
    """Return how a document is named in lists: its title, and for an e-mail attachment which
    message it came with ("report.pdf (attached to message.eml)")."""
    if not attachment:
        return title or os.path.basename(path)
    linked = source_name(path, attachment)
    return linked if not title or title == attachment else f"{title} — {linked}"


def citation_label(source: Source, *, dot: bool = False) -> str:
    """Return a source's name, page and OCR mark: "Report, page 2 (read by OCR)", or with ``dot``
    the window's "Report, page 2 · read by OCR"."""
    where = source_label(source.title, source.path, source.attachment)
    where = f"{where}, page {source.page}" if source.page else where
    if not source.ocr:
        return where
    return f"{where} · {OCR_LABEL}" if dot else f"{where} ({OCR_LABEL})"


def ocr_text(tick: Progress) -> str:
    """Return what an "ocr" tick says: "OCR page 3 of 40: scan.pdf" (the page being read)."""
    name = tick.item.replace("\\", "/").rsplit("/", 1)[-1]
    page = min(tick.done + 1, tick.total)
    return f"OCR page {page} of {tick.total}: {name}"


def evidence_words(answer: Answer) -> str:
    """Return where an answer was found, counting copies of one sentence once ("found in 3
    documents, all the same sentence" rather than three confirmations)."""
    docs, sources = answer.documents, answer.sources
    found = f"found in {plural(docs, 'document')}"
    if sources >= docs:
        return found
    if sources == 1:
        return f"{found}, all the same sentence (one source)"
    return f"{found}, {sources} different sentences (copies count once)"


def verdict_line(result: Result) -> str:
    """Return the one plain line on what a result's verdict means, for every front end."""
    v = result.verdict
    if v.kind == "possible":
        return f"{describe(v)}; check the source"
    if v.kind == "not_found" and result.top is not None and v.hit_rate is not None:
        return f"the closest candidate is {describe(v)}"
    return describe(v)


def score_meaning(result: Result) -> str:
    """Return one sentence saying what the result's verdict means."""
    if not result.calibrated:
        return UNCALIBRATED_MEANING
    meaning = verdict_line(result)
    return meaning[:1].upper() + meaning[1:] + "."


def score_text(result: Result, score: float) -> str:
    """Return how to show a score: "Confidence 0.87, very likely" when calibrated, else the
    reader's "Score 0.87"."""
    if not result.calibrated:
        return f"Score {score:.2f}"
    return f"Confidence {score:.2f}, {band(score).words}"


def alternative_text(alt: Answer, *, calibrated: bool) -> str:
    """Return an other candidate as offered: "last year (unlikely, 0.20)", its text cut short."""
    word = f"{band(alt.score).words}, " if calibrated else ""
    return f"{elide(alt.text, ALTERNATIVE_CHARS)} ({word}{alt.score:.2f})"


def disagree_text(answers: tuple[Answer, ...]) -> str:
    """Return "Sources disagree:" with each different answer and the documents that give it."""
    parts = []
    for a in answers:
        docs = sorted({source_label(c.title, c.path, c.attachment) for c in a.citations})
        more = f" and {len(docs) - 2} more" if len(docs) > 2 else ""
        parts.append(f"“{elide(a.text, ALTERNATIVE_CHARS)}” in {', '.join(docs[:2])}{more}")
    return "Sources disagree: " + "; ".join(parts) + ". Check each source."


def not_found_text(result: Result) -> str:
    """Return why nothing was answered: the closest candidate, how likely it is to be right, and
    where to look next."""
    top = result.top
    lines = ["None of the candidates found is likely enough to be right."]
    if top is not None:
        word = f"{band(top.score).words}, " if result.calibrated else ""
        kind = "confidence" if result.calibrated else "score"
        shown = f"{top.score:.2f}" if top.score >= 0.01 else "below 0.01"
        lines = [
            f"The closest candidate, “{elide(top.text, ALTERNATIVE_CHARS)}” ({word}{kind} "
            f"{shown}), is not likely enough to be shown as an answer."
        ]
    lines.append(
        "The closest passages are listed below."
        if result.passages
        else "The library has no passages to search yet."
    )
    return " ".join(lines)


def split_sentence(citation: Citation) -> tuple[str, str, str]:
    """Return the citation's sentence as (text before the answer, the answer, text after)."""
    a = citation.answer_start - citation.sentence_start
    b = citation.answer_end - citation.sentence_start
    s = citation.sentence
    return s[:a], s[a:b], s[b:]


def mark_answer(citation: Citation, before: str = "**", after: str = "**") -> str:
    """Return the citation's sentence with the answer wrapped in ``before``/``after``; formats
    with markup escape the three pieces of :func:`split_sentence` themselves."""
    head, answer, tail = split_sentence(citation)
    return f"{head}{before}{answer}{after}{tail}"


# -- text --------------------------------------------------------------------------------------


def _terminal_where(source: Source) -> str:
    return terminal_safe(file_of(source)) + (f" ({OCR_NOTE})" if source.ocr else "")


def to_text(result: Result) -> str:
    """Return a Result as terminal text (every control character escaped): the verdict, its
    score and what it means, the marked sentence and sources; for "not found", the closest
    candidate with its score and the closest passages."""
    # Names are escaped one by one (a newline in one keeps its line); the rest of the text
    # (answers, sentences, passages) keeps its line breaks but shows any other control escaped.
    return terminal_safe("\n".join(_text_lines(result)), lines=True)


def _text_lines(result: Result) -> list[str]:
    kind = result.verdict.kind
    shown = result.answer if kind == "answer" else result.possible
    if shown is None:
        lines = ["Not found in your documents."]
        top = result.top
        if top is not None:
            c = top.citations[0]
            lines.append(
                f"Closest candidate: {terminal_safe(top.text)} ({top.score:.2f}; "
                f"{verdict_line(result)})"
            )
            lines.append(f"  in {_terminal_where(c)}: {terminal_safe(mark_answer(c))}")
        if result.passages:
            lines.append("Closest passages:")
            for p in result.passages[:3]:
                snippet = terminal_safe(" ".join(p.text.split()))
                lines.append(
                    f"  - {terminal_safe(p.title)} ({_terminal_where(p)}): {snippet[:200]}…"
                )
        return lines
    lines = [
        f"{VERDICT_HEADINGS[kind]}: {terminal_safe(shown.text)}",
        f"Score:  {shown.score:.2f}   {evidence_words(shown)}",
        f"        ({verdict_line(result)})",
        f"Sentence: {terminal_safe(mark_answer(shown.citations[0]))}",
        "Sources:",
    ]
    for c in shown.citations:
        page = f", page {c.page}" if c.page else ""
        ocr = f" ({OCR_NOTE})" if c.ocr else ""
        lines.append(
            f"  - {terminal_safe(c.title)} — {terminal_safe(file_of(c))}{page} "
            f"[chars {c.answer_start}-{c.answer_end}]{ocr}"
        )
    if result.alternatives:
        alts = ", ".join(f"{terminal_safe(a.text)} ({a.score:.2f})" for a in result.alternatives)
        lines.append(f"Alternatives: {alts}")
    return lines


def clipboard_text(result: Result) -> str:
    """Return the question, the answer and its sources as plain text, for pasting into a report."""
    answer = result.answer or result.possible
    if answer is None:
        return f"Q: {result.question}\nA: {NOT_FOUND}."
    kind = "confidence" if result.calibrated else "score"
    words = f"{result.verdict.words}, " if result.verdict.words else ""
    label = "A" if result.answer is not None else "Possible answer (check the source)"
    lines = [f"Q: {result.question}", f"{label}: {answer.text} ({words}{kind} {answer.score:.2f})"]
    for c in answer.citations:
        lines.append(f'Source: {citation_label(c)} ({c.path}): "{c.sentence.strip()}"')
    return "\n".join(lines)


# -- Markdown ----------------------------------------------------------------------------------

# CommonMark lets a backslash escape any ASCII punctuation; these start markup in the middle of a
# line (every exported text is on one line after a fixed prefix, so "#", "-", "1." cannot start a
# block). "<", ">" and "&" are HTML-escaped instead, so a Markdown viewer never fetches anything.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()!|~])")
_SPACE = re.compile(r"\s+")


def md_text(text: str, *, strip: bool = True) -> str:
    """Return ``text`` as inert Markdown: one line, HTML escaped, markup characters backslashed."""
    one_line = _SPACE.sub(" ", text)  # a newline could start a heading, list or HTML block
    one_line = one_line.strip() if strip else one_line
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def to_markdown(result: Result) -> str:
    """Return the whole result (answer, alternatives, sources or closest passages) as Markdown."""
    out = [f"## {md_text(result.question)}", ""]
    shown = result.answer or result.possible
    kind = "confidence" if result.calibrated else "score"
    if shown is None:
        out += [f"**{NOT_FOUND}.**", ""]
        top = result.top
        if top is not None:
            out += [
                f"Closest candidate: {md_text(top.text)} ({kind} {top.score:.2f}). "
                f"{md_text(score_meaning(result))}",
                "",
            ]
        out += ["### Closest passages", ""]
        for p in result.passages:
            where = f"{p.title}, page {p.page}" if p.page else p.title
            out.append(f"- *{md_text(where)}* ({md_text(p.path)}): {md_text(p.text)}")
    else:
        out += [
            f"{VERDICT_HEADINGS[result.verdict.kind]}: **{md_text(shown.text)}** "
            f"({kind} {shown.score:.2f}, {evidence_words(shown)})",
            "",
            f"*{md_text(score_meaning(result))}*",
            "",
            "### Sources",
            "",
        ]
        for c in shown.citations:
            head, answer, tail = split_sentence(c)
            sentence = (
                md_text(head, strip=False) + f"**{md_text(answer)}**" + md_text(tail, strip=False)
                if answer.strip()
                else md_text(c.sentence)
            )
            out.append(
                f"- *{md_text(citation_label(c))}* ({md_text(c.path)}, characters "
                f"{c.answer_start}–{c.answer_end}): {sentence.strip()}"
            )
        for heading, answers in (
            ("Sources disagree", disagreeing(result)),
            ("Other candidates", result.alternatives),
        ):
            if answers:
                out += ["", f"### {heading}", ""]
                for alt in answers:
                    titles = ", ".join(sorted({md_text(citation_label(c)) for c in alt.citations}))
                    out.append(f"- {md_text(alt.text)} ({alt.score:.2f}) — {titles}")
    out += ["", f"*Reader: {md_text(result.reader)}, threshold {result.threshold:.2f}*", ""]
    return "\n".join(out)


# -- JSON --------------------------------------------------------------------------------------


def to_dict(result: Result) -> dict[str, Any]:
    """Return ``result`` as a JSON-ready dict with every field (plus ``found`` and ``documents``)."""

    def answer(a: Answer | None) -> dict[str, Any] | None:
        if a is None:
            return None
        return {
            "text": a.text,
            "score": a.score,
            "documents": a.documents,
            "sources": a.sources,
            "citations": [asdict(c) for c in a.citations],
        }

    v = result.verdict
    return {
        "question": result.question,
        "found": result.found,
        "verdict": v.kind,
        "verdict_words": v.words,
        "verdict_hit_rate": v.hit_rate,
        "score": result.top.score if result.top is not None else None,
        "answer": answer(result.answer),
        "possible_answer": answer(result.possible),
        "alternatives": [answer(a) for a in result.alternatives],
        "passages": [asdict(p) for p in result.passages],
        "reader": result.reader,
        "threshold": result.threshold,
        "calibrated": result.calibrated,
        "score_meaning": (
            "probability that the answer is right (F1 >= 0.5), measured on held-out questions"
            if result.calibrated
            else "reader score (not a calibrated probability)"
        ),
        "closest": answer(result.top) if result.verdict.kind == NOT_FOUND_KIND else None,
        "timings": dict(result.timings),
    }


def to_json(result: Result, *, terminal: bool = False) -> str:
    """Return the result as indented JSON (every field, offsets too); with ``terminal``, the
    characters a terminal could act on are written as \\u escapes as well (it parses the same)."""
    if terminal:
        return json_text(to_dict(result))
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False)
