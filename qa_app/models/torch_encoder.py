"""The embedding model on plain torch: BERT, mean pooling, L2 norm, as sentence-transformers runs it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def mean_pooled(bert: Any) -> Any:
    """Return a torch module: ``bert``'s token vectors averaged over real tokens, unit length.

    The same computation as sentence-transformers' Pooling (mean) and Normalize modules; the
    ONNX graph of the embedder is traced from it.
    """
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(1)
            counts = mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(summed / counts, p=2.0, dim=1)

    return MeanPooled().eval()


class TorchSentenceEncoder:
    """The torch fp32 fallback where sentence-transformers is not installed (the packaged app)."""

    def __init__(self, model_dir: Path) -> None:
        """Load the verified model folder; raise OSError from transformers if it is unusable."""
        from qa_app.models.weights import base_bert, sentence_tokenizer

        self.module = mean_pooled(base_bert(model_dir))
        self.tokenizer = sentence_tokenizer(model_dir)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, **_: Any) -> np.ndarray:
        """Return unit-length float32 vectors, one row per text (keywords as SentenceTransformer's)."""
        import numpy as np
        import torch

        rows: list[np.ndarray] = []
        for lo in range(0, len(texts), batch_size):
            batch = self.tokenizer.encode_batch(
                [str(t).strip() for t in texts[lo : lo + batch_size]]
            )
            ids, mask, types = (
                torch.tensor([getattr(e, name) for e in batch], dtype=torch.long)
                for name in ("ids", "attention_mask", "type_ids")
            )
            with torch.inference_mode():
                rows.append(self.module(ids, mask, types).numpy())
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)
