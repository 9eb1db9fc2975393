"""The window fits its screen: long questions wrap or are cut, never widening it."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys
import textwrap

import pytest
from gui_fakes import FakeBackend
from test_gui_window import ask, open_window

pytestmark = pytest.mark.gui


def test_a_700_character_question_never_widens_the_window(qtbot):
    window = open_window(qtbot, FakeBackend())
    width, height = window.available_size()
    assert window.width() <= width and window.height() <= height
    words = ("Russia received the first shipment of ballistic missiles " * 20)[:680]
    for question in (words + " when?", "W" * 700 + "?"):  # with spaces, and one long word
        assert len(question) >= 680
        ask(qtbot, window, question)
        qtbot.wait(0)  # let a pending layout pass run  # noqa: PT004 - event loop turn, not a sleep
        assert window.width() <= width, (window.width(), width)
        assert window.minimumSizeHint().width() <= width
        assert window.ask_panel.answer.heading.text().endswith("…")
        assert question[:100] in window.ask_panel.answer.heading.toolTip().replace("<br>", "")


@pytest.mark.parametrize(
    ("screen", "scale"), [((1920, 1080), "1"), ((1920, 1080), "2"), ((1440, 900), "1.5")]
)
def test_default_size_fits_the_screen_at_any_scale(tmp_path, screen, scale):
    """A fresh process (the scale factor is read at start) opens within the available screen."""
    config = tmp_path / "screens.json"
    config.write_text(
        json.dumps(
            {"screens": [{"name": "S", "x": 0, "y": 0, "width": screen[0], "height": screen[1],
                          "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
        )
    )  # fmt: skip
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests")
        from gui_fakes import FakeBackend
        from qa_app.gui.app import make_application
        from qa_app.gui.main_window import MainWindow
        app = make_application(["x"])
        w = MainWindow(FakeBackend())
        w.show()
        app.processEvents()
        area = w.screen().availableGeometry()
        print(w.width(), w.height(), area.width(), area.height())
        w.session.stop()
        """
    )
    env = dict(
        os.environ,
        QA_APP_HOME=str(tmp_path),
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        QT_SCALE_FACTOR=scale,
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    w, h, aw, ah = map(int, out.stdout.split()[-4:])
    assert 0 < w <= aw and 0 < h <= ah, out.stdout
