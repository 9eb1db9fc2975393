"""The ``qa-app`` command: its parser, the window command, and exit statuses for every error."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from qa_app import APP_NAME, __version__, logfile
from qa_app.cli.arguments import UsageError, positive_int, unit_float
from qa_app.cli.console import show_warnings
from qa_app.cli.library_commands import (
    cmd_add,
    cmd_libraries,
    cmd_list,
    cmd_ocr,
    cmd_rebuild,
    cmd_remove,
    cmd_repair,
    cmd_show,
    cmd_sync,
)
from qa_app.cli.opening import EXIT_BUSY, EXIT_CANCELLED, EXIT_FAILED_FILES, EXIT_OK, EXIT_USAGE
from qa_app.cli.query_commands import add_scope_arguments, cmd_ask, cmd_search
from qa_app.contracts import DEFAULT_K
from qa_app.errors import QaAppError
from qa_app.logfile import LEVEL_ENV
from qa_app.models import threads
from qa_app.safe_text import terminal_safe

log = logging.getLogger(__name__)
EXIT_BUG = 70  # sysexits' EX_SOFTWARE: an internal error, reported with the log file's path
LOG_ONLY = {"log_only": True}  # a record for the log file alone: the command prints its own line


def cmd_gui(args: argparse.Namespace) -> int:
    from qa_app.gui.app import no_display

    reason = no_display()
    if reason:
        raise UsageError(reason)
    if getattr(args, "server", None) is not None:
        from qa_app.cli.opening import remember_server

        if args.library is None:
            raise UsageError("--server needs --library NAME: the team library to open")
        remember_server(args.library, args.server, args.quiet)  # the window opens it by name
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
        "--server",
        metavar="URL",
        default=default,
        help="a team library on a PostgreSQL server with pgvector, e.g. "
        "postgresql://USER@HOST/DATABASE (remembered for the library's name; the password "
        "comes from PGPASSWORD or ~/.pgpass, never from here)",
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="no progress bar or summary",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help=f"write details to the log file, not only warnings and errors (or set "
        f"{LEVEL_ENV}=DEBUG, INFO, WARNING or ERROR); 'qa-app --version' says where it is",
    )


class _Version(argparse.Action):
    """``--version``: the version, and where the log file is (to attach to a bug report)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.update(nargs=0, default=argparse.SUPPRESS)
        super().__init__(option_strings, argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from qa_app.logfile import log_file

        print(f"{APP_NAME} {__version__}\nlog file: {log_file()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``qa-app`` command."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Answer questions from your own documents, offline. "
        "With no command, opens the window.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and the log file")
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
    p = sub.add_parser(
        "repair",
        parents=[common],
        help="rebuild a damaged library from its added files and folders (the damaged "
        "database is kept, renamed)",
    )
    p.set_defaults(func=cmd_repair)
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
    add_scope_arguments(p)
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
    add_scope_arguments(p)
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
    logfile.install(verbose=bool(getattr(args, "verbose", False)))
    func = getattr(args, "func", None) or cmd_gui
    log.info(
        "%s %s, Python %s on %s: %s",
        APP_NAME,
        __version__,
        platform.python_version(),
        sys.platform,
        getattr(args, "command", None) or "gui",
    )
    import sqlite3

    from qa_app.index.database import damaged_message, is_damage
    from qa_app.index.locking import LibraryBusy

    try:
        _decode_text_arguments(args)
        return int(func(args))
    except BrokenPipeError:  # the reader left (qa-app list | head): nothing more to tell
        _quiet_stdout()
        return EXIT_OK
    except LibraryBusy as exc:
        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_BUSY
    except QaAppError as exc:  # an expected failure: one line (the log has it with --verbose)
        log.info("error: %s", exc, extra=LOG_ONLY)
        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except sqlite3.DatabaseError as exc:  # read past the store's own checks: still one line
        from qa_app import paths

        db = paths.library_dir(args.library or paths.DEFAULT_LIBRARY) / "library.db"
        text = damaged_message(db, exc) if is_damage(exc) else f"{db}: {exc}"
        log.warning("%s", text, extra=LOG_ONLY)
        print(f"error: {terminal_safe(text)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. a full disk outside the database; said in one line
        where = f"{exc.filename}: " if exc.filename else ""
        log.warning("%s%s", where, exc.strerror or exc, extra=LOG_ONLY)
        print(f"error: {terminal_safe(where + str(exc.strerror or exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # anything else is a bug: a short line, the traceback in the log
        return _report_bug(exc, args)


def _report_bug(exc: Exception, args: argparse.Namespace) -> int:
    """Log an unexpected exception with its traceback and say so in one line naming the log
    (the traceback goes to stderr instead when no log file can be written); return EXIT_BUG."""
    command = getattr(args, "command", None) or "gui"
    logged = logfile.log_bug(exc, f"running 'qa-app {command}'")
    print(f"error: {terminal_safe(logfile.bug_message(exc, logged=logged))}", file=sys.stderr)
    if not logged:
        traceback.print_exception(exc, file=sys.stderr)
    return EXIT_BUG


def _decode_text_arguments(args: argparse.Namespace) -> None:
    """Make a question or query typed in another encoding than UTF-8 text, or refuse it.

    Bytes that are not UTF-8 reach Python as lone surrogates; they are read as Windows-1252
    (what a Latin-1 terminal sends) with a note, and refused in one line if even that fails.
    """
    for field in ("question", "query"):
        value = getattr(args, field, None)
        if not isinstance(value, str) or not any("\udc80" <= c <= "\udcff" for c in value):
            continue
        raw = value.encode("utf-8", "surrogateescape")
        try:
            decoded = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise UsageError(
                f"the {field} is not UTF-8 text ({terminal_safe(value)}); set the terminal to "
                "UTF-8 and type it again"
            ) from None
        if not getattr(args, "quiet", False):
            print(
                f"note: the {field} was not UTF-8; read as Windows-1252: {terminal_safe(decoded)}",
                file=sys.stderr,
            )
        setattr(args, field, decoded)


def _quiet_stdout() -> None:
    """Send what is left of standard output nowhere (its reader is gone)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


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
    except BrokenPipeError:  # the reader took what it wanted (qa-app list | head -1)
        _quiet_stdout()
    except (OSError, ValueError):  # standard output failed otherwise (a full disk)
        code = code or EXIT_FAILED_FILES
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(run())
