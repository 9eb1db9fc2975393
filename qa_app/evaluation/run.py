"""Running one question set for ``qa-app eval``: its library (built, then deleted), reader, predictor."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Protocol

from qa_app import __version__, paths
from qa_app.evaluation.formats import EvalItem, EvalSet, write_corpus
from qa_app.evaluation.metrics import Evaluation, Prediction, evaluate, summarize
from qa_app.models import onnx_runtime
from qa_app.records import Passage, Progress, Result
from qa_app.render import plural

if TYPE_CHECKING:
    from qa_app.contracts import Engine

EngineFactory = Callable[[str | None, argparse.Namespace], "Engine"]
ReaderFactory = Callable[[argparse.Namespace], Callable[[EvalItem], Prediction]]
FileRun = tuple[dict[str, Any], Evaluation]  # one file's settings and evaluation


class LibraryBar(Protocol):
    """Draws a library's progress while it is built: called with each tick, then closed."""

    def __call__(self, tick: Progress) -> None: ...
    def close(self) -> None: ...


BarFactory = Callable[[bool], LibraryBar]  # quiet -> the command's bar (qa_app.cli.console)


def eval_library_name(evalset: EvalSet) -> str:
    """Return the library name for a pooled question set: ``eval-<stem>-<hash8>``."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", evalset.path.stem or evalset.path.name).strip("-.")
    return paths.check_library_name(f"eval-{stem[:40] or 'set'}-{evalset.file_hash[:8]}")


def eval_corpus_dir(evalset: EvalSet) -> Path:
    """Return the folder the corpus files of a pooled question set are written to."""
    return paths.home() / "tmp" / "eval" / f"{evalset.format}-{evalset.file_hash[:16]}"


def _default_engine(name: str | None, args: argparse.Namespace) -> Engine:
    from qa_app.engine import Engine as LibraryEngine

    return LibraryEngine(name, reader=args.reader, server=getattr(args, "server", None))


def _ticker(total: int, quiet: bool, unit: str) -> tuple[Callable[[Progress], None], Any]:
    """Return a progress callback drawing a tqdm bar on stderr, and the bar (None when quiet)."""
    if quiet:
        return (lambda tick: None), None
    from tqdm import tqdm

    bar = tqdm(total=total, unit=unit, file=sys.stderr, dynamic_ncols=True, desc="questions")

    def tick(progress: Progress) -> None:
        bar.update(progress.done - bar.n)

    return tick, bar


def _prepare_library(
    engine: Engine,
    evalset: EvalSet,
    args: argparse.Namespace,
    stop: Callable[[], bool],
    progress_bar: BarFactory,
) -> bool:
    """Make ``engine``'s library ready (for pooled sets: hold the whole corpus); False if stopped."""
    bar = progress_bar(args.quiet)
    try:
        prepared = engine.ensure_ready(bar, stop)
        if prepared is not None and prepared.cancelled:
            return False
        if evalset.corpus is None:
            if not engine.documents():
                print(f"warning: library '{engine.name}' has no documents", file=sys.stderr)
            return True
        have = {PurePath(d.path).name for d in engine.documents() if d.status != "failed"}
        if set(evalset.corpus) <= have:
            if not args.quiet:
                print(
                    f"using library '{engine.name}' ({plural(len(have), 'document')})",
                    file=sys.stderr,
                )
            return True
        folder = write_corpus(evalset.corpus, eval_corpus_dir(evalset))
        if not args.quiet:
            kept = "kept: later runs reuse it" if args.keep_library else "deleted after the run"
            print(
                f"building library '{engine.name}' from "
                f"{plural(len(evalset.corpus), 'document')} ({kept})",
                file=sys.stderr,
            )
        report = engine.add([folder], bar, stop)
    finally:
        bar.close()
    for failure in report.failed[:5]:
        print(f"warning: {failure.path}: {failure.reason}", file=sys.stderr)
    if len(report.failed) > 5:
        print(f"warning: {len(report.failed) - 5} more files failed", file=sys.stderr)
    return not report.cancelled


def _reader_only(args: argparse.Namespace) -> Callable[[EvalItem], Prediction]:
    """Return a predictor that reads each question's gold paragraph as its single passage."""
    from qa_app.answers import answer_rule, assemble
    from qa_app.models.embedding import MiniLMEmbedder
    from qa_app.reader import DEFAULT_READER, get_reader

    reader = get_reader(args.reader or DEFAULT_READER, MiniLMEmbedder())
    # The same threshold and answer scorer as Engine.ask, so reader-only figures are the app's.
    threshold, scorer = answer_rule(reader, args.threshold)

    def predict(item: EvalItem) -> Prediction:
        context = item.context or ""
        name = item.docs[0] if item.docs else item.id
        passage = Passage(0, 0, name, name, None, 0, len(context), context, 1.0)
        spans = reader.read(item.question, [passage])
        return assemble(
            item.question,
            [passage],
            spans,
            threshold=threshold,
            reader=reader.name,
            scorer=scorer,
        )

    # Load the models now, so loading is not counted as the first question's latency.
    predict(EvalItem("warm-up", "What is this?", context="This is a warm-up passage."))
    return predict


