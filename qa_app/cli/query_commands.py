"""The commands that read a library: search its passages, ask it a question (qa_app.render says the answer)."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict

from qa_app import render
from qa_app.cli.arguments import UsageError
from qa_app.cli.opening import EXIT_OK, open_engine, say_pending
from qa_app.contracts import Scope
from qa_app.safe_text import json_text, terminal_safe


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
        where = terminal_safe(render.file_of(p))
        ocr = " (read by OCR)" if p.ocr else ""
        title = terminal_safe(p.title)
        print(f"{rank:2}. {title} — {where}{page}{ocr} [{p.start}:{p.end}] score {p.score:.4f}")
        snippet = terminal_safe(" ".join(p.text.split()))
        print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    if not args.question.strip():  # before opening: a usage error whatever the library
        raise UsageError("the question is empty")
    scope = scope_of(args)
    with open_engine(args) as engine:
        say_pending(engine, args.quiet)
        result = engine.ask(
            args.question, args.k, reader=args.reader, threshold=args.threshold, scope=scope
        )
    print(render.to_json(result, terminal=True) if args.json else render.to_text(result))
    return EXIT_OK
