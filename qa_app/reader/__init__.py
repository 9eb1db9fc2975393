"""Extractive readers behind one protocol, found by name."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from qa_app.errors import InvalidInput
from qa_app.reader.base import Reader

if TYPE_CHECKING:
    from qa_app.models.embedding import Embedder

# name -> "module:factory"; the factory is called with the embedder. Imported only when asked
# for, so a reader's heavy dependencies load with it. Adding a reader is one line here.
_FACTORIES: dict[str, str] = {
    "neural": "qa_app.reader.neural:NeuralReader",
    "sentence": "qa_app.reader.sentence:SentenceReader",
}
READERS: tuple[str, ...] = tuple(_FACTORIES)
DEFAULT_READER = "neural"

__all__ = ["DEFAULT_READER", "READERS", "Reader", "get_reader"]


def get_reader(name: str, embedder: Embedder) -> Reader:
    """Return a new reader called ``name`` built over ``embedder``.

    Raises InvalidInput (a ValueError) naming the valid readers when ``name`` is unknown.
    """
    target = _FACTORIES.get(name)
    if target is None:
        valid = ", ".join(sorted(_FACTORIES))
        raise InvalidInput(f"unknown reader {name!r}; choose one of: {valid}")
    module_name, _, attr = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    reader: Reader = factory(embedder)
    return reader
