"""Settings kept in an INI file under the app's config folder, and the dialog that edits them."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from qa_app import paths
from qa_app.contracts import DEFAULT_K
from qa_app.gui.plain import plain_label

SETTINGS_FILE = "qa-app.ini"
DEFAULT_THRESHOLD = 0.5  # offered in the box when the reader's own threshold is not known yet
MAX_HISTORY = 50
# One line per reader for the settings dialog; a reader missing here is listed without one.
READER_HELP = {
    "neural": "Neural: a span reader trained for this app; the most accurate, slower on a busy CPU.",
    "sentence": "Sentence: picks the best sentence and the phrase of the asked-for type; fast, "
    "needs no trained weights.",
}


def settings_path() -> str:
    """Return the INI file's path (inside QA_APP_HOME when that is set)."""
    return str(paths.config_dir() / SETTINGS_FILE)


class AppSettings:
    """Typed access to the persisted settings; every write reaches the INI file at once."""

    def __init__(self, path: str | None = None) -> None:
        target = path or settings_path()
        paths.config_dir().mkdir(parents=True, exist_ok=True)
        self.qsettings = QSettings(target, QSettings.Format.IniFormat)

    def _set(self, key: str, value: object) -> None:
        self.qsettings.setValue(key, value)
        self.qsettings.sync()

    @property
    def k(self) -> int:
        """Return how many passages to retrieve per question."""
        return int(str(self.qsettings.value("ask/k", DEFAULT_K)))

    @k.setter
    def k(self, value: int) -> None:
        self._set("ask/k", int(value))

    @property
    def threshold(self) -> float | None:
        """Return the answer threshold, or None to use the reader's calibrated default."""
        value = self.qsettings.value("ask/threshold", "")
        return None if value in ("", None) else float(value)  # type: ignore[arg-type]

    @threshold.setter
    def threshold(self, value: float | None) -> None:
        self._set("ask/threshold", "" if value is None else float(value))

    @property
    def reader(self) -> str | None:
        """Return the chosen reader's name, or None for the engine's default."""
        return str(self.qsettings.value("ask/reader", "")) or None

    @reader.setter
    def reader(self, value: str | None) -> None:
        self._set("ask/reader", value or "")

    @property
    def library(self) -> str | None:
        """Return the library opened last, or None for the default one."""
        return str(self.qsettings.value("library/current", "")) or None

    @library.setter
    def library(self, value: str | None) -> None:
        self._set("library/current", value or "")

    def history(self) -> list[str]:
        """Return recent questions, oldest first."""
        value = self.qsettings.value("ask/history", [])
        if isinstance(value, str):  # QSettings gives a bare string for one-element lists
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def set_history(self, questions: list[str]) -> None:
        """Keep the last MAX_HISTORY questions."""
        self._set("ask/history", list(questions[-MAX_HISTORY:]))

    @property
    def confirm_removal(self) -> bool:
        """Return True while removing documents or folders asks first ("don't ask again": False)."""
        return str(self.qsettings.value("library/confirm_removal", "true")).lower() == "true"

    @confirm_removal.setter
    def confirm_removal(self, value: bool) -> None:
        self._set("library/confirm_removal", "true" if value else "false")

    def blob(self, key: str) -> QByteArray | None:
        """Return saved window geometry or splitter state under ``key``, if any."""
        value = self.qsettings.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_blob(self, key: str, value: QByteArray) -> None:
        """Save window geometry or splitter state under ``key``."""
        self._set(f"window/{key}", value)


class SettingsDialog(QDialog):
    """Edits retrieval depth, answer threshold and reader; shows where libraries live."""

    def __init__(
        self,
        settings: AppSettings,
        readers: list[str],
        parent: QWidget | None = None,
        *,
        default_reader: str | None = None,
        thresholds: dict[str, float] | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings
        self._default_reader = default_reader
        self._thresholds = dict(thresholds or {})
        form = QFormLayout(self)

        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 100)
        self.k_spin.setValue(settings.k)
        self.k_spin.setAccessibleName("Passages to retrieve")
        self.k_spin.setToolTip("How many passages are read for each question")
        form.addRow("&Passages to retrieve:", self.k_spin)

        self.default_threshold = QCheckBox("Use the reader's calibrated default")
        self.default_threshold.setAccessibleName("Use the reader's default threshold")
        self.threshold_spin = QDoubleSpinBox()
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setAccessibleName("Answer threshold")
        self.threshold_spin.setToolTip("Answers scoring below this are reported as not found")
        current = settings.threshold
        self.default_threshold.setChecked(current is None)
        self.threshold_spin.setValue(DEFAULT_THRESHOLD if current is None else current)
        self.threshold_spin.setEnabled(current is not None)
        self.default_threshold.toggled.connect(lambda _on: self._update())
        self.threshold_note = plain_label(name="Threshold in use")
        form.addRow("Answer &threshold:", self.threshold_spin)
        form.addRow("", self.default_threshold)
        form.addRow("", self.threshold_note)

        self.reader_combo = QComboBox()
        self.reader_combo.setAccessibleName("Reader")
        self.reader_combo.addItem(
            f"Default ({default_reader})" if default_reader else "Default", ""
        )
        # A saved choice stays listed even before the readers are known, so OK does not drop it.
        saved = settings.reader
        names = [*readers, *([saved] if saved is not None and saved not in readers else [])]
        for name in names:
            self.reader_combo.addItem(name, name)
        self.reader_combo.setCurrentIndex(max(self.reader_combo.findData(settings.reader or ""), 0))
        self.reader_combo.setToolTip("Which reader picks the answer out of the passages")
        self.reader_combo.currentIndexChanged.connect(lambda _i: self._update())
        form.addRow("&Reader:", self.reader_combo)
        self.reader_help = plain_label(name="About the readers")
        self.reader_help.setText("\n".join(READER_HELP.get(n, n) for n in readers))
        form.addRow("", self.reader_help)

        location = plain_label(str(paths.libraries_dir()))
        location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        location.setAccessibleName("Libraries location")
        form.addRow("Libraries are stored in:", location)
        config = plain_label(settings.qsettings.fileName())
        config.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        config.setAccessibleName("Settings file")
        form.addRow("Settings file:", config)

        self.threshold_spin.valueChanged.connect(
            lambda _v: None if self.default_threshold.isChecked() else self._update()
        )
        self._update()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_reader(self) -> str | None:
        """Return the reader the dialog's choice stands for (the default's name when known)."""
        return self.reader_combo.currentData() or self._default_reader

    def _update(self) -> None:
        """Show the threshold the chosen reader really uses while "default" is ticked."""
        use_default = self.default_threshold.isChecked()
        self.threshold_spin.setEnabled(not use_default)
        reader = self.chosen_reader()
        known = self._thresholds.get(reader) if reader else None
        if use_default and known is not None:
            self.threshold_spin.setValue(known)
            self.threshold_note.setText(
                f"In use: {known:.2f}, the {reader} reader's calibrated value."
            )
        elif use_default:
            self.threshold_note.setText(
                "In use: the reader's calibrated value (shown once the models are loaded)."
            )
        else:
            self.threshold_note.setText(f"In use: {self.threshold_spin.value():.2f}, set here.")

    def accept(self) -> None:
        """Save the edited values, then close."""
        self._settings.k = self.k_spin.value()
        self._settings.threshold = (
            None if self.default_threshold.isChecked() else self.threshold_spin.value()
        )
        self._settings.reader = self.reader_combo.currentData() or None
        super().accept()
