"""Question-set formats for evaluation: SQuAD v1.1/v2.0 JSON, JSONL, CSV and BEIR folders."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from qa_app.errors import QaAppError

FORMATS = ("squad", "jsonl", "csv", "beir")
BEIR_FILES = ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv")


class EvalFormatError(QaAppError, ValueError):
    """A question file that cannot be read; the message names the file (and line) and the reason."""


@dataclass(frozen=True)
class EvalItem:
    """One question with what counts as right: answers (empty = unanswerable) and relevant documents.

    ``docs`` and ``relevance`` name documents by file name (the basename a library stores), so a
    retrieved passage can be matched to them. ``context`` is the gold paragraph (SQuAD only).
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    relevance: tuple[tuple[str, int], ...] = ()  # BEIR graded qrels: (file name, grade > 0)
    context: str | None = None

    @property
    def answerable(self) -> bool:
        """Return True when the question has at least one gold answer."""
        return bool(self.answers)


@dataclass(frozen=True)
class EvalSet:
    """A parsed question file: its items and, for pooled formats, the corpus to build a library from.

    ``corpus`` maps a document file name to its text (SQuAD contexts, BEIR abstracts); it is None
    when the questions run over an existing library (JSONL, CSV).
    """

    path: Path
    format: str
    items: tuple[EvalItem, ...]
    file_hash: str
    corpus: dict[str, str] | None = field(default=None, repr=False)
    retrieval_only: bool = False

    @property
    def has_contexts(self) -> bool:
        """Return True when every item carries its gold paragraph (reader-only mode is possible)."""
        return bool(self.items) and all(item.context is not None for item in self.items)


def hash_path(path: Path) -> str:
    """Return the SHA-256 of a file, or of a BEIR folder's three files (names and bytes)."""
    digest = hashlib.sha256()
    files = [path / name for name in BEIR_FILES] if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def detect_format(path: Path) -> str:
    """Return one of FORMATS for ``path`` from its suffix, else its first characters.

    Raises EvalFormatError when the path is missing or the format cannot be told.
    """
    if path.is_dir():
        return "beir"
    if not path.is_file():
        raise EvalFormatError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        head = handle.read(4096).lstrip()
    if suffix == ".json" or head.startswith("{"):
        # A SQuAD file is one JSON object holding "data" (often on one long line, cut off in
        # ``head``); a JSONL file's first line is a whole question object.
        try:
            first = json.loads(head.split("\n", 1)[0])
        except ValueError:
            return "squad"
        return "jsonl" if isinstance(first, dict) and "question" in first else "squad"
    if head.lower().startswith(("question", '"question')):
        return "csv"
    raise EvalFormatError(
        f"{path}: cannot tell the format; expected SQuAD JSON, JSONL (.jsonl), CSV with a "
        "'question,answer' header (.csv) or a BEIR folder"
    )


def load_eval_set(path: str | Path, fmt: str | None = None) -> EvalSet:
    """Return the parsed question set at ``path`` (format detected unless ``fmt`` is given).

    Raises EvalFormatError naming the file and the reason when it cannot be read.
    """
    path = Path(path).expanduser()
    fmt = fmt or detect_format(path)
    parsers = {"squad": parse_squad, "jsonl": parse_jsonl, "csv": parse_csv, "beir": parse_beir}
    if fmt not in parsers:
        raise EvalFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        return parsers[fmt](path)
    except OSError as exc:
        raise EvalFormatError(f"{exc.filename or path}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise EvalFormatError(f"{path}: not UTF-8 text ({exc.reason})") from exc


def _answers(values: Iterable[str]) -> tuple[str, ...]:
    # Keep order, drop blanks and repeats: the metric takes a max, so repeats change nothing.
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:limit] or "doc"


