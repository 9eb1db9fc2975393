"""Modal questions to the user in one place, so tests can answer them without a dialog."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

# Dialogs are at least this wide, so their title ("New library — QA App") is never cut.
MIN_DIALOG_WIDTH = 420


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
    dialog = text_dialog(parent, title, label, text)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted
    value = dialog.textValue()
    dialog.deleteLater()
    return value.strip() if ok and value.strip() else None


def text_dialog(parent: QWidget, title: str, label: str, text: str = "") -> QInputDialog:
    """Return the dialog ask_text shows: wide enough for its whole title."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
    dialog.setTextValue(text)
    # The dialog's layout sets its size from its contents: a wide field makes it wide.
    for field in dialog.findChildren(QLineEdit):
        field.setMinimumWidth(MIN_DIALOG_WIDTH - 40)
    return dialog


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """Return True when the user agrees (the safe answer, No, is the default)."""
    buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
    answer = QMessageBox.question(parent, title, text, buttons, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm_once(parent: QWidget, title: str, text: str, action: str) -> tuple[bool, bool]:
    """Ask before ``action`` (the button's text, e.g. "Remove"); return (agreed, don't ask again)."""
    box = QMessageBox(
        QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent
    )
    go = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(go)
    again = QCheckBox("Don't ask again")
    again.setToolTip("From now on, do it at once without asking")
    box.setCheckBox(again)
    box.setMinimumWidth(MIN_DIALOG_WIDTH)
    box.exec()
    agreed = box.clickedButton() is go
    box.deleteLater()
    return agreed, agreed and again.isChecked()
