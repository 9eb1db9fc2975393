"""Colours, style sheet and icon that follow the system's light or dark palette."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from qa_app import paths


def is_dark(palette: QPalette | None = None) -> bool:
    """Return True when the palette's window colour is dark."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def answer_colour() -> QColor:
    """Return the background that marks an answer span (strong, readable in light and dark)."""
    return QColor("#8a6d00") if is_dark() else QColor("#ffd54f")


def sentence_colour() -> QColor:
    """Return the background that marks the sentence around an answer (soft)."""
    return QColor("#3a3f1c") if is_dark() else QColor("#fff5c4")


def find_colour() -> QColor:
    """Return the background of the current Find match (distinct from the answer's)."""
    return QColor("#2e6b8a") if is_dark() else QColor("#9fd3ef")


def answer_text_colour() -> QColor:
    """Return the text colour to use on the answer highlight (readable on it, even when selected)."""
    return QColor("#ffffff") if is_dark() else QColor("#1a1a1a")


def html_mark(text: str) -> str:
    """Return ``text`` (already HTML-escaped) wrapped in the answer highlight."""
    colours = f"background-color:{answer_colour().name()}; color:{answer_text_colour().name()}"
    return f'<span style="{colours}; font-weight:600">{text}</span>'


def style_sheet() -> str:
    """Return resources/style.qss, or an empty sheet when it is missing."""
    path = paths.resources_dir() / "style.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def app_icon() -> QIcon:
    """Return the application icon (SVG, with PNG sizes when present)."""
    icon = QIcon()
    folder = paths.resources_dir() / "icons"
    for size in (16, 32, 48, 64, 128, 256):
        png = folder / f"qa-app-{size}.png"
        if png.is_file():
            icon.addFile(str(png))
    svg = folder / "qa-app.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon
