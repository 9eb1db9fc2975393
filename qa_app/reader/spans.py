"""Candidate answer spans from the span model: every window of every passage scored in one pass."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np


class SpanSettings(Protocol):
    """How passages are cut into windows and how long an answer may be (reader.json's)."""

    @property
    def max_len(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def max_answer_tokens(self) -> int: ...


class SpanModel(Protocol):
    """A loaded span model: its window tokenizer (window_tokenizer), its window settings, and
    ``logits``: (input ids, attention mask, token types) in, start and end logits out, as numpy
    arrays."""

    @property
    def tokenizer(self) -> Any: ...
    @property
    def meta(self) -> SpanSettings: ...
    def logits(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]: ...


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


@dataclass(frozen=True)
class Windows:
    """A question paired with passages, cut into model windows: int64 arrays padded to the
    longest window, and per window its passage, which tokens are passage tokens, and their
    character offsets into that passage."""

    input_ids: np.ndarray
    attention_mask: np.ndarray
    token_type_ids: np.ndarray
    passage: tuple[int, ...]
    context: tuple[tuple[int, int], ...]  # [lo, hi) of the passage's tokens in each window
    offsets: tuple[Sequence[tuple[int, int]], ...]


@dataclass(frozen=True)
class WindowTokenizer:
    """The reader's tokenizers (``tokenizers.Tokenizer``): ``pairs`` cuts a (question, passage)
    pair into windows of max_len tokens overlapping by stride, only the passage cut (the windows
    transformers' fast tokenizer makes with truncation="only_second" and
    return_overflowing_tokens, without importing transformers); ``plain`` cuts nothing."""

    pairs: Any
    plain: Any


def window_tokenizer(tokenizer_file: str, max_len: int, stride: int) -> WindowTokenizer:
    """Return the reader's WindowTokenizer from the base model's tokenizer.json.

    Raises the tokenizers library's Exception when the file is unusable.
    """
    from tokenizers import Tokenizer

    pairs, plain = Tokenizer.from_file(tokenizer_file), Tokenizer.from_file(tokenizer_file)
    for tokenizer in (pairs, plain):
        tokenizer.no_padding()
        tokenizer.no_truncation()
    pairs.enable_truncation(max_len, stride=stride, strategy="only_second")
    return WindowTokenizer(pairs, plain)


def make_windows(tokenizer: WindowTokenizer, question: str, texts: Sequence[str]) -> Windows | None:
    """Return the windows of ``question`` over the non-blank ``texts``; None when there are none."""
    import numpy as np

    keep = [i for i, t in enumerate(texts) if t.strip()]
    if not keep or not question.strip():
        return None
    asked = tokenizer.plain.encode(question, add_special_tokens=False)
    if len(asked.ids) > MAX_QUESTION_TOKENS:
        question = question[: asked.offsets[MAX_QUESTION_TOKENS - 1][1]]
    encodings = tokenizer.pairs.encode_batch([(question, texts[i]) for i in keep])
    flat = [(p, e) for p, enc in zip(keep, encodings, strict=True) for e in (enc, *enc.overflowing)]
    width = max(len(e.ids) for _, e in flat)
    shape = (len(flat), width)
    ids, mask, types = (np.zeros(shape, dtype=np.int64) for _ in range(3))
    context: list[tuple[int, int]] = []
    for w, (_, e) in enumerate(flat):
        n = len(e.ids)
        ids[w, :n], mask[w, :n], types[w, :n] = e.ids, e.attention_mask, e.type_ids
        passage_tokens = [i for i, s in enumerate(e.sequence_ids) if s == 1]
        context.append((passage_tokens[0], passage_tokens[-1] + 1) if passage_tokens else (0, 0))
    return Windows(
        ids,
        mask,
        types,
        tuple(p for p, _ in flat),
        tuple(context),
        tuple(e.offsets for _, e in flat),
    )


def _logsumexp(values: np.ndarray) -> float:
    import numpy as np

    top = float(values.max())
    if top == float("-inf"):
        return top
    return top + math.log(float(np.exp(values.astype(np.float64) - top).sum()))


def find_candidates(
    loaded: SpanModel, question: str, texts: Sequence[str], *, per_window: int = 5
) -> list[Candidate]:
    """Return the best ``per_window`` spans of every window of every text, scored independently.

    All windows of all texts go through the model in one call.
    """
    import numpy as np

    from qa_app.reader.boundaries import exact
    from qa_app.reader.calibrator import question_kind

    windows = make_windows(loaded.tokenizer, question, texts)
    if windows is None:
        return []
    kind = question_kind(question)
    breaks = [paragraph_breaks(t) for t in texts]
    starts, ends = loaded.logits(windows.input_ids, windows.attention_mask, windows.token_type_ids)
    n = loaded.meta.max_answer_tokens
    out: list[Candidate] = []
    for w, (lo, hi) in enumerate(windows.context):
        if hi <= lo:
            continue
        s, e = starts[w, lo:hi], ends[w, lo:hi]
        scores = s[:, None] + e[None, :]
        length = np.arange(hi - lo)
        band = (length[None, :] >= length[:, None]) & (length[None, :] - length[:, None] < n)
        offsets = windows.offsets[w]
        passage = windows.passage[w]
        if breaks[passage]:  # an answer never crosses a blank line: both ends in one paragraph
            para = np.searchsorted(
                np.asarray(breaks[passage]), [offsets[t][0] for t in range(lo, hi)], side="right"
            )
            band &= para[:, None] == para[None, :]
        scores = np.where(band, scores, np.float32("-inf")).ravel()
        null = float(starts[w, 0] + ends[w, 0])
        total = _logsumexp(np.append(scores, np.float32(null)))
        # A few more than asked for, so each kept span can see its best non-overlapping rival.
        k = min(max(per_window, 20), scores.size)
        part = np.argpartition(-scores, k - 1)[:k]
        order = part[np.lexsort((part, -scores[part]))]  # best first, ties by position
        found: list[tuple[int, int, float]] = []
        for index in order.tolist():
            value = float(scores[index])
            if value == float("-inf"):
                break
            found.append((*divmod(index, hi - lo), value))
        for i, j, value in found[:per_window]:
            rival = next((v for a, b, v in found if b < i or a > j), float("-inf"))
            start, end = int(offsets[lo + i][0]), int(offsets[lo + j][1])
            start, end = balance_quotes(texts[passage], start, end)
            start, end = balance_brackets(texts[passage], start, end)
            start, end = exact(texts[passage], start, end, kind)
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


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def paragraph_breaks(text: str) -> list[int]:
    """Return the offsets where each blank line of ``text`` ends (a new paragraph starts)."""
    return [m.end() for m in _BLANK_LINE.finditer(text)]


_PAIRS = {"“": "”", "‘": "’", "«": "»", "„": "“"}
_BRACKETS = {"(": ")", "[": "]"}
_EDGE = " ,;:"
NEAR = 16  # characters after a span where its lone opener's closer may still be taken in


def _lone_bracket(span: str, opener: str, closer: str) -> tuple[int, int]:
    """Return the offsets in ``span`` of its first unmatched closer and last unmatched opener
    (-1 when there is none)."""
    opened: list[int] = []
    lone_close = -1
    for i, ch in enumerate(span):
        if ch == opener:
            opened.append(i)
        elif ch == closer:
            if opened:
                opened.pop()
            elif lone_close < 0:
                lone_close = i
    return lone_close, opened[-1] if opened else -1


def balance_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (start, end) moved so the span never holds half a pair of brackets.

    The reader's span can run into a parenthesis without its other half ("global Census of
    Marine Life (CoML", "PAL-M) systems, as well as …"). A lone opener whose closer comes within
    NEAR characters after the span takes the bracket in whole ("(CoML)"); otherwise the span keeps
    the part before the lone bracket, where the answer's head is, or, when nothing stands before
    it, the part after. Chosen on the held-out training articles (training/README.md): 8 of 1,506
    top answers change, 3 more of them exact and none fewer.
    """
    for opener, closer in _BRACKETS.items():
        for _ in range(4):  # each pass removes one lone bracket; spans hold at most a few
            span = text[start:end]
            lone_close, lone_open = _lone_bracket(span, opener, closer)
            cut = lone_open if lone_open >= 0 else lone_close
            if cut < 0:
                break
            if lone_open >= 0 and lone_close < 0:
                close = text.find(closer, end, end + NEAR)
                if close >= 0 and opener not in text[end:close] and "\n" not in text[end:close]:
                    end = close + 1  # the bracket closes just after: take it whole
                    continue
            if span[:cut].strip(_EDGE):
                end = start + cut
            else:
                start = start + cut + 1
            while start < end and text[start] in _EDGE:
                start += 1
            while end > start and text[end - 1] in _EDGE:
                end -= 1
    return start, end


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
