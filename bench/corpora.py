"""Benchmark corpora written out as one .txt file per paragraph/abstract (read from a data path)."""

from __future__ import annotations

import json
from pathlib import Path


def squad_paragraphs(dev_json: Path) -> list[tuple[str, str]]:
    """Return (name, context) for every paragraph of a SQuAD file, in order."""
    data = json.loads(dev_json.read_text(encoding="utf-8"))["data"]
    out = []
    for a, article in enumerate(data):
        for p, para in enumerate(article["paragraphs"]):
            out.append((f"a{a:03}_p{p:03}", para["context"]))
    return out


def squad_questions(dev_json: Path) -> list[str]:
    """Return every question of a SQuAD file."""
    data = json.loads(dev_json.read_text(encoding="utf-8"))["data"]
    return [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]


def scifact_corpus(folder: Path) -> list[tuple[str, str]]:
    """Return (doc id, title + abstract) for the BEIR SciFact corpus."""
    out = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            out.append((str(row["_id"]), f"{row.get('title', '')}\n\n{row['text']}".strip()))
    return out


def scifact_queries(
    folder: Path, split: str = "test"
) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """Return (queries by id, qrels {query id: {doc id: grade}}) for a SciFact split."""
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            qid, did, grade = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[did] = int(grade)
    queries = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if str(row["_id"]) in qrels:
                queries[str(row["_id"])] = row["text"]
    return queries, qrels


def write_corpus(items: list[tuple[str, str]], folder: Path) -> Path:
    """Write each (name, text) as ``folder/name.txt`` (once); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in items:
        path = folder / f"{name}.txt"
        if not path.exists():
            path.write_text(text + "\n", encoding="utf-8")
    return folder
