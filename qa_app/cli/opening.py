"""How a command opens its library, runs indexing under a progress bar and Ctrl-C, and exits."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from qa_app.cli.console import Interrupt, ProgressBar
from qa_app.render import plural
from qa_app.safe_text import terminal_safe

if TYPE_CHECKING:
    from qa_app.contracts import Engine
    from qa_app.records import SyncReport

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_BUSY, EXIT_CANCELLED = 0, 1, 2, 3, 130


def open_engine(args: argparse.Namespace, *, ready: bool = True, create: bool = False) -> Engine:
    """Open the library for reading (a missing one is an error unless ``create``); with ``ready``,
    build the default library from the bundled seeds on first use (the one write on opening)."""
    from qa_app.engine import Engine as LibraryEngine

    server = getattr(args, "server", None)
    if server is not None:
        from qa_app.server.saved import check_name_free

        check_name_free(args.library or "seeds")
    engine: Engine = LibraryEngine(
        args.library, reader=getattr(args, "reader", None), create=create, server=server
    )
    if server is not None:
        try:
            remember_server(engine.name, server, args.quiet)
        except BaseException:
            engine.close()
            raise
    for notice in engine.notices:
        print(f"note: {terminal_safe(notice)}", file=sys.stderr)
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


def remember_server(name: str, server: str, quiet: bool) -> None:
    """Remember the server of library ``name`` (later commands and the window find it by name);
    say that a password written in the connection string is not kept."""
    from qa_app.server.saved import remember
    from qa_app.server.settings import has_password

    remember(name, server)
    if has_password(server) and not quiet:
        print(
            "note: the password in the server address is not saved; later commands take it "
            "from PGPASSWORD or ~/.pgpass",
            file=sys.stderr,
        )


def say_pending(engine: Engine, quiet: bool) -> None:
    """Tell (unless quiet) how many passages still wait for an embedding."""
    waiting = engine.pending()
    if waiting and not quiet:
        print(
            f"note: {plural(waiting, 'passage')} not embedded yet (keyword search finds "
            "them already); 'qa-app sync' finishes them",
            file=sys.stderr,
        )


def print_report(report: SyncReport, quiet: bool) -> int:
    """Print a sync report (summary, notices, failures); return the exit status it means."""
    if not quiet:
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, removed "
            f"{len(report.removed)}, unchanged {report.unchanged}, failed {len(report.failed)} "
            f"({plural(report.chunks_embedded, 'passage')} embedded in {report.seconds:.1f}s)"
        )
    for notice in report.notices:
        print(f"note: {terminal_safe(notice)}", file=sys.stderr)
    for failure in report.failed:  # the path and the reason (an attachment's name) are data
        print(
            f"error: {terminal_safe(failure.path)}: {terminal_safe(failure.reason)}",
            file=sys.stderr,
        )
    if report.cancelled:
        print("stopped: finished files are kept; run 'qa-app sync' to resume", file=sys.stderr)
        return EXIT_CANCELLED
    return EXIT_FAILED_FILES if report.failed else EXIT_OK


def run_indexing(args: argparse.Namespace, work: Callable[..., SyncReport]) -> int:
    """Run ``work(progress, cancel)`` under a progress bar and Ctrl-C; return its exit status."""
    bar = ProgressBar(args.quiet)
    try:
        with Interrupt() as stop:
            report = work(bar, stop)
    finally:
        bar.close()
    return print_report(report, args.quiet)