def parse_squad(path: Path) -> EvalSet:
    """Return a SQuAD v1.1 or v2.0 file as an EvalSet whose corpus holds one document per context."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            raw = json.load(handle)
    except json.JSONDecodeError as exc:
        raise EvalFormatError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise EvalFormatError(f"{path}: not a SQuAD file (no top-level 'data' list)")
    corpus: dict[str, str] = {}
    names: dict[str, str] = {}  # context text -> file name; repeated contexts share one document
    items: list[EvalItem] = []
    seen_ids: set[str] = set()
    for a, article in enumerate(raw["data"]):
        title = str(article.get("title") or f"article {a}")
        for p, paragraph in enumerate(article.get("paragraphs") or []):
            context = paragraph.get("context")
            if not isinstance(context, str) or not context.strip():
                raise EvalFormatError(f"{path}: article {a} paragraph {p} has no 'context'")
            name = names.get(context)
            if name is None:
                name = f"{len(names):05d}_{_slug(title)}.txt"
                names[context] = name
                corpus[name] = context
            for qa in paragraph.get("qas") or []:
                question = str(qa.get("question") or "").strip()
                qid = str(qa.get("id") or f"{a}-{p}-{len(items)}")
                if not question:
                    raise EvalFormatError(f"{path}: question {qid} is empty")
                if qid in seen_ids:
                    raise EvalFormatError(f"{path}: question id {qid} appears twice")
                seen_ids.add(qid)
                impossible = bool(qa.get("is_impossible", False))
                golds = (
                    ()
                    if impossible
                    else _answers(x.get("text", "") for x in qa.get("answers") or [])
                )
                if not impossible and not golds:
                    raise EvalFormatError(f"{path}: question {qid} has no answers")
                items.append(EvalItem(qid, question, golds, (name,), context=context))
    if not items:
        raise EvalFormatError(f"{path}: holds no questions")
    return EvalSet(path, "squad", tuple(items), hash_path(path), corpus)


def _str_list(value: object, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise EvalFormatError(f"{where}: '{key}' must be a list of strings")


def parse_jsonl(path: Path) -> EvalSet:
    """Return a JSONL question file (question, answers, optional id and docs) as an EvalSet."""
    items: list[EvalItem] = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}, line {number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalFormatError(f"{where}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise EvalFormatError(f"{where}: expected a JSON object")
            question = obj.get("question")
            if not isinstance(question, str) or not question.strip():
                raise EvalFormatError(f"{where}: missing 'question'")
            if "answers" not in obj and "answer" not in obj:
                raise EvalFormatError(f"{where}: missing 'answers' (use [] for unanswerable)")
            golds = _str_list(obj.get("answers", obj.get("answer")), where, "answers")
            docs = tuple(Path(d).name for d in _str_list(obj.get("docs"), where, "docs"))
            qid = str(obj.get("id") or f"q{len(items) + 1:04d}")
            items.append(EvalItem(qid, question.strip(), _answers(golds), docs))
    if not items:
        raise EvalFormatError(f"{path}: holds no questions")
    _check_unique(path, items)
    return EvalSet(path, "jsonl", tuple(items), hash_path(path))


def parse_csv(path: Path) -> EvalSet:
    """Return a CSV file with a ``question,answer`` header as an EvalSet ('|' separates answers)."""
    items: list[EvalItem] = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "question" not in header or not ({"answer", "answers"} & set(header)):
            raise EvalFormatError(f"{path}: the first line must be a 'question,answer' header")
        reader.fieldnames = header
        for row in reader:
            number = reader.line_num
            question = (row.get("question") or "").strip()
            if not question:
                if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                    continue  # blank line
                raise EvalFormatError(f"{path}, line {number}: missing question")
            cell = row.get("answer") if "answer" in header else row.get("answers")
            golds = _answers((cell or "").split("|"))
            qid = (row.get("id") or "").strip() or f"q{len(items) + 1:04d}"
            items.append(EvalItem(qid, question, golds))
    if not items:
        raise EvalFormatError(f"{path}: holds no questions")
    _check_unique(path, items)
    return EvalSet(path, "csv", tuple(items), hash_path(path))


def beir_file_name(doc_id: str) -> str:
    """Return the file name a BEIR document is written under (its id, made safe, plus .txt)."""
    return quote(doc_id, safe="-_.") + ".txt"


def parse_beir(path: Path) -> EvalSet:
    """Return a BEIR folder's test queries and corpus as a retrieval-only EvalSet.

    Raises EvalFormatError naming the missing file or the bad line.
    """
    missing = [name for name in BEIR_FILES if not (path / name).is_file()]
    if missing:
        raise EvalFormatError(f"{path}: not a BEIR folder (missing {', '.join(missing)})")
    corpus: dict[str, str] = {}
    for number, obj in _jsonl_objects(path / "corpus.jsonl"):
        if "_id" not in obj:
            raise EvalFormatError(f"{path / 'corpus.jsonl'}, line {number}: missing '_id'")
        title, text = str(obj.get("title") or "").strip(), str(obj.get("text") or "").strip()
        corpus[beir_file_name(str(obj["_id"]))] = f"{title}\n\n{text}" if title else text
    queries = {
        str(obj.get("_id")): str(obj.get("text") or "")
        for _, obj in _jsonl_objects(path / "queries.jsonl")
    }
    qrels: dict[str, dict[str, int]] = {}
    qrels_path = path / "qrels" / "test.tsv"
    with open(qrels_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip("\n").split("\t")
            if number == 1 and parts[0].strip().lower() in ("query-id", "query_id", "qid"):
                continue
            if not line.strip():
                continue
            if len(parts) < 3:
                raise EvalFormatError(
                    f"{qrels_path}, line {number}: expected 3 tab-separated columns"
                )
            try:
                grade = int(float(parts[2]))
            except ValueError as exc:
                raise EvalFormatError(
                    f"{qrels_path}, line {number}: score is not a number"
                ) from exc
            if grade > 0:
                qrels.setdefault(parts[0], {})[beir_file_name(parts[1])] = grade
    items = []
    for qid, judged in qrels.items():
        if qid not in queries:
            raise EvalFormatError(f"{qrels_path}: query {qid} is not in queries.jsonl")
        relevance = tuple(sorted(judged.items()))
        items.append(EvalItem(qid, queries[qid], docs=tuple(judged), relevance=relevance))
    if not items:
        raise EvalFormatError(f"{qrels_path}: no relevant judgements")
    return EvalSet(path, "beir", tuple(items), hash_path(path), corpus, retrieval_only=True)


def _jsonl_objects(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalFormatError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise EvalFormatError(f"{path}, line {number}: expected a JSON object")
            yield number, obj


def _check_unique(path: Path, items: list[EvalItem]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise EvalFormatError(f"{path}: question id {item.id} appears twice")
        seen.add(item.id)


def write_corpus(corpus: dict[str, str], folder: Path) -> Path:
    """Write each corpus document as ``folder/NAME`` (UTF-8), skipping files already identical.

    Returns ``folder``. Files are written atomically so an interrupted run leaves no half file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in corpus.items():
        target = folder / name
        data = text.encode("utf-8")
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            continue
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return folder
