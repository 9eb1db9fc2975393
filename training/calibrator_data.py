"""Read held-out TRAINING questions with the shipped reader and save its spans for the calibrator.

Usage:
    python training/calibrator_data.py --train TRAIN.json --qed QED_TRAIN.json [QED_DEV.json]
        --out runs/calibrator/spans.jsonl [--qed-limit 3000] [--seed 13]

Two sources the reader never trained on: the held-out SQuAD train articles listed in reader.json
(every question) and QED (Natural Questions paragraphs and real search queries; a seeded sample).
Each question is read once over [gold paragraph, two hard negatives, the gold paragraph with the
answer's sentences taken out] and, where one can be made, its near-miss copy (a name or number
swapped for one the paragraph never mentions) once over the gold paragraph. Every window is scored
on its own, so the spans of any subset of those passages are what a read of that subset gives;
training/train_calibrator.py builds its conditions from them.

A held-out SQuAD question is also asked the way the app asks it (``--retrieve``, on by default):
every paragraph of the held-out articles is a document of a library built by the app itself, the
question retrieves its top passages there (qa_app.retrieval, contracts.DEFAULT_K) and the reader
reads them in that order ("ret_*" fields; "ret_gold" marks the passages of the question's own
paragraph). One JSON line per question; the file is appended to and a rerun skips the questions
already done.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibrate_reader import heldout_sets  # noqa: E402
from data import (  # noqa: E402
    _terms,
    answerless_context,
    load_articles,
    swap_donors,
    swapped_question,
)


def qed_items(paths: list[Path], limit: int, seed: int) -> list[dict[str, Any]]:
    """Return QED questions as held-out items: gold paragraph, two hard negatives from other QED
    paragraphs (most shared question words, none holding the answer), near-miss and answerless
    copies."""
    articles = [a for p in paths for a in load_articles(p)]
    donors = swap_donors(articles)
    contexts: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for a in articles:
        for para in a["paragraphs"]:
            contexts.append(para["context"])
            for qa in para["qas"]:
                if qa.get("answers"):
                    rows.append((len(contexts) - 1, qa))
    rng = random.Random(seed)
    rng.shuffle(rows)
    rows = rows[:limit]
    # An inverted index of paragraph words, so hard negatives need not scan every paragraph.
    index: dict[str, list[int]] = {}
    bags = [_terms(c) for c in contexts]
    for i, bag in enumerate(bags):
        for w in bag:
            index.setdefault(w, []).append(i)
    swap_rng = random.Random(seed + 1)
    items = []
    for own, qa in rows:
        golds = [a["text"] for a in qa["answers"]]
        q = _terms(qa["question"])
        hits: Counter[int] = Counter()
        for w, c in q.items():
            postings = index.get(w, [])
            if len(postings) > 2000:
                continue  # a word in most paragraphs says nothing
            for i in postings:
                hits[i] += min(c, bags[i][w])
        negs = []
        for i, _ in hits.most_common(12):
            if i == own or any(g.lower() in contexts[i].lower() for g in golds):
                continue
            negs.append(contexts[i])
            if len(negs) == 2:
                break
        first = qa["answers"][0]
        items.append(
            {
                "q": qa["question"],
                "gold": contexts[own],
                "negs": negs,
                "golds": golds,
                "swap": swapped_question(qa["question"], contexts[own], donors, swap_rng),
                "drop": answerless_context(contexts[own], first["answer_start"], first["text"]),
            }
        )
    return items


def read_spans(reader: Any, question: str, texts: list[str]) -> list[dict[str, Any]]:
    """Return the reader's spans over ``texts`` (top 40, features included) as JSON-ready dicts."""
    from qa_app.records import Passage

    passages = [
        Passage(i, i, f"p{i}", f"p{i}", None, 0, len(t), t, 1.0) for i, t in enumerate(texts)
    ]
    return [asdict(s) for s in reader.read(question, passages, top_n=40)]


