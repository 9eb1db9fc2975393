"""Modal questions to the user in one place, so tests can answer them without a dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget


def document_filter() -> str:
    """Return the file dialog's filter: every suffix the core's loaders read, then all files."""
    from qa_app.ingest import SUPPORTED_SUFFIXES

    patterns = " ".join(f"*{suffix}" for suffix in sorted(SUPPORTED_SUFFIXES))
    return f"Documents ({patterns});;All files (*)"


def pick_files(parent: QWidget) -> list[str]:
    """Return the documents the user chose (empty when cancelled)."""
    files, _ = QFileDialog.getOpenFileNames(parent, "Add documents", "", document_filter())
    return files


def pick_folder(parent: QWidget) -> str | None:
    """Return the folder the user chose, or None."""
    return QFileDialog.getExistingDirectory(parent, "Add a folder") or None


def save_file(parent: QWidget, title: str, suggested: str, file_filter: str) -> str | None:
    """Return where to save, or None."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, file_filter)
    return path or None


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    """Return the text the user typed (stripped), or None when cancelled or empty."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value.strip() if ok and value.strip() else None


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Return True when the user agrees (the safe answer, No, is the default)."""
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
