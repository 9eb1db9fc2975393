"""Evaluation output: the summary table, --fail-under gates and the JSON report file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_app.errors import InvalidInput
from qa_app.evaluation.metrics import LOWER_IS_BETTER, METRICS, Evaluation, selective

GATE_ALIASES = {
    "exact": "em",
    "exact_match": "em",
    "hasans": "hasans_f1",
    "noans_acc": "noans",
    "no_answer": "noans",
    "sentence_acc": "sentence",
    "supporting_sentence": "sentence",
    "recall@k": "recall",
    "recall@5": "recall_at_5",
    "recall5": "recall_at_5",
    "ndcg@10": "ndcg",
    "answered": "coverage",
    "accuracy": "precision",
    "em_accuracy": "em_precision",
    "coverage@80": "coverage_at_80",
    "coverage@90": "coverage_at_90",
    "em_coverage@80": "em_coverage_at_80",
    "em_coverage@90": "em_coverage_at_90",
}

AT_LEAST, AT_MOST = ">=", "<="
Gate = tuple[str, str, float]  # (metric, AT_LEAST or AT_MOST, bound)
_GATE_RE = re.compile(r"^\s*([^<>=]*?)\s*(<=|>=|=)\s*(.*)$")


@dataclass(frozen=True)
class GateFailure:
    """A gate that did not pass: ``reason`` is "unmeasured", "below" or "above"."""

    name: str
    reason: str
    message: str


def parse_gate(text: str, default: str = AT_LEAST) -> Gate:
    """Return (metric, operator, bound) from ``METRIC=VALUE``, ``METRIC>=VALUE`` or ``METRIC<=VALUE``.

    ``=`` takes ``default`` (AT_LEAST for --fail-under, AT_MOST for --fail-over). VALUE is a
    fraction like 0.6 or a percentage like 60%. Metrics that should be low (LOWER_IS_BETTER) only
    take an upper bound, the others only a lower bound. Raises InvalidInput (a ValueError) saying
    what is wrong.
    """
    match = _GATE_RE.match(text)
    if not match or not match.group(1):
        raise InvalidInput(f"'{text}': write a gate as METRIC=VALUE, e.g. f1=0.6")
    name = match.group(1).strip().lower().replace("-", "_")
    name = GATE_ALIASES.get(name, name)
    op = default if match.group(2) == "=" else match.group(2)
    if name not in METRICS:
        raise InvalidInput(f"'{text}': unknown metric '{name}'; use one of {', '.join(METRICS)}")
    if op == AT_LEAST and name in LOWER_IS_BETTER:
        raise InvalidInput(
            f"'{text}': {name} should be low; gate it with --fail-over {name}=X (or {name}<=X)"
        )
    if op == AT_MOST and name not in LOWER_IS_BETTER:
        raise InvalidInput(
            f"'{text}': {name} should be high; gate it with --fail-under {name}=X (or {name}>=X)"
        )
    raw = match.group(3).strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%"))
    except ValueError:
        raise InvalidInput(f"'{text}': '{raw}' is not a number") from None
    if percent:
        value /= 100.0
    if not 0.0 <= value <= 1.0:
        raise InvalidInput(f"'{text}': use a fraction from 0 to 1 (or a percentage like 60%)")
    return name, op, value


def check_gates(summary: dict[str, Any], gates: Sequence[Gate]) -> list[GateFailure]:
    """Return one GateFailure per gate that does not pass (empty when all pass).

    A gate on a metric this run could not measure fails too: a check that cannot run must not pass.
    """
    failures = []
    for name, op, bound in gates:
        value = summary.get(name)
        if value is None:
            needs = "unanswerable" if name == "noans" else "suitable"
            failures.append(
                GateFailure(
                    name,
                    "unmeasured",
                    f"{name} was not measured for this set (it needs {needs} questions); "
                    f"the gate asked for {op} {bound:.3f}",
                )
            )
        elif op == AT_LEAST and value < bound:
            message = f"{name} = {value:.3f} is below the required {bound:.3f}"
            failures.append(GateFailure(name, "below", message))
        elif op == AT_MOST and value > bound:
            message = f"{name} = {value:.3f} is above the allowed {bound:.3f}"
            failures.append(GateFailure(name, "above", message))
    return failures


def failure_line(failures: Sequence[GateFailure]) -> str:
    """Return the one-line verdict naming each failed metric with the way it failed."""
    how = {
        "unmeasured": "not measured for this set",
        "below": "below the required minimum",
        "above": "above the allowed maximum",
    }
    groups: dict[str, list[str]] = {}
    for failure in failures:
        groups.setdefault(failure.reason, []).append(failure.name)
    parts = [f"{', '.join(dict.fromkeys(names))} {how[r]}" for r, names in groups.items()]
    return "eval failed: " + "; ".join(parts)


def _fmt(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _aligned(table: Sequence[Sequence[str]], right: Sequence[int]) -> list[str]:
    """Return ``table`` as lines, columns padded (``right``: the right-aligned ones), header ruled."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _header(summary: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    asked = summary["answerable"] + summary["unanswerable"]
    counts = (
        f"{summary['questions']} questions: {summary['answerable']} answerable, "
        f"{summary['unanswerable']} unanswerable"
        if asked
        else f"{summary['questions']} queries, retrieval only"
    )
    lines = [f"{settings.get('file')}  ({settings.get('format')}, {counts})"]
    parts = []
    if settings.get("library"):
        parts.append(f"library {settings['library']}")
    if settings.get("reader"):
        parts.append(f"reader {settings['reader']}")
    if settings.get("runtime"):
        parts.append(f"runtime {settings['runtime']}")
    if settings.get("reader_only"):
        parts.append("reader-only (gold paragraph)")
    elif settings.get("k") is not None:
        parts.append(f"k {settings['k']}")
    if settings.get("threshold") is not None:
        parts.append(f"threshold {settings['threshold']:.2f}")
    if settings.get("calibrated") is not None:
        parts.append("scores: calibrated" if settings["calibrated"] else "scores: reader margin")
    lines.append("  ".join(parts))
    if settings.get("cancelled"):
        lines.append("stopped early: these figures cover the questions asked before the stop")
    return lines


