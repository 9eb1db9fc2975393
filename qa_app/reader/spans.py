"""Candidate answer spans from the span model: every window of every passage scored in one pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class SpanSettings(Protocol):
    """How passages are cut into windows and how long an answer may be (reader.json's)."""

    @property
    def max_len(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def max_answer_tokens(self) -> int: ...


class SpanModel(Protocol):
    """A loaded span model: called with (input ids, attention mask, token types), it returns the
    start and end logits; its fast tokenizer; its window settings."""

    @property
    def model(self) -> Any: ...
    @property
    def tokenizer(self) -> Any: ...
    @property
    def meta(self) -> SpanSettings: ...


MAX_QUESTION_TOKENS = 64  # longer questions are cut so the passage keeps most of each window


@dataclass(frozen=True)
class Candidate:
    """A span found in one window: char offsets into the passage and its raw logits.

    ``window_logsumexp`` is the log-sum-exp over every allowed span of the window and its
    no-answer score, so ``exp(span_logit - window_logsumexp)`` is the span's share of the window's
    probability; ``runner_up`` is the best logit of another span that does not overlap this one.
    """

    passage_index: int
    start: int
    end: int
    span_logit: float
    null_logit: float
    start_logit: float = 0.0
    end_logit: float = 0.0
    window_logsumexp: float = 0.0
    runner_up: float = float("-inf")
    tokens: int = 1

    @property
    def margin(self) -> float:
        """Return how far the span beats the window's no-answer (CLS) score."""
        return self.span_logit - self.null_logit

    @property
    def window_prob(self) -> float:
        """Return the span's share of its window's probability (no-answer included)."""
        return math.exp(min(0.0, self.span_logit - self.window_logsumexp))


def find_candidates(
    loaded: SpanModel, question: str, texts: Sequence[str], *, per_window: int = 5
) -> list[Candidate]:
    """Return the best ``per_window`` spans of every window of every text, scored independently.

    All windows of all texts go through the model in one forward pass.
    """
    import torch

    tok, meta = loaded.tokenizer, loaded.meta
    keep = [i for i, t in enumerate(texts) if t.strip()]
    if not keep or not question.strip():
        return []
    q_tokens = tok.tokenize(question)
    if len(q_tokens) > MAX_QUESTION_TOKENS:
        question = tok.convert_tokens_to_string(q_tokens[:MAX_QUESTION_TOKENS])
    enc = tok(
        [question] * len(keep),
        [texts[i] for i in keep],
        truncation="only_second",
        max_length=meta.max_len,
        stride=meta.stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_token_type_ids=True,
        padding=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        starts, ends = loaded.model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    n = meta.max_answer_tokens
    out: list[Candidate] = []
    for w in range(starts.shape[0]):
        seq = enc.sequence_ids(w)
        ctx = [i for i, s in enumerate(seq) if s == 1]
        if not ctx:
            continue
        lo, hi = ctx[0], ctx[-1] + 1
        s, e = starts[w, lo:hi], ends[w, lo:hi]
        scores = s[:, None] + e[None, :]
        length = torch.arange(hi - lo)
        band = (length[None, :] >= length[:, None]) & (length[None, :] - length[:, None] < n)
        scores = scores.masked_fill(~band, float("-inf")).flatten()
        null = float(starts[w, 0] + ends[w, 0])
        total = float(torch.logsumexp(torch.cat([scores, torch.tensor([null])]), 0))
        offsets = enc["offset_mapping"][w]
        passage = keep[int(enc["overflow_to_sample_mapping"][w])]
        # A few more than asked for, so each kept span can see its best non-overlapping rival.
        k = min(max(per_window, 20), scores.numel())
        values, flat = torch.topk(scores, k)
        found: list[tuple[int, int, float]] = []
        for value, index in zip(values.tolist(), flat.tolist(), strict=True):
            if value == float("-inf"):
                break
            found.append((*divmod(index, hi - lo), value))
        for i, j, value in found[:per_window]:
            rival = next((v for a, b, v in found if b < i or a > j), float("-inf"))
            start, end = int(offsets[lo + i][0]), int(offsets[lo + j][1])
            start, end = balance_quotes(texts[passage], start, end)
            out.append(
                Candidate(
                    passage,
                    start,
                    end,
                    value,
                    null,
                    start_logit=float(s[i]),
                    end_logit=float(e[j]),
                    window_logsumexp=total,
                    runner_up=rival,
                    tokens=j - i + 1,
                )
            )
    return out


_PAIRS = {"“": "”", "‘": "’", "«": "»", "„": "“"}


def balance_quotes(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) widened or trimmed so the span never holds half a pair of quotes.

    The tokenizer makes a quote mark a token of its own, so a span can keep a closing quote and
    lose its opening one (`credible” intelligence` for `“credible” intelligence`). A lone closer
    takes in the opener just before the span; a lone opener takes in the closer just after it;
    a quote left unmatched at either edge is dropped.
    """
    for _ in range(2):
        span = text[start:end]
        for opener, closer in _PAIRS.items():
            if closer == "“":
                continue
            opens, closes = span.count(opener), span.count(closer)
            if closer == "’" and not opens and text[start - 1 : start] != "‘":
                continue  # ’ is also the apostrophe: only count it when a ‘ is in play
            if closes > opens:
                if text[start - 1 : start] == opener:
                    start -= 1
                elif span.endswith(closer):
                    end -= 1
            elif opens > closes:
                if text[end : end + 1] == closer:
                    end += 1
                elif span.startswith(opener):
                    start += 1
        straight = text[start:end].count('"')
        if straight % 2:
            if text[start:end].startswith('"') and text[end : end + 1] != '"':
                start += 1
            elif text[start:end].endswith('"') and text[start - 1 : start] != '"':
                end -= 1
            elif text[start - 1 : start] == '"':
                start -= 1
            elif text[end : end + 1] == '"':
                end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
