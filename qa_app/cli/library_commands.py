"""The commands that change or list a library: add, ocr, sync, rebuild, remove, list, show, libraries."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from qa_app.cli.opening import EXIT_FAILED_FILES, EXIT_OK, open_engine, run_indexing
from qa_app.cli_support import UsageError, plural

if TYPE_CHECKING:
    from qa_app.engine import Engine


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


def cmd_remove(args: argparse.Namespace) -> int:
    with open_engine(args, ready=False) as engine:
        removed = engine.remove(args.paths)
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("nothing in the library matched", file=sys.stderr)
        return EXIT_FAILED_FILES
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    with open_engine(args) as engine:
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
    with open_engine(args) as engine:
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