def format_table(summary: dict[str, Any], settings: dict[str, Any]) -> str:
    """Return the summary as aligned, readable text tables with a header about the run.

    One table of metrics (with their --fail-under names) and, when answers were scored, the
    reliability table of the top candidate's score.
    """
    k = settings.get("k")
    asked = summary["answerable"] + summary["unanswerable"]
    lines = _header(summary, settings)
    lines.append("")
    judged = f"{summary['retrieval_judged']} questions"
    over = {
        "hasans_em": f"{summary['answerable']} questions",
        "hasans_f1": f"{summary['answerable']} questions",
        "noans": f"{summary['unanswerable']} questions",
        "sentence": f"{summary['answerable']} questions",
        "refused": f"{summary['answerable']} questions",
        "precision": f"{summary['answered']} answered",
        "em_precision": f"{summary['answered']} answered",
        "recall_at_5": judged,
        "recall": judged,
        "mrr": judged,
        "ndcg": judged,
    }
    over["answerable_shown_right"] = f"{summary['answerable']} questions"
    for kind, noun in (
        ("answer", "answers"),
        ("possible", "possible answers"),
        ("not_found", "not found"),
    ):
        for metric in (f"{kind}_right", f"{kind}_em_right"):
            over[metric] = f"{summary.get(f'{kind}_count', 0)} {noun}"
    table = [("metric", "name", "value", "over")]
    for name, (label, _) in METRICS.items():
        if summary.get(name) is None:
            continue
        if name == "recall_at_5" and k is not None and k <= 5:
            continue  # the same figure as recall@k
        if name == "recall" and k:
            label = f"recall@{k}"
        table.append((label, name, _fmt(summary[name]), over.get(name, f"{asked} questions")))
    p50, p95 = summary.get("latency_p50_ms"), summary.get("latency_p95_ms")
    if p50 is not None:
        table.append(("latency p50 / p95", "", f"{p50:.0f} / {p95:.0f} ms", "per question"))
    lines += _aligned(table, right=(2,))
    if asked:
        lines.append("")
        lines.append(f"answered {summary['answered']} of {asked} questions")
        lines += _reliability_lines(summary)
    return "\n".join(lines)


def _reliability_lines(summary: dict[str, Any]) -> list[str]:
    tables = summary.get("reliability")
    if not tables or not any(b["count"] for b in tables["f1"]):
        return []
    lines = [
        "",
        "reliability of the top candidate's score (right = F1 >= 0.5, or exact match):",
    ]
    table = [("score", "questions", "mean score", "right", "right (EM)")]
    for by_f1, by_em in zip(tables["f1"], tables["em"], strict=True):
        table.append(
            (
                f"{by_f1['low']:.1f}-{by_f1['high']:.1f}",
                str(by_f1["count"]),
                _fmt(by_f1["mean_score"]),
                _fmt(by_f1["accuracy"]),
                _fmt(by_em["accuracy"]),
            )
        )
    return lines + _aligned(table, right=(1, 2, 3, 4))


def summary_json(
    evaluation: Evaluation,
    settings: dict[str, Any],
    files: Sequence[tuple[dict[str, Any], Evaluation]] = (),
) -> dict[str, Any]:
    """Return the JSON printed by --json: the summary plus the settings it was measured with.

    With several ``files`` the summary is the pooled one and ``files`` lists each file's.
    """
    out: dict[str, Any] = {"summary": evaluation.summary, "settings": settings}
    if len(files) > 1:
        out["files"] = [{"summary": e.summary, "settings": s} for s, e in files]
    return out


def _curves(evaluation: Evaluation) -> dict[str, Any]:
    return {
        criterion: figures["curve"] for criterion, figures in selective(evaluation.rows).items()
    }


def write_report(
    path: str | Path,
    evaluation: Evaluation,
    settings: dict[str, Any],
    files: Sequence[tuple[dict[str, Any], Evaluation]] = (),
) -> Path:
    """Write summary, settings, risk–coverage curves and one row per question to ``path`` (JSON).

    With several ``files`` the top level is pooled over all of them, each row names its file,
    and ``files`` holds each file's settings, summary and curves. Written atomically; returns
    the path written; raises OSError when it cannot be written.
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "summary": evaluation.summary,
        "settings": settings,
        "risk_coverage": _curves(evaluation),
    }
    if len(files) > 1:
        report["files"] = [
            {"settings": s, "summary": e.summary, "risk_coverage": _curves(e)} for s, e in files
        ]
        report["questions"] = [
            {"file": s.get("file"), **row.as_dict()} for s, e in files for row in e.rows
        ]
    else:
        report["questions"] = [row.as_dict() for row in evaluation.rows]
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target
