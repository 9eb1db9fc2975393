"""Text from documents and users shown as text, never as markup: plain labels and safe tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget


def plain_label(text: str = "", parent: QWidget | None = None, *, name: str = "") -> QLabel:
    """Return a QLabel that always shows its text literally (Qt.PlainText), wrapped."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setText(text)
    if name:
        label.setAccessibleName(name)
    return label


def tooltip(text: str) -> str:
    """Return ``text`` as a tooltip that shows it literally (tooltips treat markup as rich text)."""
    return GuiQt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal) if text else ""
