"""Pictures of an evaluation (--plot): the risk–coverage curve and the reliability diagram, as PNG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from qa_app.evaluation.metrics import Evaluation, selective

FileRun = tuple[dict[str, Any], Evaluation]
TARGETS = (0.8, 0.9)


def plot_paths(report: str | Path) -> tuple[Path, Path]:
    """Return the two PNG paths drawn beside ``report``: R.json -> R.risk_coverage.png, R.reliability.png."""
    report = Path(report)
    stem = report.name[: -len(report.suffix)] if report.suffix else report.name
    return (
        report.with_name(f"{stem}.risk_coverage.png"),
        report.with_name(f"{stem}.reliability.png"),
    )


def _pyplot() -> Any:
    # Lazy and headless: only --plot pays for matplotlib, and no display is ever needed.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(settings: dict[str, Any]) -> str:
    files = settings.get("files") or [settings.get("file")]
    names = ", ".join(PurePath(str(f)).name for f in files)
    reader = f", reader {settings['reader']}" if settings.get("reader") else ""
    return f"{names}{reader}"


def write_plots(
    report: str | Path,
    evaluation: Evaluation,
    settings: dict[str, Any],
    files: Sequence[FileRun] = (),
) -> tuple[Path, Path]:
    """Draw the risk–coverage curve and the reliability diagram of ``evaluation`` beside ``report``.

    With several ``files`` the curve also shows each file's (thin lines). Returns the two paths
    written; raises OSError when they cannot be written, ImportError without matplotlib.
    """
    plt = _pyplot()
    curve_path, reliability_path = plot_paths(report)
    figures = selective(evaluation.rows)
    summary = evaluation.summary
    threshold = settings.get("threshold")

    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    drawn: list[list[dict[str, Any]]] = [figures["f1"]["curve"], figures["em"]["curve"]]
    for (file_settings, part), color in zip(files, _palette(len(files)), strict=False):
        curve = selective(part.rows)["f1"]["curve"]
        drawn.append(curve)
        shown = part.summary
        if shown.get("coverage") is not None and shown.get("precision") is not None:
            ax.plot(
                [shown["coverage"]], [shown["precision"]], "o", color=color, markersize=5, zorder=5
            )
        if curve:
            ax.plot(
                [p["coverage"] for p in curve],
                [p["accuracy"] for p in curve],
                color=color,
                linewidth=1,
                alpha=0.8,
                label=f"{PurePath(file_settings['file']).name} (AURC {part.summary['aurc']:.3f})",
            )
    if files:
        ax.plot([], [], "o", color="grey", markersize=5, label="each file at the threshold")
    for criterion, style, label in (("f1", "-", "right = F1 ≥ 0.5"), ("em", "--", "right = EM")):
        curve = figures[criterion]["curve"]
        if not curve:
            continue
        ax.plot(
            [p["coverage"] for p in curve],
            [p["accuracy"] for p in curve],
            style,
            color="black",
            linewidth=2 if criterion == "f1" else 1.3,
            label=f"{'all files, ' if files else ''}{label} "
            f"(AURC {figures[criterion]['aurc']:.3f})",
        )
    for target, color in zip(TARGETS, ("tab:orange", "tab:green"), strict=True):
        coverage = figures["f1"][f"coverage_at_{round(target * 100)}"]
        ax.axhline(target, color=color, linestyle=":", linewidth=1.2)
        text = (
            f"{target:.0%} right: coverage {coverage:.1%}"
            if coverage
            else f"{target:.0%} right: never reached"
        )
        ax.annotate(
            text,
            (0.01, target),
            xytext=(0, 3),
            textcoords="offset points",
            color=color,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        )
        if coverage:
            ax.plot([coverage, coverage], [0, target], color=color, linestyle=":", linewidth=1.2)
    if summary.get("coverage") is not None and summary.get("precision") is not None:
        x, y = summary["coverage"], summary["precision"]
        at = f"threshold {threshold:.2f}" if threshold is not None else "the run's threshold"
        ax.plot([x], [y], "o", color="tab:red", markersize=8, zorder=6)
        ax.annotate(
            f"{at}: answers {x:.1%} of the questions, {y:.1%} of them right;\n"
            f"answerable questions refused: {summary['refused'] or 0:.1%}",
            (x, y),
            xytext=(0.03, 0.05),
            textcoords="axes fraction",
            color="tab:red",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "tab:red"},
            arrowprops={"arrowstyle": "->", "color": "tab:red"},
            zorder=6,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(max(0.0, min(0.5, _lowest(drawn) - 0.05)), 1.01)
    ax.set_xlabel("coverage: share of questions answered (best-scored first)")
    ax.set_ylabel("accuracy of the answers given (1 − risk)")
    ax.set_title(
        f"Risk–coverage: {_title(settings)}\n{summary['questions']} questions", fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(curve_path)
    plt.close(fig)

    fig, (ax, counts) = plt.subplots(
        2, 1, figsize=(10, 7.5), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    bins_f1, bins_em = figures["f1"]["reliability"], figures["em"]["reliability"]
    centres = [(b["low"] + b["high"]) / 2 for b in bins_f1]
    width = (bins_f1[0]["high"] - bins_f1[0]["low"]) * 0.9
    ax.bar(
        centres,
        [b["accuracy"] or 0.0 for b in bins_f1],
        width=width,
        color="tab:blue",
        alpha=0.75,
        edgecolor="black",
        label="share right (F1 ≥ 0.5)",
    )
    filled = [(c, b, e) for c, b, e in zip(centres, bins_f1, bins_em, strict=True) if b["count"]]
    ax.plot(
        [c for c, _, _ in filled],
        [e["accuracy"] for _, _, e in filled],
        "s",
        color="tab:purple",
        label="share right (exact match)",
    )
    ax.plot(
        [b["mean_score"] for _, b, _ in filled],
        [b["accuracy"] for _, b, _ in filled],
        "x",
        color="black",
        markersize=8,
        label="the bin's mean score (x)\nagainst its share right",
    )
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    counts.bar(centres, [b["count"] for b in bins_f1], width=width, color="grey")
    for centre, b in zip(centres, bins_f1, strict=True):
        counts.annotate(
            str(b["count"]),
            (centre, b["count"]),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    if threshold is not None:
        for axis in (ax, counts):
            axis.axvline(threshold, color="tab:red", linestyle=":")
        ax.plot([], [], ":", color="tab:red", label=f"threshold {threshold:.2f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    counts.set_ylim(0, max([b["count"] for b in bins_f1], default=0) * 1.25 + 1)
    counts.set_xlabel("score of the top candidate (10 equal-width bins)")
    counts.set_ylabel("questions")
    ax.set_ylabel("share of top candidates that are right")
    ece, ece_em = figures["f1"]["ece"], figures["em"]["ece"]
    calibration = f"ECE {ece:.3f} (EM: {ece_em:.3f})" if ece is not None else "no scored answers"
    ax.set_title(f"Reliability: {_title(settings)}\n{calibration}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(reliability_path)
    plt.close(fig)
    return curve_path, reliability_path


def _lowest(curves: Sequence[Sequence[dict[str, Any]]]) -> float:
    """Return the lowest accuracy drawn past the first 5% of coverage (the start is noise)."""
    accuracies = [p["accuracy"] for curve in curves for p in curve if p["coverage"] >= 0.05]
    return min(accuracies, default=0.0)


def _palette(n: int) -> list[str]:
    colours = ["tab:blue", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:pink"]
    return [colours[i % len(colours)] for i in range(n)]
