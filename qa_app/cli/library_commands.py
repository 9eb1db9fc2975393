"""The commands that change or list a library: add, ocr, sync, rebuild, remove, list, show, libraries."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from qa_app.cli.arguments import UsageError
from qa_app.cli.opening import EXIT_FAILED_FILES, EXIT_OK, open_engine, run_indexing
from qa_app.render import plural
from qa_app.safe_text import json_text, terminal_safe

if TYPE_CHECKING:
    from qa_app.contracts import Engine


def cmd_add(args: argparse.Namespace) -> int:
    with open_engine(args, create=True) as engine:
        if args.ocr is not None and args.ocr != engine.ocr:
            engine.set_ocr(args.ocr)  # remembered: later syncs read this library so too
            _say_ocr(engine, args.quiet)
        return run_indexing(args, lambda bar, stop: engine.add(args.paths, bar, stop))


def _say_ocr(engine: Engine, quiet: bool) -> None:
    if not quiet:
        state = "on" if engine.ocr else "off"
        print(f"OCR is {state} for library '{engine.name}'", file=sys.stderr)


def cmd_ocr(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        if args.state is None:
            print(f"OCR is {'on' if engine.ocr else 'off'} for library '{engine.name}'")
            return EXIT_OK
        changed = engine.set_ocr(args.state == "on")
        _say_ocr(engine, args.quiet)
        if not changed:
            return EXIT_OK
        # The files whose text OCR changes are read again now, with progress and Ctrl-C.
        return run_indexing(args, lambda bar, stop: engine.sync(bar, stop))


def cmd_sync(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        return run_indexing(args, lambda bar, stop: engine.sync(bar, stop))


def cmd_rebuild(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        return run_indexing(args, lambda bar, stop: engine.rebuild(bar, stop))


def cmd_repair(args: argparse.Namespace) -> int:
    from qa_app.cli.console import Interrupt, ProgressBar
    from qa_app.cli.opening import print_report
    from qa_app.engine import library_admin

    bar = ProgressBar(args.quiet)
    try:
        with Interrupt() as stop:
            repaired = library_admin().repair_library(args.library, bar, stop)
    finally:
        bar.close()
    print(f"the damaged database is kept as {terminal_safe(str(repaired.kept))}", file=sys.stderr)
    print(
        f"recovered {plural(len(repaired.roots), 'added file or folder', 'added files and folders')}"
        f" of library '{args.library or 'seeds'}'"
    )
    status = print_report(repaired.sync, args.quiet)
    for part in repaired.unreadable:
        print(f"error: could not be read from the damaged database: {part}", file=sys.stderr)
    for path in repaired.lost:
        print(
            f"error: {terminal_safe(path)}: not recovered (it was in the damaged library; its "
            "file is gone or could not be read)",
            file=sys.stderr,
        )
    if repaired.unreadable and not repaired.roots:
        print("note: add the library's files and folders again with 'qa-app add'", file=sys.stderr)
    return status or (EXIT_FAILED_FILES if repaired.lost or repaired.unreadable else EXIT_OK)


def cmd_remove(args: argparse.Namespace) -> int:
    with open_engine(args, ready=False) as engine:
        removed = engine.remove(args.paths)
    for path in removed:
        print(f"removed {terminal_safe(path)}")
    if not removed:
        print("nothing in the library matched", file=sys.stderr)
        return EXIT_FAILED_FILES
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        docs = engine.documents()
    if args.json:
        print(json_text([asdict(d) for d in docs]))
        return EXIT_OK
    for doc in docs:
        pages = f"{doc.pages}p" if doc.pages else "-"
        passages = "passage " if doc.chunks == 1 else "passages"
        where = terminal_safe(f"{doc.path} » {doc.attachment}" if doc.attachment else doc.path)
        kind = terminal_safe(doc.format)
        line = f"{doc.status:8} {kind:5} {pages:>5} {doc.chunks:5} {passages}  {where}"
        print(line + (f"\n         error: {terminal_safe(doc.error)}" if doc.error else ""))
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
        f"no document {terminal_safe(repr(wanted))} in this library (see 'qa-app list' for ids "
        "and paths)"
    )


def cmd_show(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
        doc = _find(engine.documents(), args.document)
        text = engine.document_text(doc.id) if doc.status != "failed" else ""
    if args.json:
        print(json_text({**asdict(doc), "text": text}))
    elif args.text:
        # Exactly as stored into a pipe or file; on a terminal, controls are shown escaped.
        sys.stdout.write(terminal_safe(text, lines=True) if sys.stdout.isatty() else text)
    else:
        pages = f", {plural(doc.pages, 'page')}" if doc.pages else ""
        print(f"{terminal_safe(doc.title)}\n{terminal_safe(doc.path)}")
        if doc.attachment:
            print(
                f"attachment {terminal_safe(doc.attachment)} of the message above "
                f"(document {doc.parent_id})"
            )
        kind = terminal_safe(doc.format)
        print(f"id {doc.id}, {kind}{pages}, {plural(doc.chunks, 'passage')}, {doc.status}")
        if doc.error:
            print(f"error: {terminal_safe(doc.error)}")
        if doc.left_out:  # what the loader left out on purpose, by rule (--json: examples)
            left = ", ".join(f"{x.rule} {x.count:,}" for x in doc.left_out)
            print(f"left out on purpose: {terminal_safe(left)}")
        print(f"\n{terminal_safe(text, lines=True)}")
    return EXIT_FAILED_FILES if doc.status == "failed" else EXIT_OK


def cmd_libraries(args: argparse.Namespace) -> int:
    from qa_app import paths
    from qa_app.engine import library_admin

    if args.library is not None:
        raise UsageError("'libraries' lists every library: it takes no --library")

    if getattr(args, "server", None) is not None:  # the team libraries on that server
        from qa_app.server.manage import library_names

        for name in library_names(args.server):
            print(terminal_safe(name))
        return EXIT_OK
    from qa_app.server.saved import saved_servers
    from qa_app.server.settings import mask

    names = library_admin().libraries()
    servers = saved_servers()
    for name in names:
        where = f"  (team library on {mask(servers[name])})" if name in servers else ""
        print(terminal_safe(name + where))
    if not names:
        print(f"no libraries yet under {paths.libraries_dir()}", file=sys.stderr)
    return EXIT_OK