class HeldoutLibrary:
    """The held-out paragraphs as a library of the app (one document per paragraph), for asking
    each question the way the app does: retrieval, then the reader over the retrieved passages."""

    def __init__(self, contexts: list[str], home: Path) -> None:
        import os

        os.environ["QA_APP_HOME"] = str(home)  # a scratch home: nothing of the user's is touched
        from qa_app.engine import Engine

        folder = home / "paragraphs"
        folder.mkdir(parents=True, exist_ok=True)
        self.index = {c: i for i, c in enumerate(contexts)}
        for i, text in enumerate(contexts):
            (folder / f"p{i:05}.txt").write_text(text + "\n", encoding="utf-8")
        self.engine = Engine("heldout")
        self.engine.add([folder])

    def retrieve(self, question: str, gold: str) -> tuple[list[str], list[bool]]:
        """Return the retrieved passages' texts, best first, and which are from ``gold``."""
        from qa_app.contracts import DEFAULT_K

        passages = self.engine.search(question, DEFAULT_K)
        own = f"p{self.index[gold]:05}.txt"
        return [p.text for p in passages], [Path(p.path).name == own for p in passages]


def main(argv: list[str] | None = None) -> int:
    """Write the spans file; return an exit code."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--qed", nargs="*", default=[])
    p.add_argument("--out", required=True)
    p.add_argument("--qed-limit", type=int, default=3000)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-squad", action="store_true", help="QED only (run beside a SQuAD run)")
    p.add_argument("--reverse", action="store_true", help="QED questions last to first")
    p.add_argument(
        "--no-retrieve",
        dest="retrieve",
        action="store_false",
        help="skip asking the held-out SQuAD questions through a library (retrieval + reader)",
    )
    args = p.parse_args(argv)
    import os

    # The app's own thread setting (qa_app.models.threads): ONNX Runtime runs, or torch's pool.
    os.environ["QA_APP_THREADS"] = str(args.threads)
    from qa_app.reader.neural import META_FILE, NeuralReader, resource_dir

    meta = json.loads((resource_dir() / META_FILE).read_text())
    items = []
    if not args.no_squad:
        items += [
            {**it, "source": "squad-heldout"}
            for it in heldout_sets(
                Path(args.train), meta["data"]["heldout_articles"], 10**9, args.seed
            )
        ]
    if args.qed:
        qed = qed_items([Path(q) for q in args.qed], args.qed_limit, args.seed)
        # --reverse reads QED from the end, so a second process beside a full run never repeats it.
        items += [{**it, "source": "qed"} for it in (qed[::-1] if args.reverse else qed)]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    if out.exists():
        done = sum(1 for _ in out.open(encoding="utf-8"))
    reader = NeuralReader()
    from qa_app.models import onnx_runtime

    # The reader's logits, and so the features, differ a little between its int8 and fp32 runs.
    variant = onnx_runtime.backend()
    variant += f"-{onnx_runtime.reader_precision()}" if variant == "onnx" else "-fp32"
    library = None
    if args.retrieve and not args.no_squad:
        import tempfile

        contexts = sorted({it["gold"] for it in items if it["source"] == "squad-heldout"})
        library = HeldoutLibrary(contexts, Path(tempfile.mkdtemp(prefix="qa-calibrator-")))
    started = time.time()
    with out.open("a", encoding="utf-8") as sink:
        for n, it in enumerate(items):
            if n < done:
                continue
            texts = [it["gold"], *it["negs"]] + ([it["drop"]] if it["drop"] else [])
            row = {
                "n": n,
                "source": it["source"],
                "reader": variant,
                "q": it["q"],
                "golds": it["golds"],
                "texts": texts,
                "negs": len(it["negs"]),
                "has_drop": bool(it["drop"]),
                "spans": read_spans(reader, it["q"], texts),
                "swap_q": it["swap"],
                "swap_spans": read_spans(reader, it["swap"], [it["gold"]]) if it["swap"] else [],
            }
            if library is not None and it["source"] == "squad-heldout":
                ret_texts, ret_gold = library.retrieve(it["q"], it["gold"])
                row["ret_texts"], row["ret_gold"] = ret_texts, ret_gold
                row["ret_spans"] = read_spans(reader, it["q"], ret_texts)
            sink.write(json.dumps(row) + "\n")
            if n % 200 == 0:
                sink.flush()
                rate = (n + 1 - done) / max(1e-9, time.time() - started)
                print(f"{n + 1}/{len(items)} ({rate:.1f}/s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
