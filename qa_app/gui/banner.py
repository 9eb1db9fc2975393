"""A dismissible message strip at the top of the window: problems stay where the user looks."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QToolButton, QWidget

from qa_app.gui.plain import plain_label


class Banner(QFrame):
    """Shows the latest problem (plain text) until the user closes it or a newer one replaces it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Problem")
        self.label = plain_label(name="Problem message")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAccessibleName("Dismiss the message")
        self.close_button.setToolTip("Dismiss this message")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.setVisible(False)

    def show_message(self, text: str) -> None:
        """Show ``text`` (literally)."""
        self.label.setText(text)
        self.setVisible(True)

    def text(self) -> str:
        """Return the message shown, or "" when the banner is hidden."""
        return self.label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the banner."""
        self.setVisible(False)
        self.label.setText("")