def run_file(
    evalset: EvalSet,
    args: argparse.Namespace,
    stop: Callable[[], bool],
    open_engine: EngineFactory | None,
    open_reader: ReaderFactory | None,
    readers: dict[str, Callable[[EvalItem], Prediction]],
    progress_bar: BarFactory,
) -> FileRun | None:
    """Evaluate one question set; return its settings and Evaluation, None if stopped early.

    ``readers`` caches the reader-only predictor, so several files share one loaded reader;
    ``progress_bar(quiet)`` draws the progress of building a library.
    """
    items = evalset.items[: args.limit] if args.limit else evalset.items
    settings: dict[str, Any] = {
        "file": str(evalset.path),
        "format": evalset.format,
        "file_hash": evalset.file_hash,
        "questions": len(items),
        "library": None,
        "reader": None if evalset.retrieval_only else args.reader,
        "runtime": onnx_runtime.describe(),
        "k": args.k,
        "threshold": args.threshold,
        "reader_only": bool(args.reader_only),
        "limit": args.limit,
        "version": __version__,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    engine = None
    pooled_library = None
    if args.reader_only:
        if "reader" not in readers:
            readers["reader"] = (open_reader or _reader_only)(args)
        predict = readers["reader"]
    else:
        if evalset.corpus is not None:
            if args.library and not args.quiet:
                print(f"note: --library is ignored for {evalset.format}", file=sys.stderr)
            name: str | None = eval_library_name(evalset)
            pooled_library = name
        else:
            name = args.library
        engine = (open_engine or _default_engine)(name, args)
        settings["library"] = engine.name
        if not _prepare_library(engine, evalset, args, stop, progress_bar):
            engine.close()
            print("stopped while building the library", file=sys.stderr)
            _discard_library(pooled_library, evalset, args)
            return None
        predict = _engine_predictor(engine, evalset, args)
    if not args.quiet and len(args.files) > 1:
        print(f"{evalset.path}: {len(items)} questions", file=sys.stderr)
    tick, bar = _ticker(len(items), args.quiet, "q")
    try:
        evaluation = evaluate(
            items,
            predict,
            k=args.k,
            progress=tick,
            cancel=stop,
            score_retrieval=not args.reader_only,
            on_result=_settings_from(settings),
        )
    finally:
        if bar is not None:
            bar.close()
        if engine is not None:
            engine.close()
            _discard_library(pooled_library, evalset, args)
    settings["cancelled"] = evaluation.cancelled
    return settings, evaluation


def _discard_library(name: str | None, evalset: EvalSet, args: argparse.Namespace) -> None:
    """Delete the library built from a SQuAD/BEIR file and its corpus files (not with --keep-library).

    Only the library named for this file's content hash is touched; one that another process is
    writing is left alone, with a note.
    """
    if name is None or args.keep_library:
        return
    from qa_app.engine import library_admin
    from qa_app.index.locking import LibraryBusy

    shutil.rmtree(eval_corpus_dir(evalset), ignore_errors=True)
    try:
        library_admin().delete_library(name, server=getattr(args, "server", None))
    except KeyError:
        return  # never written to disk (a fake engine in tests)
    except (LibraryBusy, OSError) as exc:
        print(f"note: library '{name}' was kept: {exc}", file=sys.stderr)


def pooled(runs: Sequence[FileRun]) -> FileRun:
    """Return the settings and Evaluation of every file's questions together (computed, not averaged)."""
    if len(runs) == 1:
        return runs[0]
    rows = tuple(row for _, evaluation in runs for row in evaluation.rows)
    first = runs[0][0]

    def same(key: str) -> Any:
        values = {json.dumps(s.get(key)) for s, _ in runs}
        return first.get(key) if len(values) == 1 else None

    formats = sorted({s["format"] for s, _ in runs})
    settings = {
        "file": f"all {len(runs)} files pooled",
        "files": [s["file"] for s, _ in runs],
        "format": formats[0] if len(formats) == 1 else "mixed: " + ", ".join(formats),
        "questions": len(rows),
        "library": same("library"),
        "reader": same("reader"),
        "runtime": same("runtime"),
        "calibrated": same("calibrated"),
        "k": first["k"],
        "threshold": same("threshold"),
        "reader_only": first["reader_only"],
        "limit": first["limit"],
        "version": __version__,
        "started": first["started"],
        "cancelled": any(e.cancelled for _, e in runs),
    }
    return settings, Evaluation(summarize(rows), rows, settings["cancelled"])


def _engine_predictor(
    engine: Engine, evalset: EvalSet, args: argparse.Namespace
) -> Callable[[EvalItem], Prediction]:
    """Return a predictor asking ``engine`` (or only searching it, for retrieval-only sets)."""
    if evalset.retrieval_only:
        return lambda item: engine.search(item.question, args.k)
    engine.warm_up()  # so model loading is not counted as the first question's latency
    return lambda item: engine.ask(
        item.question, args.k, reader=args.reader, threshold=args.threshold
    )


def _settings_from(settings: dict[str, Any]) -> Callable[[Prediction], None]:
    """Return a callback that records the reader, threshold and kind of score used (from a Result)."""

    def note(outcome: Prediction) -> None:
        if isinstance(outcome, Result):
            settings["reader"] = outcome.reader
            settings["threshold"] = outcome.threshold
            settings["calibrated"] = outcome.calibrated

    return note
