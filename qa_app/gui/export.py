"""A result as text for pasting into a report, as Markdown and as JSON (no Qt here)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from qa_app.records import Citation, Result

NOT_FOUND = "Not found in your documents"


def _where(citation: Citation) -> str:
    return f"{citation.title}, page {citation.page}" if citation.page else citation.title


def answer_with_citation(result: Result) -> str:
    """Return the answer and its sources as plain text, e.g. for the clipboard."""
    if result.answer is None:
        return f"Q: {result.question}\nA: {NOT_FOUND}."
    answer = result.answer
    lines = [f"Q: {result.question}", f"A: {answer.text} (confidence {answer.score:.2f})"]
    for c in answer.citations:
        lines.append(f'Source: {_where(c)} ({c.path}): "{c.sentence.strip()}"')
    return "\n".join(lines)


def to_markdown(result: Result) -> str:
    """Return the whole result (answer, alternatives, sources or closest passages) as Markdown."""
    out = [f"## {result.question}", ""]
    if result.answer is None:
        out += [f"**{NOT_FOUND}.**", "", "### Closest passages", ""]
        for p in result.passages:
            where = f"{p.title}, page {p.page}" if p.page else p.title
            out.append(f"- *{where}* (`{p.path}`): {p.text.strip()}")
    else:
        a = result.answer
        out += [
            f"**{a.text}** (confidence {a.score:.2f}, found in {a.documents} document"
            f"{'' if a.documents == 1 else 's'})",
            "",
            "### Sources",
            "",
        ]
        for c in a.citations:
            rel_a, rel_b = c.answer_start - c.sentence_start, c.answer_end - c.sentence_start
            sentence = c.sentence
            if 0 <= rel_a <= rel_b <= len(sentence):
                sentence = f"{sentence[:rel_a]}**{sentence[rel_a:rel_b]}**{sentence[rel_b:]}"
            out.append(
                f"- *{_where(c)}* (`{c.path}`, characters {c.answer_start}–{c.answer_end}): "
                f"{sentence.strip()}"
            )
        if result.alternatives:
            out += ["", "### Other possible answers", ""]
            for alt in result.alternatives:
                titles = ", ".join(sorted({_where(c) for c in alt.citations}))
                out.append(f"- {alt.text} ({alt.score:.2f}) — {titles}")
    out += ["", f"*Reader: {result.reader}, threshold {result.threshold:.2f}*", ""]
    return "\n".join(out)


def to_json(result: Result) -> str:
    """Return the result as indented JSON (every record field, offsets included)."""
    data = asdict(result)
    data["found"] = result.found
    return json.dumps(data, indent=2, ensure_ascii=False)


def save(target: str, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all (via a ``.part`` file); raises OSError."""
    partial = Path(f"{target}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
