"""The trained span reader: a MiniLM span model (bundled base + shipped delta weights), CPU, offline."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_app.records import Passage, Span

RESOURCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "reader"
WEIGHTS_FILE = "reader.safetensors"
META_FILE = "reader.json"
FROZEN_PREFIX = "bert.embeddings.word_embeddings."  # shared with the bundled base model, never stored


class ReaderModelError(RuntimeError):
    """The shipped reader weights are missing, damaged or do not match the base model."""


def resource_dir() -> Path:
    """Return the folder holding reader.safetensors and reader.json (also inside a frozen app)."""
    import sys

    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "resources" / "reader").is_dir():
        return Path(frozen) / "resources" / "reader"
    return RESOURCE_DIR


def build_span_model(base_dir: str | Path, *, pretrained: bool = True) -> Any:
    """Return a torch module: the BERT encoder in ``base_dir`` plus a linear start/end head.

    With ``pretrained=False`` only the config is read (weights come from a state dict later).
    Raises OSError from transformers when the directory holds no usable model.
    """
    import torch
    from transformers import BertConfig, BertModel

    class SpanModel(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert
            self.qa = torch.nn.Linear(bert.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.qa(hidden)
            return logits[..., 0], logits[..., 1]

    if pretrained:
        bert = BertModel.from_pretrained(
            str(base_dir), add_pooling_layer=False, local_files_only=True
        )
    else:
        bert = BertModel(BertConfig.from_pretrained(str(base_dir)), add_pooling_layer=False)
    return SpanModel(bert)


def delta_state(model: Any) -> dict[str, Any]:
    """Return the parameters that differ from the base model (all but the word embeddings)."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith(FROZEN_PREFIX)}


@dataclass(frozen=True)
class Calibration:
    """Maps a window's (best span logit - null logit) margin to [0, 1]: sigmoid(a * margin + b)."""

    scale: float = 1.0
    bias: float = 0.0

    def __call__(self, margin: float) -> float:
        z = self.scale * margin + self.bias
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0
