"""The readers the settings offer, the default one and their thresholds, as the window learns them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qa_app.gui.backend import FALLBACK_READERS, Backend

if TYPE_CHECKING:
    from qa_app.contracts import Engine

log = logging.getLogger(__name__)


@dataclass
class Readers:
    """The readers the settings offer, the default one, and each one's threshold once known."""

    names: list[str] = field(default_factory=lambda: list(FALLBACK_READERS))
    default: str | None = None  # known once the readers are listed
    thresholds: dict[str, float] = field(default_factory=dict)

    def learn(self, reader: str, threshold: float) -> None:
        """Remember ``reader``'s threshold unless it is already known."""
        self.thresholds.setdefault(reader, threshold)


def list_readers(backend: Backend) -> tuple[list[str], str]:
    """Return the reader names and the default one (imports the reader registry: a worker)."""
    return backend.readers(), backend.default_reader()


def thresholds(engine: Engine, chosen: str | None) -> dict[str, float]:
    """Return the thresholds of the readers already loaded (the default and the ``chosen`` one)."""
    out: dict[str, float] = {}
    for name in {None, chosen}:
        try:
            reader = engine.reader(name)
            out[reader.name] = float(reader.threshold)
        except Exception:  # noqa: BLE001 - a reader that fails says so when asked
            log.debug("threshold of reader %r unknown", name, exc_info=True)
    return out
