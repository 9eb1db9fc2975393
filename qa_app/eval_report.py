"""Evaluation output: the summary table, --fail-under gates and the JSON report file."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa_app.evaluation import METRICS, Evaluation

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
}

Gate = tuple[str, float]


def parse_gate(text: str) -> Gate:
    """Return (metric, minimum) from ``METRIC=VALUE`` (a fraction like 0.6 or a percentage like 60%).

    Raises ValueError saying what is wrong (unknown metric, bad value).
    """
    name, sep, raw = text.partition("=")
    name = name.strip().lower().replace("-", "_")
    name = GATE_ALIASES.get(name, name)
    if not sep or not name:
        raise ValueError(f"'{text}': write a gate as METRIC=VALUE, e.g. f1=0.6")
    if name not in METRICS:
        raise ValueError(f"'{text}': unknown metric '{name}'; use one of {', '.join(METRICS)}")
    raw = raw.strip()
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%"))
    except ValueError:
        raise ValueError(f"'{text}': '{raw}' is not a number") from None
    if percent:
        value /= 100.0
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"'{text}': use a fraction from 0 to 1 (or a percentage like 60%)")
    return name, value


def check_gates(summary: dict[str, Any], gates: Sequence[Gate]) -> list[str]:
    """Return one message per failed gate (empty when all pass).

    A gate on a metric this run could not measure fails too: a check that cannot run must not pass.
    """
    failures = []
    for name, minimum in gates:
        value = summary.get(name)
        if value is None:
            failures.append(
                f"{name} was not measured on this question set (needs "
                f"{'unanswerable' if name == 'noans' else 'suitable'} questions); "
                f"required {minimum:.3f}"
            )
        elif value < minimum:
            failures.append(f"{name} = {value:.3f} is below the required {minimum:.3f}")
    return failures


def _fmt(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(summary: dict[str, Any], settings: dict[str, Any]) -> str:
    """Return the summary as an aligned, readable text table with a header about the run."""
    k = settings.get("k")
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
    if settings.get("reader_only"):
        parts.append("reader-only (gold paragraph)")
    else:
        parts.append(f"k {k}")
    if settings.get("threshold") is not None:
        parts.append(f"threshold {settings['threshold']:.2f}")
    lines.append("  ".join(parts))
    if settings.get("cancelled"):
        lines.append("stopped early: these figures cover the questions asked before the stop")
    lines.append("")
    over = {
        "em": asked,
        "f1": asked,
        "hasans_em": summary["answerable"],
        "hasans_f1": summary["answerable"],
        "noans": summary["unanswerable"],
        "sentence": summary["answerable"],
        "recall_at_5": summary["retrieval_judged"],
        "recall": summary["retrieval_judged"],
        "mrr": summary["retrieval_judged"],
        "ndcg": summary["retrieval_judged"],
    }
    table = [("metric", "name", "value", "over")]
    for name, (label, _) in METRICS.items():
        if summary.get(name) is None:
            continue
        if name == "recall_at_5" and k is not None and k <= 5:
            continue  # the same figure as recall@k
        if name == "recall" and k:
            label = f"recall@{k}"
        table.append((label, name, _fmt(summary[name]), f"{over[name]} questions"))
    p50, p95 = summary.get("latency_p50_ms"), summary.get("latency_p95_ms")
    if p50 is not None:
        table.append(("latency p50 / p95", "", f"{p50:.0f} / {p95:.0f} ms", "per question"))
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for i, row in enumerate(table):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [row[2].rjust(widths[2]), row[3]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    if asked:
        lines.append("")
        lines.append(f"answered {summary['answered']} of {asked} questions")
    return "\n".join(lines)


def summary_json(evaluation: Evaluation, settings: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON printed by --json: the summary plus the settings it was measured with."""
    return {"summary": evaluation.summary, "settings": settings}


def write_report(path: str | Path, evaluation: Evaluation, settings: dict[str, Any]) -> Path:
    """Write summary, settings and one row per question as JSON to ``path`` (atomically).

    Returns the path written; raises OSError when it cannot be written.
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "summary": evaluation.summary,
        "settings": settings,
        "questions": [row.as_dict() for row in evaluation.rows],
    }
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target
