"""Saving an exported result (qa_app.render makes its Markdown or JSON): whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def save(target: str, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all (via a ``.part`` file); raises OSError."""
    partial = Path(f"{target}.part")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
