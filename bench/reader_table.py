"""The reader comparison: every evaluation set, each reader, through `qa-app eval`; prints a table.

Usage:
    python bench/reader_table.py --data ../shared/data --out bench-out [--readers neural sentence]
        [--sets seeds xquad xquad-ro dev dev-ro dev-top squad2-ro covid-ro reddit-ro amazon-ro]
        [--limit N] [--dev-limit N]

Each run is one `qa-app eval ... --report OUT/<set>.<reader>.json` in its own process, one after
another (two runs side by side on two cores would measure each other). A report already in OUT is
reused, so an interrupted table resumes where it stopped; delete a report to run it again. Pooled
SQuAD libraries are built once in QA_APP_HOME (default: OUT/home) and reused by later runs.

Sets: pooled ones put every paragraph of the file in one library, so retrieval is part of the test;
"-ro" sets give each question its gold paragraph (reader only). "-t0" sets run with --threshold 0:
the reader's top answer, never "not found", the usual way SQuAD v1.1 readers are scored. A -t0
report also gives the figures at the reader's own threshold ("@T" rows) without a second run: the
best answer does not depend on the threshold, only whether it is shown (qa_app.answers.assemble),
so refusing every answer scored below T is exactly what `qa-app eval` with that threshold does.

Selective-answering columns (see `qa-app eval --help`): "answered" and "right when answered"
(F1 >= 0.5; an answer to an unanswerable question is wrong) and "answerable refused" are at the
run's threshold; coverage@90 (the largest share of questions answerable, best scores first, with
90% of them right), AURC and ECE rank the top candidates by score and need no threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# name: (file under --data, extra eval arguments)
SETS: dict[str, tuple[str, list[str]]] = {
    "seeds": ("", []),
    "xquad": ("squad/xquad_en_subset.json", []),
    "xquad-ro": ("squad/xquad_en_subset.json", ["--reader-only"]),
    "dev": ("squad/dev-v1.1.json", []),
    "dev-ro": ("squad/dev-v1.1.json", ["--reader-only"]),
    "dev-t0": ("squad/dev-v1.1.json", ["--threshold", "0"]),
    "dev-ro-t0": ("squad/dev-v1.1.json", ["--reader-only", "--threshold", "0"]),
    "squad2-ro": ("squad/squad_v2.0_dev_first5articles.json", ["--reader-only"]),
    "covid-ro": ("ood/covid_qa_200423.paragraphs.json", ["--reader-only"]),
    "reddit-ro": ("ood/reddit_v1.0.json", ["--reader-only"]),
    "amazon-ro": ("ood/amazon_reviews_v1.0.json", ["--reader-only"]),
}
DEFAULT_SETS = [
    "seeds",
    "xquad",
    "xquad-ro",
    "dev-t0",
    "dev-ro-t0",
    "squad2-ro",
    "covid-ro",
    "reddit-ro",
    "amazon-ro",
]
OOD = {"covid-ro", "reddit-ro", "amazon-ro"}
SEEDS = Path(__file__).resolve().parents[1] / "qa_app" / "seeds" / "questions.jsonl"


def command(name: str, reader: str, args: argparse.Namespace, report: Path) -> list[str]:
    """Return the qa-app eval command line for one set and reader."""
    rel, extra = SETS[name]
    target = str(SEEDS) if name == "seeds" else str(args.data / rel)
    cmd = [
        sys.executable,
        "-m",
        "qa_app.cli.commands",
        "eval",
        target,
        "--reader",
        reader,
        "-q",
        "--report",
        str(report),
        *extra,
    ]
    if "--reader-only" not in extra and name != "seeds":
        cmd.append("--keep-library")  # the pooled library is reused by the set's other runs
    limit = args.dev_limit if name.startswith("dev") else (args.limit if name in OOD else None)
    if limit:
        cmd += ["--limit", str(limit)]
    return cmd


def run(name: str, reader: str, args: argparse.Namespace) -> dict | None:
    """Run one evaluation (or reuse its report); return the report, None when it failed."""
    report = args.out / f"{name}.{reader}.json"
    if not report.exists():
        cmd = command(name, reader, args, report)
        print("$", " ".join(cmd[2:]), flush=True)
        started = time.perf_counter()
        done = subprocess.run(cmd, env={**os.environ, "QA_APP_HOME": str(args.home)})
        print(f"  exit {done.returncode} after {time.perf_counter() - started:.0f} s", flush=True)
        if done.returncode not in (0, 1) or not report.exists():
            return None
    return json.loads(report.read_text(encoding="utf-8"))


def summary_of(data: dict) -> dict:
    """Return the report's summary with the question count as ``n``."""
    return {**data["summary"], "n": len(data["questions"])}


