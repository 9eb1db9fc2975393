"""The ``qa-app`` command: a thin layer over the engine (progress bars, Ctrl-C, exit codes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from qa_app import APP_NAME, __version__
from qa_app.cli_support import (
    UsageError,
    no_display,
    plural,
    positive_int,
    show_warnings,
    unit_float,
)
from qa_app.console import Interrupt, ProgressBar
from qa_app.contracts import DEFAULT_K
from qa_app.models import threads

if TYPE_CHECKING:
    from qa_app.engine import Engine
    from qa_app.records import SyncReport

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_BUSY, EXIT_CANCELLED = 0, 1, 2, 3, 130


def _open(args: argparse.Namespace, *, ready: bool = True, create: bool = False) -> Engine:
    """Open the library for reading (a missing one is an error unless ``create``); with ``ready``,
    build the default library from the bundled seeds on first use (the one write on opening)."""
    from qa_app.engine import Engine

    engine = Engine(args.library, reader=getattr(args, "reader", None), create=create)
    for notice in engine.notices:
        print(f"note: {notice}", file=sys.stderr)
    if ready and engine.needs_seeding:
        bar = ProgressBar(args.quiet)
        try:
            with Interrupt() as stop:
                report = engine.seed(bar, stop)
        finally:
            bar.close()
        if report.added and not args.quiet:
            print(
                f"built library '{engine.name}' from {plural(len(report.added), 'bundled document')}",
                file=sys.stderr,
            )
    return engine


def _say_pending(engine: Engine, quiet: bool) -> None:
    waiting = engine.pending()
    if waiting and not quiet:
        print(
            f"note: {plural(waiting, 'passage')} not embedded yet (keyword search finds "
            "them already); 'qa-app sync' finishes them",
            file=sys.stderr,
        )


def _print_report(report: SyncReport, quiet: bool) -> int:
    if not quiet:
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, removed "
            f"{len(report.removed)}, unchanged {report.unchanged}, failed {len(report.failed)} "
            f"({plural(report.chunks_embedded, 'passage')} embedded in {report.seconds:.1f}s)"
        )
    for notice in report.notices:
        print(f"note: {notice}", file=sys.stderr)
    for failure in report.failed:
        print(f"error: {failure.path}: {failure.reason}", file=sys.stderr)
    if report.cancelled:
        print("stopped: finished files are kept; run 'qa-app sync' to resume", file=sys.stderr)
        return EXIT_CANCELLED
    return EXIT_FAILED_FILES if report.failed else EXIT_OK


def _indexing(args: argparse.Namespace, work: Callable[..., SyncReport]) -> int:
    bar = ProgressBar(args.quiet)
    try:
        with Interrupt() as stop:
            report = work(bar, stop)
    finally:
        bar.close()
    return _print_report(report, args.quiet)


def cmd_add(args: argparse.Namespace) -> int:
    with _open(args, create=True) as engine:
        if args.ocr is not None and args.ocr != engine.ocr:
            engine.set_ocr(args.ocr)  # remembered: later syncs read this library so too
            _say_ocr(engine, args.quiet)
        return _indexing(args, lambda bar, stop: engine.add(args.paths, bar, stop))


def _say_ocr(engine: Engine, quiet: bool) -> None:
    if not quiet:
        state = "on" if engine.ocr else "off"
        print(f"OCR is {state} for library '{engine.name}'", file=sys.stderr)


def cmd_ocr(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        if args.state is None:
            print(f"OCR is {'on' if engine.ocr else 'off'} for library '{engine.name}'")
            return EXIT_OK
        changed = engine.set_ocr(args.state == "on")
        _say_ocr(engine, args.quiet)
        if not changed:
            return EXIT_OK
        # The files whose text OCR changes are read again now, with progress and Ctrl-C.
        return _indexing(args, lambda bar, stop: engine.sync(bar, stop))


def cmd_sync(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        return _indexing(args, lambda bar, stop: engine.sync(bar, stop))


def cmd_rebuild(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        return _indexing(args, lambda bar, stop: engine.rebuild(bar, stop))


def cmd_remove(args: argparse.Namespace) -> int:
    with _open(args, ready=False) as engine:
        removed = engine.remove(args.paths)
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("nothing in the library matched", file=sys.stderr)
        return EXIT_FAILED_FILES
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        docs = engine.documents()
    if args.json:
        print(json.dumps([asdict(d) for d in docs], indent=2))
        return EXIT_OK
    for doc in docs:
        pages = f"{doc.pages}p" if doc.pages else "-"
        passages = "passage " if doc.chunks == 1 else "passages"
        where = f"{doc.path} » {doc.attachment}" if doc.attachment else doc.path
        line = f"{doc.status:8} {doc.format:5} {pages:>5} {doc.chunks:5} {passages}  {where}"
        print(line + (f"\n         error: {doc.error}" if doc.error else ""))
    indexed = sum(d.status not in ("failed", "excluded") for d in docs)
    print(f"{plural(indexed, 'document')} in library '{args.library or 'seeds'}'")
    return EXIT_OK


def _find(docs: Sequence[Any], wanted: str) -> Any:
    """Return the document whose id or path is ``wanted``; raise UsageError naming it if none."""
    if wanted.isdigit():
        for doc in docs:
            if doc.id == int(wanted):
                return doc
    candidates = {wanted, os.path.abspath(os.path.expanduser(wanted))}
    candidates.add(os.path.realpath(os.path.expanduser(wanted)))
    for doc in docs:
        if doc.path in candidates:
            return doc
    raise UsageError(
        f"no document {wanted!r} in this library (see 'qa-app list' for ids and paths)"
    )


def cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as engine:
        doc = _find(engine.documents(), args.document)
        text = engine.document_text(doc.id) if doc.status != "failed" else ""
    if args.json:
        print(json.dumps({**asdict(doc), "text": text}, indent=2, ensure_ascii=False))
    elif args.text:
        sys.stdout.write(text)
    else:
        pages = f", {plural(doc.pages, 'page')}" if doc.pages else ""
        print(f"{doc.title}\n{doc.path}")
        if doc.attachment:
            print(f"attachment {doc.attachment} of the message above (document {doc.parent_id})")
        print(f"id {doc.id}, {doc.format}{pages}, {plural(doc.chunks, 'passage')}, {doc.status}")
        if doc.error:
            print(f"error: {doc.error}")
        print(f"\n{text}")
    return EXIT_FAILED_FILES if doc.status == "failed" else EXIT_OK


def cmd_libraries(args: argparse.Namespace) -> int:
    from qa_app import paths
    from qa_app.engine import Engine

    if args.library is not None:
        raise UsageError("'libraries' lists every library: it takes no --library")

    names = Engine.libraries()
    for name in names:
        print(name)
    if not names:
        print(f"no libraries yet under {paths.libraries_dir()}", file=sys.stderr)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise UsageError("the search query is empty")
    with _open(args) as engine:
        _say_pending(engine, args.quiet)
        passages = engine.search(args.query, args.k)
    if args.json:
        print(json.dumps([asdict(p) for p in passages], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not passages:
        print("no passages found")
    for rank, p in enumerate(passages, 1):
        page = f" p.{p.page}" if p.page else ""
        where = f"{p.path} » {p.attachment}" if p.attachment else p.path
        ocr = " (read by OCR)" if p.ocr else ""
        print(f"{rank:2}. {p.title} — {where}{page}{ocr} [{p.start}:{p.end}] score {p.score:.4f}")
        snippet = " ".join(p.text.split())
        print(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    return EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from qa_app.answers import result_to_dict

    if not args.question.strip():  # before opening: a usage error whatever the library
        raise UsageError("the question is empty")
    with _open(args) as engine:
        _say_pending(engine, args.quiet)
        result = engine.ask(args.question, args.k, reader=args.reader, threshold=args.threshold)
    if args.json:
        print(json.dumps(result_to_dict(result), indent=2, ensure_ascii=False))
        return EXIT_OK
    print(format_result(result))
    return EXIT_OK


OCR_NOTE = "read by OCR from a scanned image: may contain recognition errors"


def _where(source: Any) -> str:
    """Return a citation's or passage's file, and the attachment it came from if any
    ("/mail/m.eml » report.pdf"), marked when its text was read by OCR."""
    where = f"{source.path} » {source.attachment}" if source.attachment else source.path
    return where + (f" ({OCR_NOTE})" if source.ocr else "")


def format_result(result: Any) -> str:
    """Return a Result as readable text: answer, confidence and its meaning, marked sentence,
    sources; for "not found", the closest candidate with its score and the closest passages."""
    from qa_app.answers import describe_confidence, mark_answer

    lines: list[str] = []
    if result.answer is None:
        lines.append(
            f"Not found in your documents (no answer reached the {result.threshold:.2f} "
            "confidence needed)."
        )
        top = result.top
        if top is not None:
            c = top.citations[0]
            meaning = f": {describe_confidence(top.score)}" if result.calibrated else ""
            lines.append(f"Closest candidate: {top.text} ({top.score:.2f}{meaning})")
            lines.append(f"  in {_where(c)}: {mark_answer(c)}")
        if result.passages:
            lines.append("Closest passages:")
            for p in result.passages[:3]:
                snippet = " ".join(p.text.split())
                lines.append(f"  - {p.title} ({_where(p)}): {snippet[:200]}…")
        return "\n".join(lines)
    answer = result.answer
    lines.append(f"Answer: {answer.text}")
    lines.append(f"Score:  {answer.score:.2f}   found in {plural(answer.documents, 'document')}")
    if result.calibrated:
        lines.append(f"        ({describe_confidence(answer.score)})")
    best = answer.citations[0]
    lines.append(f"Sentence: {mark_answer(best)}")
    lines.append("Sources:")
    for c in answer.citations:
        page = f", page {c.page}" if c.page else ""
        where = f"{c.path} » {c.attachment}" if c.attachment else c.path
        ocr = f" ({OCR_NOTE})" if c.ocr else ""
        lines.append(f"  - {c.title} — {where}{page} [chars {c.answer_start}-{c.answer_end}]{ocr}")
    if result.alternatives:
        alts = ", ".join(f"{a.text} ({a.score:.2f})" for a in result.alternatives)
        lines.append(f"Alternatives: {alts}")
    return "\n".join(lines)


def cmd_gui(args: argparse.Namespace) -> int:
    reason = no_display()
    if reason:
        raise UsageError(reason)
    if args.library is not None:
        from qa_app.paths import check_library_name

        name = check_library_name(args.library)
        from qa_app.gui.settings import AppSettings

        # The window opens the library it opened last; this makes it NAME (as choosing it in
        # the window would).
        AppSettings().library = name
    from qa_app.gui.app import main as gui_main

    return int(gui_main(["qa-app", *getattr(args, "paths", [])]) or 0)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # The same options before the command (defaults set there) and after it (SUPPRESS: a
    # sub-command only overrides what was given, so "-l x list" and "list -l x" both work).
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--library",
        "-l",
        metavar="NAME",
        default=default,
        help="library to use (default: the bundled 'seeds')",
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="no progress bar or summary",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``qa-app`` command."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Answer questions from your own documents, offline. "
        "With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "add", parents=[common], help="add files or folders (recursive) and index them"
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    ocr = p.add_mutually_exclusive_group()
    ocr.add_argument(
        "--ocr",
        dest="ocr",
        action="store_const",
        const=True,
        default=None,
        help="read scanned pages and images by OCR in this library (the default; remembered)",
    )
    ocr.add_argument(
        "--no-ocr",
        dest="ocr",
        action="store_const",
        const=False,
        help="do not OCR in this library (remembered; 'qa-app ocr on' undoes it)",
    )
    p.set_defaults(func=cmd_add)
    p = sub.add_parser(
        "ocr",
        parents=[common],
        help="show, or switch on or off, OCR of scanned pages and images for a library",
    )
    p.add_argument(
        "state",
        nargs="?",
        choices=("on", "off"),
        help="on: scanned PDF pages, images and scanned attachments are read by OCR; off: they "
        "are not. The files this changes are read again at once. Without it: show the setting",
    )
    p.set_defaults(func=cmd_ocr)
    p = sub.add_parser("remove", parents=[common], help="remove files or folders from the library")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=cmd_remove)
    p = sub.add_parser("sync", parents=[common], help="re-read added folders: index changes")
    p.set_defaults(func=cmd_sync)
    p = sub.add_parser(
        "rebuild",
        parents=[common],
        help="rebuild the index after a model, chunking or version change; finish waiting passages",
    )
    p.set_defaults(func=cmd_rebuild)
    p = sub.add_parser("list", parents=[common], help="list the library's documents")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser(
        "show",
        parents=[common],
        help="print a document's stored text (what citation offsets point into) and metadata",
    )
    p.add_argument("document", metavar="DOC", help="document id (from 'list --json') or path")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="metadata and text as one JSON object")
    how.add_argument("--text", action="store_true", help="the text only, exactly as stored")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("libraries", help="list libraries")
    p.set_defaults(func=cmd_libraries)
    p = sub.add_parser("search", parents=[common], help="show the passages that match a query")
    p.add_argument("query")
    p.add_argument(
        "-k", type=positive_int, default=DEFAULT_K, help=f"passages to show (default {DEFAULT_K})"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("ask", parents=[common], help="answer a question from the library")
    p.add_argument("question")
    p.add_argument(
        "-k", type=positive_int, default=DEFAULT_K, help=f"passages to read (default {DEFAULT_K})"
    )
    p.add_argument("--reader", help="reader to use (default: the best installed)")
    p.add_argument(
        "--threshold",
        type=unit_float,
        metavar="X",
        help="answer score (0 to 1) below which to say 'not found'",
    )
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(func=cmd_ask)
    from qa_app.cli import eval_command as eval_cli  # imports nothing of this module: no circle

    eval_cli.add_parser(sub, parents=[common])
    p = sub.add_parser("gui", parents=[common], help="open the window")
    p.add_argument("paths", nargs="*", help="files or folders to add to the library it opens")
    p.set_defaults(func=cmd_gui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    threads.configure()
    parser = build_parser()
    args = parser.parse_args(argv)
    show_warnings(bool(getattr(args, "quiet", False)))
    func = getattr(args, "func", None) or cmd_gui
    from qa_app.index.database import StoreError
    from qa_app.index.locking import LibraryBusy
    from qa_app.models.embedding import ModelError

    try:
        return int(func(args))
    except LibraryBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (UsageError, ModelError, StoreError, ValueError, KeyError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. a full disk outside the database; said in one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return EXIT_CANCELLED


def run(argv: Sequence[str] | None = None) -> int:
    """The ``qa-app`` program: main(), then, for every command but the window, a quick exit.

    Once a command has returned, its output is printed and its library closed (every command
    closes its engine, and so its SQLite connections, before returning). What is left is the
    interpreter tearing down torch, ONNX Runtime and faiss, over a second of native destructors
    that change nothing on disk, so the process leaves without it once its output is flushed.
    The window returns normally: Qt writes its settings while it shuts down.
    """
    code = main(argv)
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] == "gui" or args[0].startswith("-"):
        return code
    import logging

    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the reader is gone, nothing left to tell
        code = code or EXIT_FAILED_FILES
    os._exit(code)


if __name__ == "__main__":
    sys.exit(run())
