"""The ``qa-app eval`` command: score a question set against a library, or a reader on gold paragraphs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any

from qa_app import __version__, paths
from qa_app.eval_formats import EvalFormatError, EvalItem, EvalSet, load_eval_set, write_corpus
from qa_app.eval_report import check_gates, format_table, parse_gate, summary_json, write_report
from qa_app.evaluation import METRICS, Evaluation, Prediction, evaluate
from qa_app.records import Passage, Progress

EXIT_OK, EXIT_GATES, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
DEFAULT_K = 10

EngineFactory = Callable[[str | None, argparse.Namespace], Any]
ReaderFactory = Callable[[argparse.Namespace], Callable[[EvalItem], Prediction]]

_EPILOG = (
    "formats (detected from the suffix or content):\n"
    "  SQuAD v1.1/v2.0 .json   all contexts become a library (built once, reused); questions over it\n"
    "  .jsonl                  question, answers ([] = unanswerable), optional id, docs; over --library\n"
    "  .csv                    'question,answer' header; '|' separates answers; empty = unanswerable\n"
    "  BEIR folder             corpus.jsonl, queries.jsonl, qrels/test.tsv: retrieval metrics only\n"
    "\nmetrics (names for --fail-under; values are fractions 0-1):\n"
    + "\n".join(f"  {name:11} {text}" for name, (_, text) in METRICS.items())
    + "\n  latency     p50 / p95 milliseconds per question (reported, not gated)\n"
    "\na relevant passage (recall, MRR, nDCG): for BEIR, a judged document; with 'docs' (JSONL) or\n"
    "a gold paragraph (SQuAD), a passage of that document holding a gold answer; otherwise any\n"
    "passage holding a gold answer\n"
    "\nexit status: 0 ok, 1 a --fail-under gate failed, 2 bad input, 130 stopped (Ctrl-C)\n"
    "example: qa-app eval seeds/questions.jsonl --fail-under em=0.5 f1=0.6 noans=0.8 sentence=0.9"
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _gate(text: str) -> tuple[str, float]:
    try:
        return parse_gate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(
    subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Register the ``eval`` subcommand on ``subparsers``; its ``func`` default is :func:`run`.

    ``parents`` may already define --library and --quiet (the CLI's common options); any it
    lacks are added here. Returns the new subparser.
    """
    parser = subparsers.add_parser(
        "eval",
        parents=list(parents),
        help="score a question set (SQuAD, JSONL, CSV, BEIR) and print metrics",
        description="Ask every question of a question set and report exact match, F1, "
        "no-answer accuracy, supporting-sentence accuracy, retrieval recall@5 and @k, MRR, nDCG@10 "
        "and latency.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    given = {opt for p in parents for action in p._actions for opt in action.option_strings}
    if "--library" not in given:
        parser.add_argument(
            "--library", "-l", metavar="NAME", help="library for JSONL/CSV (default: 'seeds')"
        )
    if "--quiet" not in given:
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    parser.add_argument("file", metavar="FILE", help="question file or BEIR folder")
    parser.add_argument(
        "-k", type=_positive, default=DEFAULT_K, help="passages retrieved per question (default 10)"
    )
    parser.add_argument("--reader", metavar="NAME", help="reader to use (default: the best)")
    parser.add_argument(
        "--threshold", type=float, metavar="X", help="answer score below which to say 'not found'"
    )
    parser.add_argument(
        "--reader-only",
        action="store_true",
        help="SQuAD only: give each question its gold paragraph, no retrieval",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="ask only the first N questions"
    )
    parser.add_argument("--report", metavar="PATH", help="write a JSON report with every question")
    parser.add_argument(
        "--fail-under",
        nargs="+",
        action="extend",
        type=_gate,
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if a metric is below VALUE, e.g. em=0.5 f1=0.6 noans=0.8 sentence=0.9 "
        "recall=0.9 (names below)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)
    return parser


def eval_library_name(evalset: EvalSet) -> str:
    """Return the library name for a pooled question set: ``eval-<stem>-<hash8>``."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", evalset.path.stem or evalset.path.name).strip("-.")
    return paths.check_library_name(f"eval-{stem[:40] or 'set'}-{evalset.file_hash[:8]}")


def eval_corpus_dir(evalset: EvalSet) -> Path:
    """Return the folder the corpus files of a pooled question set are written to."""
    return paths.home() / "tmp" / "eval" / f"{evalset.format}-{evalset.file_hash[:16]}"


def _default_engine(name: str | None, args: argparse.Namespace) -> Any:
    from qa_app.engine import Engine

    return Engine(name, reader=args.reader)


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
    engine: Any, evalset: EvalSet, args: argparse.Namespace, stop: Callable[[], bool]
) -> bool:
    """Make ``engine``'s library ready (for pooled sets: hold the whole corpus); False if stopped."""
    from qa_app.cli import ProgressBar

    bar = ProgressBar(args.quiet)
    try:
        ready = getattr(engine, "ensure_ready", None)
        report = ready(bar, stop) if ready is not None else None
        if report is not None and report.cancelled:
            return False
        if evalset.corpus is None:
            if not engine.documents():
                print(f"warning: library '{engine.name}' has no documents", file=sys.stderr)
            return True
        have = {PurePath(d.path).name for d in engine.documents() if d.status != "failed"}
        if set(evalset.corpus) <= have:
            if not args.quiet:
                print(f"using library '{engine.name}' ({len(have)} documents)", file=sys.stderr)
            return True
        folder = write_corpus(evalset.corpus, eval_corpus_dir(evalset))
        if not args.quiet:
            print(
                f"building library '{engine.name}' from {len(evalset.corpus)} documents "
                f"(once; later runs reuse it)",
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
    from qa_app.answers import assemble
    from qa_app.embedding import SentenceTransformerEmbedder
    from qa_app.reader import DEFAULT_READER, get_reader

    reader = get_reader(args.reader or DEFAULT_READER, SentenceTransformerEmbedder())
    threshold = (
        args.threshold if args.threshold is not None else float(getattr(reader, "threshold", 0.5))
    )

    def predict(item: EvalItem) -> Prediction:
        context = item.context or ""
        name = item.docs[0] if item.docs else item.id
        passage = Passage(0, 0, name, name, None, 0, len(context), context, 1.0)
        spans = reader.read(item.question, [passage])
        return assemble(item.question, [passage], spans, threshold=threshold, reader=reader.name)

    # Load the models now, so loading is not counted as the first question's latency.
    predict(EvalItem("warm-up", "What is this?", context="This is a warm-up passage."))
    return predict


def run(
    args: argparse.Namespace,
    *,
    open_engine: EngineFactory | None = None,
    open_reader: ReaderFactory | None = None,
) -> int:
    """Run ``qa-app eval`` with parsed ``args``; return the exit status (0, 1 gates, 2, 130).

    ``open_engine(library_name, args)`` and ``open_reader(args)`` replace the real engine and
    reader (tests pass fakes).
    """
    from qa_app.cli import Interrupt

    args.quiet = bool(getattr(args, "quiet", False))
    try:
        evalset = load_eval_set(args.file)
    except EvalFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    items = evalset.items[: args.limit] if args.limit else evalset.items
    if args.reader_only and not evalset.has_contexts:
        print(
            f"error: {args.file}: --reader-only needs gold paragraphs (SQuAD format); "
            f"this is {evalset.format}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings: dict[str, Any] = {
        "file": str(args.file),
        "format": evalset.format,
        "file_hash": evalset.file_hash,
        "questions": len(items),
        "library": None,
        "reader": None if evalset.retrieval_only else args.reader,
        "k": args.k,
        "threshold": args.threshold,
        "reader_only": bool(args.reader_only),
        "limit": args.limit,
        "version": __version__,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    engine = None
    predict: Callable[[EvalItem], Prediction]
    with Interrupt() as stop:
        if args.reader_only:
            predict = (open_reader or _reader_only)(args)
        else:
            if evalset.corpus is not None:
                if args.library and not args.quiet:
                    print(f"note: --library is ignored for {evalset.format}", file=sys.stderr)
                name: str | None = eval_library_name(evalset)
            else:
                name = args.library
                if open_engine is None and name and name not in _known_libraries():
                    print(
                        f"error: there is no library called '{name}'; create it with "
                        f"'qa-app add --library {name} FOLDER'",
                        file=sys.stderr,
                    )
                    return EXIT_USAGE
            engine = (open_engine or _default_engine)(name, args)
            settings["library"] = engine.name
            if not _prepare_library(engine, evalset, args, stop):
                engine.close()
                print("stopped while building the library; run again to resume", file=sys.stderr)
                return EXIT_CANCELLED
            predict = _engine_predictor(engine, evalset, args)
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
    settings["cancelled"] = evaluation.cancelled
    return _output(evaluation, settings, args)


def _engine_predictor(
    engine: Any, evalset: EvalSet, args: argparse.Namespace
) -> Callable[[EvalItem], Prediction]:
    """Return a predictor asking ``engine`` (or only searching it, for retrieval-only sets)."""
    if evalset.retrieval_only:
        return lambda item: engine.search(item.question, args.k)
    warm_up = getattr(engine, "warm_up", None)
    if warm_up is not None:
        warm_up()  # so model loading is not counted as the first question's latency
    return lambda item: engine.ask(
        item.question, args.k, reader=args.reader, threshold=args.threshold
    )


def _known_libraries() -> list[str]:
    from qa_app.engine import Engine

    return Engine.libraries()


def _settings_from(settings: dict[str, Any]) -> Callable[[Prediction], None]:
    """Return a callback that records the reader and threshold actually used (from a Result)."""

    def note(outcome: Prediction) -> None:
        reader = getattr(outcome, "reader", None)
        if reader is not None:
            settings["reader"] = reader
            settings["threshold"] = getattr(outcome, "threshold", settings["threshold"])

    return note


def _output(evaluation: Evaluation, settings: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(summary_json(evaluation, settings), indent=2, ensure_ascii=False))
    else:
        print(format_table(evaluation.summary, settings))
    if args.report:
        try:
            written = write_report(args.report, evaluation, settings)
        except OSError as exc:
            print(
                f"error: {args.report}: cannot write the report ({exc.strerror})", file=sys.stderr
            )
            return EXIT_USAGE
        if not args.quiet:
            print(f"report written to {written}", file=sys.stderr)
    if evaluation.cancelled:
        print("stopped: the figures cover only the questions asked", file=sys.stderr)
        return EXIT_CANCELLED
    failures = check_gates(evaluation.summary, args.fail_under)
    for message in failures:
        print(f"FAILED: {message}", file=sys.stderr)
    if failures:
        names = ", ".join(dict.fromkeys(m.split(" ", 1)[0] for m in failures))
        print(f"eval failed: {names} below the required minimum", file=sys.stderr)
        return EXIT_GATES
    if args.fail_under and not args.quiet:
        passed = ", ".join(f"{n} >= {v:g}" for n, v in args.fail_under)
        print(f"all gates passed ({passed})", file=sys.stderr)
    return EXIT_OK
