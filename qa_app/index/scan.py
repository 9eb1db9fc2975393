"""Which files an added file or folder stands for: walking folders, hidden files, exclusions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from qa_app.index.schema import Root

OnError = Callable[[str, str], None]


def absolute(raw: str | Path) -> str:
    """Return the absolute form of a path the user typed (links kept)."""
    return str(Path(os.path.abspath(Path(raw).expanduser())))


def under(path: str, folder: str) -> bool:
    """Return whether ``path`` lies inside ``folder`` (not equal to it)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def covered(path: str, prefixes: Sequence[str]) -> bool:
    """Return whether ``path`` is one of ``prefixes`` or lies inside one of them."""
    return any(path == p or under(path, p) for p in prefixes)


def is_hidden(name: str) -> bool:
    """Return whether a file or folder name is hidden (dot files, Office lock files)."""
    return name.startswith(".") or name.startswith("~$")


def walk(root: str, on_error: OnError) -> Iterator[Path]:
    """Yield the visible files under ``root`` in a stable order; unreadable folders are reported."""

    def onerror(exc: OSError) -> None:
        on_error(exc.filename or root, f"cannot be read ({exc.strerror})")

    for folder, dirs, files in os.walk(root, onerror=onerror):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        for name in sorted(files):
            if not is_hidden(name):
                yield Path(folder) / name


def scan(
    roots: Sequence[Root],
    exclusions: Sequence[str],
    suffixes: frozenset[str] | set[str],
    on_error: OnError,
) -> list[str]:
    """Return the sorted files the roots stand for: explicit files, and supported files found in
    folders that are not excluded (an exclusion does not apply to a root added inside it)."""
    found: dict[str, None] = {}
    for root in roots:
        if root.kind == "file":
            found[root.path] = None
            continue
        if not Path(root.path).is_dir():
            on_error(root.path, "folder no longer exists or cannot be opened")
            continue
        applying = [e for e in exclusions if not covered(root.path, [e])]
        for path in walk(root.path, on_error):
            text = str(path)
            if path.suffix.lower() in suffixes and not covered(text, applying):
                found[text] = None
    return sorted(found)
