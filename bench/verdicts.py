"""The verdict scale measured: each evaluation set in library mode and reader-only, per band.

Usage:
    python bench/verdicts.py --data ../shared/data --out bench-out/verdicts [--limit 1000]
        [--sets dev dev-ro reddit reddit-ro amazon amazon-ro squad2-ro covid-ro]

Each run is one `qa-app eval FILE --limit N [--reader-only] --report OUT/<set>.json --keep-library`
in its own process, one after another (side by side they would measure each other); a report
already in OUT is reused, so an interrupted table resumes. Library mode ("dev", "reddit",
"amazon") asks the first N questions of a library built from every paragraph of the file, the
app's real use; "-ro" gives each question its own paragraph. The table is computed from each
report's per-question rows (top candidate, its score, F1 and exact match), so it is the same
figures `qa-app eval` prints, and the band edges come from qa_app.reader.verdicts.

"right" is the top candidate's F1 >= 0.5 against a gold answer (any answer to an unanswerable
question is wrong); "exact" is exact match. The probability was fitted to predict "right"; ECE is
reported against both. The "landed" rows are the figures of the issue "Answers people can use"
(landed main, threshold 0.76 and no possible band), for comparison; they were not re-measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SETS: dict[str, tuple[str, list[str]]] = {
    "dev": ("squad/dev-v1.1.json", []),
    "dev-ro": ("squad/dev-v1.1.json", ["--reader-only"]),
    "reddit": ("ood/reddit_v1.0.json", []),
    "reddit-ro": ("ood/reddit_v1.0.json", ["--reader-only"]),
    "amazon": ("ood/amazon_reviews_v1.0.json", []),
    "amazon-ro": ("ood/amazon_reviews_v1.0.json", ["--reader-only"]),
    "squad2-ro": ("squad/squad_v2.0_dev_first5articles.json", ["--reader-only"]),
    "squad2": ("squad/squad_v2.0_dev_first5articles.json", []),
    "covid-ro": ("ood/covid_qa_200423.paragraphs.json", ["--reader-only"]),
}
# The landed main's figures (the issue "Answers people can use"): answered at 0.76 / right when
# answered, on Reddit and Amazon in library mode over the whole file.
LANDED = {
    "reddit": "answered 0.22, right 0.893 (whole-file library)",
    "amazon": "answered 0.21, right 0.866 (whole-file library)",
    "dev": "held-out Wikipedia library: answered 0.51, right 0.94; 'not found' but right 0.59",
}


def run(name: str, data: Path, out: Path, limit: int, home: Path) -> Path:
    """Run one eval (unless its report exists) and return the report's path."""
    report = out / f"{name}.json"
    if report.exists():
        return report
    file, extra = SETS[name]
    cmd = [
        sys.executable,
        "-m",
        "qa_app.cli",
        "eval",
        str(data / file),
        "--report",
        str(report),
        "--limit",
        str(limit),
        "--keep-library",
        "--quiet",
        *extra,
    ]
    env = {**os.environ, "QA_APP_HOME": str(home)}
    started = time.time()
    print(f"[{name}] {' '.join(cmd[3:])}", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=False, env=env, stdout=subprocess.DEVNULL)
    print(f"[{name}] {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    return report


def figures(rows: list[dict], threshold: float, floor: float) -> dict[str, float | int]:
    """Return the band figures of one report's question rows."""
    from qa_app.evaluation.selective import measure

    def right(r: dict, exact: bool = False) -> bool:
        return bool(r["gold"]) and ((r["top_em"] or 0) >= 1 if exact else (r["top_f1"] or 0) >= 0.5)

    scored = [r for r in rows if r.get("em") is not None]
    n = len(scored)
    score = [r["top_score"] if r["top_score"] is not None else -1.0 for r in scored]
    ans = [r for r, s in zip(scored, score, strict=True) if s >= threshold]
    pos = [r for r, s in zip(scored, score, strict=True) if floor <= s < threshold]
    nf = [r for r, s in zip(scored, score, strict=True) if s < floor]
    noans = [r for r in scored if not r["gold"]]
    has = [r for r in scored if r["gold"]]

    def share(rs: list[dict], exact: bool = False) -> float:
        return sum(right(r, exact) for r in rs) / len(rs) if rs else float("nan")

    with_score = [(s, r) for s, r in zip(score, scored, strict=True) if s >= 0]
    ece_f1 = measure([s for s, _ in with_score], [right(r) for _, r in with_score], total=n)["ece"]
    ece_em = measure([s for s, _ in with_score], [right(r, True) for _, r in with_score], total=n)[
        "ece"
    ]
    return {
        "n": n,
        "top_right": share(has) * len(has) / n if n else float("nan"),
        "top_f1": sum((r["top_f1"] or 0) for r in has) / len(has) if has else float("nan"),
        "top_em": sum((r["top_em"] or 0) for r in has) / len(has) if has else float("nan"),
        "answer": len(ans) / n,
        "answer_right": share(ans),
        "answer_exact": share(ans, True),
        "possible": len(pos) / n,
        "possible_right": share(pos),
        "possible_exact": share(pos, True),
        "shown": (len(ans) + len(pos)) / n,
        "nf_right": share(nf),
        "noans_answered": (
            sum(1 for r in noans if (r["top_score"] or -1) >= threshold) / len(noans)
            if noans
            else float("nan")
        ),
        "ece": ece_f1,
        "ece_em": ece_em,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sets and print the table; return 0."""
    from qa_app.reader.verdicts import POSSIBLE_FLOOR

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--home", type=Path, help="QA_APP_HOME for the libraries (OUT/home)")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--threshold", type=float, default=0.76)
    p.add_argument("--floor", type=float, default=POSSIBLE_FLOOR)
    p.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    home = args.home or args.out / "home"
    cols = [
        ("n", "{:d}"),
        ("top_right", "{:.3f}"),
        ("top_f1", "{:.3f}"),
        ("top_em", "{:.3f}"),
        ("answer", "{:.3f}"),
        ("answer_right", "{:.3f}"),
        ("answer_exact", "{:.3f}"),
        ("possible", "{:.3f}"),
        ("possible_right", "{:.3f}"),
        ("possible_exact", "{:.3f}"),
        ("shown", "{:.3f}"),
        ("nf_right", "{:.3f}"),
        ("noans_answered", "{:.3f}"),
        ("ece", "{:.3f}"),
        ("ece_em", "{:.3f}"),
    ]
    table = []
    for name in args.sets:
        report = run(name, args.data, args.out, args.limit, home)
        if not report.exists():
            print(f"[{name}] no report (the run failed)", file=sys.stderr)
            continue
        rows = json.loads(report.read_text(encoding="utf-8"))["questions"]
        table.append((name, figures(rows, args.threshold, args.floor)))
    print(f"threshold {args.threshold}, possible floor {args.floor}; right = F1 >= 0.5")
    print("| set | " + " | ".join(c for c, _ in cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for name, f in table:
        cells = []
        for c, fmt in cols:
            v = f[c]
            cells.append("-" if isinstance(v, float) and v != v else fmt.format(v))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nlanded main, for comparison (from the issue, not re-measured):")
    for name, text in LANDED.items():
        print(f"  {name}: {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
