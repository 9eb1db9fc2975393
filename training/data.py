"""SQuAD-format training data: article split, negative passages, and sliding-window features."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "was",
        "were",
        "are",
        "be",
        "been",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "that",
        "this",
        "as",
        "it",
        "its",
    ]
)


@dataclass(frozen=True)
class Example:
    """One question over one passage; ``answer_start`` is -1 when the passage lacks the answer."""

    qid: str
    question: str
    context: str
    answer_start: int
    answer_text: str


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_articles(path: str | Path) -> list[dict[str, Any]]:
    """Return the ``data`` list of a SQuAD-format JSON file; raise ValueError naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return list(json.load(handle)["data"])
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path}: not a readable SQuAD-format file ({exc})") from exc


def split_articles(
    articles: Sequence[dict[str, Any]], heldout_fraction: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return (train, held-out) articles, split by a hash of the title so it never changes."""
    train, heldout = [], []
    for article in articles:
        h = int(hashlib.sha1(article["title"].encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
        (heldout if h < heldout_fraction else train).append(article)
    return train, heldout


def _terms(text: str) -> Counter[str]:
    return Counter(w for w in _WORD_RE.findall(text.lower()) if w not in _STOP)


def _hard_negative(question: str, paragraphs: Sequence[str], own: int, rng: random.Random) -> int:
    """Return the index of the other paragraph sharing most question words (what retrieval brings)."""
    q = _terms(question)
    best, best_score = -1, -1.0
    for i, text in enumerate(paragraphs):
        if i == own:
            continue
        terms = _terms(text)
        # Rare-ish overlap weighting is overkill here; tie-break randomly so negatives vary.
        score = sum(min(c, terms[w]) for w, c in q.items()) + rng.random() * 0.5
        if score > best_score:
            best, best_score = i, score
    return best


_NAME_RE = re.compile(r"\b(?:[A-Z][\w'’-]+|\d[\d,.]*)\b")


def _shape(word: str) -> str:
    return "number" if word[0].isdigit() else "name"


def swap_donors(articles: Sequence[dict[str, Any]]) -> list[str]:
    """Return the names and numbers (not the first word) of every question, sorted: what
    :func:`swapped_question` may swap in."""
    return sorted(
        {
            m.group()
            for a in articles
            for p in a["paragraphs"]
            for qa in p["qas"]
            for m in _NAME_RE.finditer(qa["question"])
            if m.start() > 0
        }
    )


def swapped_question(
    question: str, context: str, donors: Sequence[str], rng: random.Random
) -> str | None:
    """Return ``question`` with one of its names or numbers that the passage mentions replaced by
    a donor of the same shape that the passage never mentions, or None when none can be swapped.

    "When did Russia receive the first shipment?" over a passage about Russia becomes "When did
    Norway receive the first shipment?": the passage still looks relevant, but no longer answers
    it. This is how SQuAD 2.0 builds many of its unanswerable questions (entity swap).
    """
    lowered = context.lower()
    words = [m for m in _NAME_RE.finditer(question) if m.start() > 0]
    targets = [m for m in words if re.search(rf"\b{re.escape(m.group().lower())}\b", lowered)]
    if not targets or not donors:
        return None
    target = rng.choice(targets)
    for _ in range(20):
        donor = rng.choice(donors)
        if _shape(donor) != _shape(target.group()) or donor.lower() in lowered:
            continue
        return question[: target.start()] + donor + question[target.end() :]
    return None


MIN_ANSWERLESS_CHARS = 150  # a shorter remainder is too little passage to learn refusing from


def answerless_context(context: str, answer_start: int, answer_text: str) -> str | None:
    """Return ``context`` without the sentences that hold the answer, or None when too little is
    left or the answer is still there (said twice).

    The rest of the paragraph stays: same topic, same names, other numbers and dates, but the
    answer is gone. "How many missiles did Iran send?" over a report that discusses the missiles
    without counting them, and counts something else, is this kind of question.
    """
    from qa_app.sentences import sentence_spans

    end = answer_start + len(answer_text)
    kept = [(a, b) for a, b in sentence_spans(context) if b <= answer_start or a >= end]
    rest = " ".join(context[a:b] for a, b in kept)
    if len(rest) < MIN_ANSWERLESS_CHARS or answer_text.strip().lower() in rest.lower():
        return None
    return rest


def build_examples(
    articles: Sequence[dict[str, Any]],
    *,
    negative_ratio: float,
    seed: int,
    hard_fraction: float = 0.7,
    swap_ratio: float = 0.0,
    drop_ratio: float = 0.0,
) -> list[Example]:
    """Return one positive example per question plus, for ``negative_ratio`` of questions, one
    negative: a similar paragraph of the same article (``hard_fraction``) or of a random article.
    For ``swap_ratio`` of questions, also the question with a name or number swapped
    (:func:`swapped_question`) over its own paragraph, labelled "no answer". For ``drop_ratio``
    of questions, also the question over its own paragraph with the answer's sentence taken out
    (:func:`answerless_context`), labelled "no answer".

    A negative is dropped when the gold answer text appears in it, so 'no answer' is honest.
    With ``swap_ratio`` and ``drop_ratio`` 0 the examples are exactly those of earlier runs with
    the same seed, and each has its own random stream, so one never changes what the other picks.
    """
    rng = random.Random(seed)
    swap_rng = random.Random(seed + 1)  # its own stream, so swap_ratio 0 changes nothing else
    drop_rng = random.Random(seed + 2)
    all_paragraphs = [p["context"] for a in articles for p in a["paragraphs"]]
    donors = swap_donors(articles) if swap_ratio > 0 else []
    out: list[Example] = []
    for article in articles:
        contexts = [p["context"] for p in article["paragraphs"]]
        for pi, para in enumerate(article["paragraphs"]):
            for qa in para["qas"]:
                answer = qa["answers"][0]
                out.append(
                    Example(
                        qa["id"],
                        qa["question"],
                        para["context"],
                        answer["answer_start"],
                        answer["text"],
                    )
                )
                if swap_ratio > 0 and swap_rng.random() < swap_ratio:
                    swapped = swapped_question(qa["question"], para["context"], donors, swap_rng)
                    if swapped is not None:
                        out.append(Example(qa["id"] + "-swap", swapped, para["context"], -1, ""))
                if drop_ratio > 0 and drop_rng.random() < drop_ratio:
                    rest = answerless_context(
                        para["context"], answer["answer_start"], answer["text"]
                    )
                    if rest is not None:
                        out.append(Example(qa["id"] + "-drop", qa["question"], rest, -1, ""))
                if rng.random() >= negative_ratio:
                    continue
                if len(contexts) > 1 and rng.random() < hard_fraction:
                    neg = contexts[_hard_negative(qa["question"], contexts, pi, rng)]
                else:
                    neg = rng.choice(all_paragraphs)
                if answer["text"].lower() in neg.lower():
                    continue
                out.append(Example(qa["id"] + "-neg", qa["question"], neg, -1, ""))
    return out


@dataclass
class Features:
    """Tokenised windows: token ids, segment ids and start/end labels (0 = no answer)."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    starts: list[int]
    ends: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def featurize(
    examples: Sequence[Example], tokenizer: Any, *, max_len: int, stride: int, chunk: int = 2000
) -> Features:
    """Return sliding-window features; a window without the whole answer is labelled CLS (0, 0)."""
    feats = Features([], [], [], [])
    for lo in range(0, len(examples), chunk):
        batch = examples[lo : lo + chunk]
        enc = tokenizer(
            [e.question for e in batch],
            [e.context for e in batch],
            truncation="only_second",
            max_length=max_len,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
            padding=False,
        )
        for w, ex_index in enumerate(enc["overflow_to_sample_mapping"]):
            ex = batch[ex_index]
            offsets = enc["offset_mapping"][w]
            seq_ids = enc.sequence_ids(w)
            start_tok = end_tok = 0
            if ex.answer_start >= 0:
                a0, a1 = ex.answer_start, ex.answer_start + len(ex.answer_text)
                ctx = [i for i, s in enumerate(seq_ids) if s == 1]
                if ctx and offsets[ctx[0]][0] <= a0 and offsets[ctx[-1]][1] >= a1:
                    start_tok = next(i for i in ctx if offsets[i][1] > a0)
                    end_tok = next(i for i in reversed(ctx) if offsets[i][0] < a1)
                    if end_tok < start_tok:  # answer inside a single token's gap; skip label
                        start_tok = end_tok = 0
            feats.input_ids.append(enc["input_ids"][w])
            feats.token_type_ids.append(enc["token_type_ids"][w])
            feats.starts.append(start_tok)
            feats.ends.append(end_tok)
    return feats


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, seed: int, *, pool: int = 50
) -> list[list[int]]:
    """Return a shuffled list of batches (indices) whose members have similar lengths.

    Indices are shuffled, cut into pools of ``pool`` batches, sorted by length inside each pool,
    then the batches are shuffled: little padding, yet no length order across the epoch.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    span = batch_size * pool
    for lo in range(0, len(order), span):
        part = sorted(order[lo : lo + span], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def iter_eval_questions(
    articles: Sequence[dict[str, Any]],
) -> Iterator[tuple[str, str, str, list[str]]]:
    """Yield (id, question, context, gold answer texts) for every question of SQuAD-format articles."""
    for article in articles:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                yield qa["id"], qa["question"], para["context"], [a["text"] for a in qa["answers"]]
