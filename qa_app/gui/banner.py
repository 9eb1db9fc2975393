"""A dismissible message strip at the top of the window: problems stay where the user looks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QToolButton, QWidget

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
        # One action a problem may offer ("Repair library" for a damaged one); hidden otherwise.
        self.action_button = QPushButton()
        self.action_button.setVisible(False)
        self.action_button.clicked.connect(self._act)
        self._action: Callable[[], None] | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self.setVisible(False)

    def show_message(self, text: str, action: tuple[str, Callable[[], None]] | None = None) -> None:
        """Show ``text`` (literally), with a button for ``action`` (its label and what it does)."""
        self.label.setText(text)
        self._action = action[1] if action else None
        self.action_button.setText(action[0] if action else "")
        self.action_button.setAccessibleName(action[0] if action else "")
        self.action_button.setVisible(action is not None)
        self.setVisible(True)

    def _act(self) -> None:
        action, self._action = self._action, None
        self.dismiss()
        if action is not None:
            action()

    def text(self) -> str:
        """Return the message shown, or "" when the banner is hidden."""
        return self.label.text() if not self.isHidden() else ""

    def dismiss(self) -> None:
        """Hide the banner."""
        self.setVisible(False)
        self.label.setText("")
        self.action_button.setVisible(False)
        self._action = None
