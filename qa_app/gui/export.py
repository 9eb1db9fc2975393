"""A result as text for pasting into a report, as Markdown and as JSON (no Qt here)."""

# Document text is data: in Markdown every character that could start markup (HTML, links,
# images, emphasis, code, tables) is escaped, so an exported answer renders exactly as written
# and a Markdown viewer never fetches anything a document names.

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

from qa_app.answers import (
    VERDICT_HEADINGS,
    disagreeing,
    evidence_words,
    result_to_dict,
    split_sentence,
    verdict_line,
)
from qa_app.records import Citation, Result, source_name

NOT_FOUND = "Not found in your documents"
# Said of a score when the reader has no calibrator: it ranks answers but is not a probability.
UNCALIBRATED_MEANING = "This is the reader's own score, not a calibrated chance of being right."

# CommonMark lets a backslash escape any ASCII punctuation; these start markup in the middle of a
# line (every exported text is on one line after a fixed prefix, so "#", "-", "1." cannot start a
# block). "<", ">" and "&" are HTML-escaped instead.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()!|~])")
_SPACE = re.compile(r"\s+")


def md_text(text: str, *, strip: bool = True) -> str:
    """Return ``text`` as inert Markdown: one line, HTML escaped, markup characters backslashed."""
    one_line = _SPACE.sub(" ", text)  # a newline could start a heading, list or HTML block
    one_line = one_line.strip() if strip else one_line
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=False))


def score_meaning(result: Result) -> str:
    """Return one line saying what the result's verdict means (the core's wording)."""
    if not result.calibrated:
        return UNCALIBRATED_MEANING
    meaning = verdict_line(result)
    return meaning[:1].upper() + meaning[1:] + "."


def _where(citation: Citation) -> str:
    where = citation.title
    if citation.attachment:
        linked = source_name(citation.path, citation.attachment)
        where = linked if where == citation.attachment else f"{where} — {linked}"
    where = f"{where}, page {citation.page}" if citation.page else where
    return f"{where} (read by OCR)" if citation.ocr else where


def answer_with_citation(result: Result) -> str:
    """Return the answer and its sources as plain text, e.g. for the clipboard."""
    answer = result.answer or result.possible
    if answer is None:
        return f"Q: {result.question}\nA: {NOT_FOUND}."
    kind = "confidence" if result.calibrated else "score"
    words = f"{result.verdict.words}, " if result.verdict.words else ""
    label = "A" if result.answer is not None else "Possible answer (check the source)"
    lines = [f"Q: {result.question}", f"{label}: {answer.text} ({words}{kind} {answer.score:.2f})"]
    for c in answer.citations:
        lines.append(f'Source: {_where(c)} ({c.path}): "{c.sentence.strip()}"')
    return "\n".join(lines)


def to_markdown(result: Result) -> str:
    """Return the whole result (answer, alternatives, sources or closest passages) as Markdown."""
    out = [f"## {md_text(result.question)}", ""]
    shown = result.answer or result.possible
    if shown is None:
        out += [f"**{NOT_FOUND}.**", ""]
        top = result.top
        if top is not None:
            kind = "confidence" if result.calibrated else "score"
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
        a = shown
        kind = "confidence" if result.calibrated else "score"
        heading = VERDICT_HEADINGS[result.verdict.kind]
        out += [
            f"{heading}: **{md_text(a.text)}** ({kind} {a.score:.2f}, {evidence_words(a)})",
            "",
            f"*{md_text(score_meaning(result))}*",
            "",
            "### Sources",
            "",
        ]
        for c in a.citations:
            head, answer, tail = split_sentence(c)  # the core's one way to mark the answer
            sentence = (
                md_text(head, strip=False) + f"**{md_text(answer)}**" + md_text(tail, strip=False)
                if answer.strip()
                else md_text(c.sentence)
            )
            out.append(
                f"- *{md_text(_where(c))}* ({md_text(c.path)}, characters "
                f"{c.answer_start}–{c.answer_end}): {sentence.strip()}"
            )
        differ = disagreeing(result)
        if differ:
            out += ["", "### Sources disagree", ""]
            for alt in differ:
                titles = ", ".join(sorted({md_text(_where(c)) for c in alt.citations}))
                out.append(f"- {md_text(alt.text)} ({alt.score:.2f}) — {titles}")
        if result.alternatives:
            out += ["", "### Other candidates", ""]
            for alt in result.alternatives:
                titles = ", ".join(sorted({md_text(_where(c)) for c in alt.citations}))
                out.append(f"- {md_text(alt.text)} ({alt.score:.2f}) — {titles}")
    out += ["", f"*Reader: {md_text(result.reader)}, threshold {result.threshold:.2f}*", ""]
    return "\n".join(out)


def to_json(result: Result) -> str:
    """Return the result as indented JSON: the core's serialisation (every field, offsets too)."""
    return json.dumps(result_to_dict(result), indent=2, ensure_ascii=False)


def save(target: str, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all (via a ``.part`` file); raises OSError."""
    partial = Path(f"{target}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
