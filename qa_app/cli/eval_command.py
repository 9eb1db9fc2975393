"""The ``qa-app eval`` command: score a question set against a library, or a reader on gold paragraphs."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from qa_app.cli.arguments import unit_float
from qa_app.contracts import DEFAULT_K
from qa_app.errors import InvalidInput
from qa_app.evaluation.formats import EvalFormatError, EvalItem, EvalSet, load_eval_set
from qa_app.evaluation.metrics import LOWER_IS_BETTER, METRICS, SELECTIVE_HELP, Prediction
from qa_app.evaluation.report import (
    AT_LEAST,
    AT_MOST,
    Gate,
    check_gates,
    failure_line,
    format_table,
    parse_gate,
    summary_json,
    write_report,
)
from qa_app.evaluation.run import (
    EngineFactory,
    FileRun,
    ReaderFactory,
    eval_corpus_dir,
    eval_library_name,
    pooled,
    run_file,
)

EXIT_OK, EXIT_GATES, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
__all__ = ["add_parser", "eval_corpus_dir", "eval_library_name", "run"]

_WIDTH = max(len(name) for name in METRICS)
_EPILOG = (
    "formats (detected from the suffix or content):\n"
    "  SQuAD v1.1/v2.0 .json   all contexts become a library, deleted after the run\n"
    "                          (--keep-library keeps it for the next run); questions over it\n"
    "  .jsonl                  question, answers ([] = unanswerable), optional id, docs; over --library\n"
    "  .csv                    'question,answer' header; '|' separates answers; empty = unanswerable\n"
    "  BEIR folder             corpus.jsonl, queries.jsonl, qrels/test.tsv: retrieval metrics only\n"
    "several files: each is reported, then all of them pooled (pooled figures are computed over\n"
    "every question, not averaged); --limit applies to each file; gates apply to the pooled figures\n"
    "\nmetrics (names for --fail-under and --fail-over; values are fractions 0-1):\n"
    + "\n".join(f"  {name:{_WIDTH}} {text}" for name, (_, text) in METRICS.items())
    + f"\n  {'latency':{_WIDTH}} p50 / p95 milliseconds per question (reported, not gated)\n"
    "\na relevant passage (recall, MRR, nDCG): for BEIR, a judged document; with 'docs' (JSONL) or\n"
    "a gold paragraph (SQuAD), a passage of that document holding a gold answer; otherwise any\n"
    "passage holding a gold answer\n"
    f"\n{SELECTIVE_HELP}\n"
    "\ngates: --fail-under NAME=X fails when a metric is below X; --fail-over NAME=X fails when one\n"
    f"that should be low ({', '.join(sorted(LOWER_IS_BETTER))}) is above X. NAME>=X and NAME<=X\n"
    "say it outright in either. A gate on a metric the set cannot measure fails too.\n"
    "\n--plot (with --report R.json) draws R.risk_coverage.png and R.reliability.png; it needs\n"
    "matplotlib: pip install 'qa-app[plot]'\n"
    "\nexit status: 0 ok, 1 a gate failed, 2 bad input, 130 stopped (Ctrl-C)\n"
    "example: qa-app eval seeds/questions.jsonl --fail-under f1=0.6 noans=0.8 coverage@90=0.6\n"
    "         --fail-over ece=0.1"
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _gate(default: str) -> Callable[[str], Gate]:
    def parse(text: str) -> Gate:
        try:
            return parse_gate(text, default)
        except InvalidInput as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_parser(
    subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()
) -> argparse.ArgumentParser:
    """Register the ``eval`` subcommand on ``subparsers``; its ``func`` default is :func:`run`.

    ``parents`` may already define --library and --quiet (the CLI's common options); any it
    lacks are added here. Returns the new subparser.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval",
        parents=list(parents),
        help="score question sets (SQuAD, JSONL, CSV, BEIR) and print metrics",
        description="Ask every question of one or more question sets and report exact match, F1, "
        "no-answer accuracy, supporting-sentence accuracy, selective answering (coverage at 80% "
        "and 90% right, AURC, calibration error), retrieval recall@5 and @k, MRR, nDCG@10 "
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
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="question files or BEIR folders (one or more)"
    )
    parser.add_argument(
        "-k",
        type=_positive,
        default=DEFAULT_K,
        help=f"passages retrieved per question (default {DEFAULT_K})",
    )
    parser.add_argument("--reader", metavar="NAME", help="reader to use (default: the best)")
    parser.add_argument(
        "--threshold",
        type=unit_float,
        metavar="X",
        help="answer score below which to say 'not found'",
    )
    parser.add_argument(
        "--reader-only",
        action="store_true",
        help="SQuAD only: give each question its gold paragraph, no retrieval",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="ask only the first N questions of each file"
    )
    parser.add_argument("--report", metavar="PATH", help="write a JSON report with every question")
    parser.add_argument(
        "--plot",
        action="store_true",
        help="with --report: also draw the risk-coverage curve and the reliability diagram (PNG)",
    )
    parser.add_argument(
        "--keep-library",
        action="store_true",
        help="keep the library built from a SQuAD or BEIR file (listed by 'qa-app libraries') "
        "so the next run reuses it",
    )
    parser.add_argument(
        "--fail-under",
        nargs="+",
        action="extend",
        type=_gate(AT_LEAST),
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if a metric is below VALUE, e.g. em=0.5 f1=0.6 noans=0.8 sentence=0.9 "
        "recall=0.9 coverage@90=0.6 (names below)",
    )
    parser.add_argument(
        "--fail-over",
        nargs="+",
        action="extend",
        type=_gate(AT_MOST),
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 if a metric that should be low is above VALUE: ece=0.05 aurc=0.1 refused=0.2",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)
    return parser


def run(
    args: argparse.Namespace,
    *,
    open_engine: EngineFactory | None = None,
    open_reader: ReaderFactory | None = None,
) -> int:
    """Run ``qa-app eval`` with parsed ``args``; return the exit status (0, 1 gates, 2, 130).

    Each file is evaluated in turn, then all are pooled. A file that cannot be read is named
    with the reason and the others still run (the exit status is then 2). ``open_engine(
    library_name, args)`` and ``open_reader(args)`` replace the real engine and reader (tests
    pass fakes).
    """
    from qa_app.cli.console import Interrupt, ProgressBar

    args.quiet = bool(getattr(args, "quiet", False))
    if args.plot and not args.report:
        print("error: --plot draws next to the JSON report: give --report PATH", file=sys.stderr)
        return EXIT_USAGE
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        print(
            "error: --plot needs matplotlib, which is not installed: "
            "pip install 'qa-app[plot]' (or pip install matplotlib)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    sets, bad_input = _load_sets(args)
    if not sets:
        return EXIT_USAGE
    over_library = not args.reader_only and any(s.corpus is None for s in sets)
    if (
        over_library
        and open_engine is None
        and args.library
        and args.library not in _known_libraries()
    ):
        print(
            f"error: there is no library called '{args.library}'; create it with "
            f"'qa-app add --library {args.library} FOLDER'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    runs: list[FileRun] = []
    readers: dict[str, Callable[[EvalItem], Prediction]] = {}
    stopped = False
    with Interrupt() as stop:
        for evalset in sets:
            done = run_file(evalset, args, stop, open_engine, open_reader, readers, ProgressBar)
            stopped = done is None or done[1].cancelled
            if done is not None:
                runs.append(done)
            if stopped:
                break
    if not runs:
        return EXIT_CANCELLED
    code = _output(runs, args, stopped=stopped)
    return EXIT_USAGE if bad_input and code in (EXIT_OK, EXIT_GATES) else code


def _load_sets(args: argparse.Namespace) -> tuple[list[EvalSet], bool]:
    """Return the question sets that could be read, and whether any file was bad input."""
    sets, bad = [], False
    for file in args.files:
        try:
            evalset = load_eval_set(file)
        except EvalFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad = True
            continue
        if args.reader_only and not evalset.has_contexts:
            print(
                f"error: {file}: --reader-only needs gold paragraphs (SQuAD format); "
                f"this is {evalset.format}",
                file=sys.stderr,
            )
            bad = True
            continue
        sets.append(evalset)
    if bad and sets:
        print(f"going on with the other {len(sets)} file(s)", file=sys.stderr)
    return sets, bad


def _known_libraries() -> list[str]:
    from qa_app.engine import library_admin

    return library_admin().libraries()


def _output(runs: Sequence[FileRun], args: argparse.Namespace, *, stopped: bool = False) -> int:
    settings, evaluation = pooled(runs)
    if stopped and not evaluation.cancelled:  # stopped before a later file was asked
        settings = {**settings, "cancelled": True}
        evaluation = dataclasses.replace(evaluation, cancelled=True)
    files = runs if len(runs) > 1 else ()
    if args.json:
        print(json.dumps(summary_json(evaluation, settings, files), indent=2, ensure_ascii=False))
    else:
        tables = [format_table(e.summary, s) for s, e in files]
        tables.append(format_table(evaluation.summary, settings))
        print("\n\n".join(tables))
    if args.report:
        try:
            written = write_report(args.report, evaluation, settings, files)
        except OSError as exc:
            print(
                f"error: {args.report}: cannot write the report ({exc.strerror})", file=sys.stderr
            )
            return EXIT_USAGE
        if not args.quiet:
            print(f"report written to {written}", file=sys.stderr)
        if args.plot:
            from qa_app.evaluation.plots import write_plots

            try:
                pictures = write_plots(written, evaluation, settings, files)
            except OSError as exc:
                print(f"error: {written}: cannot write the plots ({exc})", file=sys.stderr)
                return EXIT_USAGE
            if not args.quiet:
                print("plots written to " + " and ".join(map(str, pictures)), file=sys.stderr)
    if evaluation.cancelled:
        print("stopped: the figures cover only the questions asked", file=sys.stderr)
        return EXIT_CANCELLED
    gates = [*args.fail_under, *getattr(args, "fail_over", [])]
    failures = check_gates(evaluation.summary, gates)
    for failure in failures:
        print(f"FAILED: {failure.message}", file=sys.stderr)
    if failures:
        print(failure_line(failures), file=sys.stderr)
        return EXIT_GATES
    if gates and not args.quiet:
        passed = ", ".join(f"{n} {op} {v:g}" for n, op, v in gates)
        print(f"all gates passed ({passed})", file=sys.stderr)
    return EXIT_OK
