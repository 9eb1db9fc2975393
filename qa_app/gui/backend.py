"""The window's door to the engine: opens libraries lazily so torch loads off the UI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from qa_app import contracts

FALLBACK_READERS = ["sentence"]


class Backend(Protocol):
    """What the window needs besides an open engine; the tests swap in a fake."""

    def open(self, library: str | None) -> contracts.Engine:
        """Return an engine for ``library`` (None: the default library). Slow: call off the UI thread."""
        ...

    def libraries(self) -> list[str]:
        """Return the names of the libraries on disk."""
        ...

    def rename_library(self, old: str, new: str) -> None:
        """Rename a library."""
        ...

    def delete_library(self, name: str) -> None:
        """Delete a library."""
        ...

    def repair_library(self, name: str | None) -> str:
        """Rebuild a damaged library's database from its added files; return what was done, in
        one or two sentences. Slow: call off the UI thread."""
        ...

    def readers(self) -> list[str]:
        """Return the names of the available readers."""
        ...

    def default_reader(self) -> str:
        """Return the name of the reader used when none is chosen."""
        ...


class EngineBackend:
    """The real engine; every method imports qa_app.engine on first use, so call them off the UI thread."""

    def open(self, library: str | None) -> contracts.Engine:
        """Return a qa_app.engine.Engine for ``library``; raises what Engine raises."""
        from qa_app.engine import Engine

        return Engine(library)

    def libraries(self) -> list[str]:
        """Return the names of the libraries on disk."""
        from qa_app.engine import library_admin

        return library_admin().libraries()

    def repair_library(self, name: str | None) -> str:
        """Rebuild a damaged library (contracts.LibraryAdmin.repair_library); return a summary."""
        from qa_app.engine import library_admin

        report = library_admin().repair_library(name)
        n = len(report.roots)
        said = [
            f"Repaired: {n} added file{'' if n == 1 else 's'} or folder{'' if n == 1 else 's'} "
            f"read again; the damaged database is kept as {report.kept.name}."
        ]
        if report.lost:
            said.append(f"{len(report.lost)} document(s) could not be recovered.")
        if report.unreadable and not report.roots:
            said.append("Add the library's files and folders again.")
        return " ".join(said)

    def rename_library(self, old: str, new: str) -> None:
        """Rename a library; raises KeyError, FileExistsError or ValueError with a reason."""
        from qa_app.engine import library_admin

        library_admin().rename_library(old, new)

    def delete_library(self, name: str) -> None:
        """Delete a library; raises KeyError when it does not exist."""
        from qa_app.engine import library_admin

        library_admin().delete_library(name)

    def readers(self) -> list[str]:
        """Return qa_app.reader.READERS names, or the sentence reader when that module is absent."""
        try:
            from qa_app.reader import READERS
        except ImportError:
            return list(FALLBACK_READERS)
        return list(READERS) or list(FALLBACK_READERS)

    def default_reader(self) -> str:
        """Return qa_app.reader.DEFAULT_READER (the sentence reader when that module is absent)."""
        try:
            from qa_app.reader import DEFAULT_READER
        except ImportError:
            return FALLBACK_READERS[0]
        return DEFAULT_READER