def at_threshold(data: dict, threshold: float) -> dict:
    """Return the answer metrics of a --threshold 0 report as if run with ``threshold``."""
    em, f1, has_em, has_f1, noans, sentence = [], [], [], [], [], []
    given, right, refused = [], [], []
    for q in data["questions"]:
        shown = q["predicted"] is not None and (q["score"] or 0.0) >= threshold
        given.append(float(shown))
        if shown:
            right.append(float(bool(q["gold"]) and (q["f1"] or 0.0) >= 0.5))
        if q["gold"]:
            refused.append(float(not shown))
            e, f = (q["em"], q["f1"]) if shown else (0.0, 0.0)
            has_em.append(e)
            has_f1.append(f)
            sentence.append(float(shown and bool(q["sentence_ok"])))
        else:
            e = f = float(not shown)
            noans.append(e)
        em.append(e)
        f1.append(f)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {
        **summary_of(data),
        "em": mean(em),
        "f1": mean(f1),
        "hasans_em": mean(has_em),
        "hasans_f1": mean(has_f1),
        "noans": mean(noans),
        "sentence": mean(sentence),
        # coverage@90, AURC and ECE rank the top candidates by score: no threshold in them
        "coverage": mean(given),
        "precision": mean(right),
        "refused": mean(refused),
    }


def reader_threshold(reader: str) -> float:
    """Return the reader's own no-answer threshold (from its metadata; no weights loaded)."""
    from qa_app.reader import get_reader

    return float(get_reader(reader, None).threshold)


def pct(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "—" if value is None else f"{100 * value:.1f}"


def num(summary: dict, key: str) -> str:
    value = summary.get(key)
    return "—" if value is None else f"{value:.3f}"


def row(name: str, reader: str, s: dict) -> str:
    cells = [
        name,
        reader,
        str(s["n"]),
        pct(s, "em"),
        pct(s, "f1"),
        pct(s, "hasans_f1"),
        pct(s, "noans"),
        pct(s, "sentence"),
        pct(s, "recall_at_5"),
        pct(s, "recall"),
        pct(s, "mrr"),
        pct(s, "coverage"),
        pct(s, "precision"),
        pct(s, "refused"),
        pct(s, "coverage_at_90"),
        num(s, "aurc"),
        num(s, "ece"),
        f"{s.get('latency_p50_ms', 0):.0f} / {s.get('latency_p95_ms', 0):.0f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the JSON reports")
    parser.add_argument("--home", type=Path, help="QA_APP_HOME for pooled libraries (OUT/home)")
    parser.add_argument("--readers", nargs="+", default=["neural", "sentence"])
    parser.add_argument("--sets", nargs="+", default=DEFAULT_SETS, choices=sorted(SETS))
    parser.add_argument("--limit", type=int, default=1000, help="questions per OOD set (0 = all)")
    parser.add_argument("--dev-limit", type=int, default=0, help="SQuAD dev questions (0 = all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.home = args.home or args.out / "home"

    header = (
        "| set | reader | questions | EM | F1 | HasAns F1 | no-answer | sentence | R@5 | "
        "R@k | MRR | answered | right when answered | answerable refused | coverage@90 | AURC | "
        "ECE | p50 / p95 ms |"
    )
    rows = []
    for name in args.sets:
        for reader in args.readers:
            data = run(name, reader, args)
            if data is None:
                rows.append(f"| {name} | {reader} | failed |")
                continue
            rows.append(row(name, reader, summary_of(data)))
            if name.endswith("-t0"):
                t = reader_threshold(reader)
                rows.append(row(f"{name} @{t:g}", reader, at_threshold(data, t)))
    print()
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
