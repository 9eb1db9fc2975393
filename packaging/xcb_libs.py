"""Qt's X11 libraries that the Linux bundle carries: which, where the build machine has them, and why.

Qt's X11 platform plugin (PySide6/Qt/plugins/platforms/libqxcb.so, through libQt6XcbQpa.so.6) links
the xcb-util libraries and libxkbcommon-x11. A fresh desktop often lacks them (a GNOME or KDE
Wayland session, a minimal install) and Qt then aborts with status 134; pip installs cannot help
(the window names the packages in one line), so the bundle takes the build machine's copies. All are
small (about 160 KB) and MIT/X11-licensed. libxcb.so.1 itself, libX11 and the GL stack stay the
system's: every X11 desktop has them and they must match its X server and drivers.
qa_app.spec imports this (the build fails naming the packages when one is missing); smoke_test.py
imports it too, to hide the system's copies while the bundled window runs on X11.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# soname -> the Debian/Ubuntu package that installs it (the same names as qa_app/gui/app.py's list).
BUNDLED = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
# The library that links them all, relative to the PySide6 package folder.
XCB_QPA = Path("Qt") / "lib" / "libQt6XcbQpa.so.6"


def resolve(library: Path, env: dict[str, str] | None = None) -> dict[str, str | None]:
    """Return where the dynamic loader finds each BUNDLED library for `library`, None if not found.

    Uses `ldd` (the loader itself, so the paths are this machine's and this architecture's).
    Raises OSError when ldd cannot run, subprocess.TimeoutExpired when it hangs.
    """
    listed = subprocess.run(
        ["ldd", str(library)], capture_output=True, text=True, timeout=60, env=env
    )
    return parse_ldd(listed.stdout)


def parse_ldd(output: str) -> dict[str, str | None]:
    """Return the path `ldd` printed for each BUNDLED library, None where it found none."""
    found: dict[str, str | None] = dict.fromkeys(BUNDLED)
    for line in output.splitlines():
        name, _, rest = line.strip().partition(" => ")
        if name in found and rest and not rest.startswith("not found"):
            found[name] = rest.split(" (")[0].strip()
    return found


def system_copies() -> dict[str, list[Path]]:
    """Return every file the system's loader cache (`ldconfig -p`) names for each BUNDLED library.

    Returns real paths (symbolic links followed), so hiding them hides every name they go by.
    An empty list means this system does not have that library.
    """
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"  # /sbin is not on every user's PATH
    listed = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=60)
    copies: dict[str, list[Path]] = {name: [] for name in BUNDLED}
    for line in listed.stdout.splitlines():
        name, _, path = line.strip().partition(" => ")
        name = name.split(" (")[0]
        if name in copies and path:
            real = Path(path).resolve()
            if real.is_file() and real not in copies[name]:
                copies[name].append(real)
    return copies


def install_hint(names: list[str]) -> str:
    """Return the apt-get command that installs the named libraries."""
    return "sudo apt-get install " + " ".join(BUNDLED.get(name, name) for name in names)
