"""The commands that read a library: search its passages, ask it a question (and the answer as text)."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from typing import Any

from qa_app.cli.opening import EXIT_OK, open_engine, say_pending
from qa_app.cli_support import UsageError, json_text, terminal_safe
from qa_app.contracts import Scope


def add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --in FOLDER and --type FORMAT (where a question or a search looks) to ``parser``."""
    parser.add_argument(
        "--in",
        dest="folder",
        metavar="FOLDER",
        help="only documents in this folder (at any depth), e.g. one case file",
    )
    parser.add_argument(
        "--type",
        dest="types",
        metavar="FORMAT",
        action="append",
        help="only documents of this format, e.g. pdf (repeat or comma-separate for several)",
    )


def scope_of(args: argparse.Namespace) -> Scope | None:
    """Return the Scope that --in and --type ask for (None: the whole library)."""
    folder = getattr(args, "folder", None)
    raw = getattr(args, "types", None) or []
    formats = tuple(
        dict.fromkeys(t.strip().lstrip(".").lower() for v in raw for t in v.split(",") if t.strip())
    )
    if raw and not formats:
        raise UsageError("--type needs a format, e.g. --type pdf")
    if folder is not None:
        if not folder.strip():
            raise UsageError("--in needs a folder")
        folder = os.path.abspath(os.path.expanduser(folder))
        if not os.path.isdir(folder):
            raise UsageError(f"--in {folder}: no such folder")
    scope = Scope(folder=folder, formats=formats)
    return scope or None


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise UsageError("the search query is empty")
    scope = scope_of(args)
    with open_engine(args) as engine:
        say_pending(engine, args.quiet)
        passages = engine.search(args.query, args.k, scope=scope)
    if args.json:
        print(json_text([asdict(p) for p in passages]))
        return EXIT_OK
    if not passages:
        print(
            f"no passages found in {terminal_safe(scope.describe())}"
            if scope
            else "no passages found"
        )
    for rank, p in enumerate(passages, 1):
        page = f" p.{p.page}" if p.page else ""
        where = terminal_safe(f"{p.path} » {p.attachment}" if p.attachment else p.path)
        ocr = " (read by OCR)" if p.ocr else ""
        title = terminal_safe(p.title)
        print(f"{rank:2}. {title} — {where}{page}{ocr} [{p.start}:{p.end}] score {p.score:.4f}")
        snippet = terminal_safe(" ".join(p.text.split()))
        print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from qa_app.answers import result_to_dict

    if not args.question.strip():  # before opening: a usage error whatever the library
        raise UsageError("the question is empty")
    scope = scope_of(args)
    with open_engine(args) as engine:
        say_pending(engine, args.quiet)
        result = engine.ask(
            args.question, args.k, reader=args.reader, threshold=args.threshold, scope=scope
        )
    if args.json:
        print(json_text(result_to_dict(result)))
        return EXIT_OK
    # Names were escaped one by one (a newline in one keeps its line); the rest of the text
    # (answers, sentences, passages) keeps its line breaks but shows any other control escaped.
    print(terminal_safe(format_result(result), lines=True))
    return EXIT_OK


OCR_NOTE = "read by OCR from a scanned image: may contain recognition errors"


def _where(source: Any) -> str:
    """Return a citation's or passage's file, and the attachment it came from if any
    ("/mail/m.eml » report.pdf"), marked when its text was read by OCR."""
    where = f"{source.path} » {source.attachment}" if source.attachment else source.path
    return terminal_safe(where) + (f" ({OCR_NOTE})" if source.ocr else "")


def format_result(result: Any) -> str:
    """Return a Result as readable text: the verdict (answer, possible answer or not found), its
    score and what it means, the marked sentence and sources; for "not found", the closest
    candidate with its score and the closest passages."""
    from qa_app.answers import VERDICT_HEADINGS, evidence_words, mark_answer, verdict_line

    lines: list[str] = []
    kind = result.verdict.kind
    shown = result.answer if kind == "answer" else result.possible
    if shown is None:
        lines.append("Not found in your documents.")
        top = result.top
        if top is not None:
            c = top.citations[0]
            lines.append(
                f"Closest candidate: {terminal_safe(top.text)} ({top.score:.2f}; "
                f"{verdict_line(result)})"
            )
            lines.append(f"  in {_where(c)}: {terminal_safe(mark_answer(c))}")
        if result.passages:
            lines.append("Closest passages:")
            for p in result.passages[:3]:
                snippet = terminal_safe(" ".join(p.text.split()))
                lines.append(f"  - {terminal_safe(p.title)} ({_where(p)}): {snippet[:200]}…")
        return "\n".join(lines)
    lines.append(f"{VERDICT_HEADINGS[kind]}: {terminal_safe(shown.text)}")
    lines.append(f"Score:  {shown.score:.2f}   {evidence_words(shown)}")
    lines.append(f"        ({verdict_line(result)})")
    best = shown.citations[0]
    lines.append(f"Sentence: {terminal_safe(mark_answer(best))}")
    lines.append("Sources:")
    for c in shown.citations:
        page = f", page {c.page}" if c.page else ""
        where = terminal_safe(f"{c.path} » {c.attachment}" if c.attachment else c.path)
        ocr = f" ({OCR_NOTE})" if c.ocr else ""
        lines.append(
            f"  - {terminal_safe(c.title)} — {where}{page} "
            f"[chars {c.answer_start}-{c.answer_end}]{ocr}"
        )
    if result.alternatives:
        alts = ", ".join(f"{terminal_safe(a.text)} ({a.score:.2f})" for a in result.alternatives)
        lines.append(f"Alternatives: {alts}")
    return "\n".join(lines)
