"""A Linux desktop without Qt's X11 libraries gets one line naming the packages to install,
not Qt's raw abort (status 134)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qa_app.gui import app

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def test_ldd_output_is_read_into_library_names() -> None:
    missing = app.missing_from_ldd(LDD)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert [app.XCB_PACKAGES[m] for m in missing] == [
        "libxcb-cursor0",
        "libxcb-icccm4",
        "libxcb-keysyms1",
    ]


def test_other_platforms_are_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.missing_qt_libraries() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 libraries are Linux's")
def test_the_window_says_which_packages_are_missing_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = ":99"  # no server needed: the check comes before Qt connects
    probe = subprocess.run(
        [sys.executable, "-c", "from qa_app.gui import app; print(app.missing_qt_libraries())"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    if probe.stdout.strip() == "None":
        pytest.skip("Qt's X11 libraries are all installed here")
    done = subprocess.run(
        [sys.executable, "-m", "qa_app.cli.commands", "gui"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "sudo apt-get install libxcb" in lines[0], done.stderr
