"""Model files: the error they raise, their SHA-256 checks (once per process) and the shared tokenizer."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from qa_app.errors import QaAppError


class ModelError(QaAppError, RuntimeError):
    """The bundled model is missing or is not the file we expect."""


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_hash_lock = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}


def sha256_cached(path: Path) -> str:
    """Return sha256_file(path), computed once per process while the file's size and mtime stay.

    The embedder and the reader both check the 90 MB base weights; the second check is free.
    """
    info = path.stat()
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    with _hash_lock:
        if key not in _hashes:
            _hashes[key] = sha256_file(path)
        return _hashes[key]


def quiet_loading() -> None:
    """Hide transformers' "Loading weights" bars: loading is the app's business, not the user's."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def base_bert(directory: str | Path) -> Any:
    """Return the BERT of the model folder without its pooler, loaded quietly (offline only).

    The checkpoint's pooler is unused by both models; transformers' "unexpected keys" report
    about it is kept quiet. Raises OSError from transformers when the folder is unusable.
    """
    from transformers import BertModel
    from transformers.utils import logging as hf_logging

    quiet_loading()
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return BertModel.from_pretrained(
            str(directory), add_pooling_layer=False, local_files_only=True
        )
    finally:
        hf_logging.set_verbosity(level)


def sentence_tokenizer(directory: Path) -> Any:
    """Return the model's fast tokenizer set up as sentence-transformers uses it; raise ModelError.

    Truncated to the model's max_seq_length, padded to the longest text of each batch.
    """
    import json

    from tokenizers import Tokenizer

    try:
        config = json.loads((directory / "sentence_bert_config.json").read_text("utf-8"))
        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    except Exception as exc:  # OSError, ValueError, and tokenizers' own plain Exception
        raise ModelError(f"{directory}: tokenizer files are unusable ({exc})") from exc
    tokenizer.enable_truncation(int(config.get("max_seq_length", 256)))
    pad = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
    return tokenizer
