"""Runs the bundled window on X11 with the system's copies of the bundle's X11 libraries hidden.

smoke_test.py's `gui-x11` check judges what this finds. Hiding needs a private mount namespace
(`unshare -rmn`: bind mounts stay inside it, nothing changes for the rest of the machine) and a
private X server (Xvfb); without them, `ldd_fallback` says why and shows what ldd finds instead.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import xcb_libs

# Runs inside the namespace. Each system copy is covered by an empty file, so any use of one fails
# ("file too short") instead of silently working; then ldd shows what the loader finds without and
# with the bundle's folder on the search path (the bootloader puts it there), and the window runs
# on a private X server. Arguments: empty file, bundle folder (_internal), libQt6XcbQpa.so.6, the
# window program, then the files to hide.
SCRIPT = r"""
set -u
empty=$1 internal=$2 qpa=$3 gui=$4
shift 4
for f in "$@"; do
    mount --bind "$empty" "$f" || { echo "X11-HIDE-FAILED $f"; exit 90; }
done
echo "X11-HIDDEN $#"
# A private socket folder: this X server is seen by nothing outside, and collides with nothing.
mkdir -p /tmp/.X11-unix 2>/dev/null
mount -t tmpfs tmpfs /tmp/.X11-unix || { echo "X11-HIDE-FAILED /tmp/.X11-unix"; exit 90; }
echo "X11-LDD-SYSTEM"
ldd "$qpa" 2>&1
echo "X11-LDD-BUNDLE"
LD_LIBRARY_PATH="$internal" ldd "$qpa" 2>&1
echo "X11-LDD-END"
displayfile=$(mktemp)
Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$displayfile" 2>/dev/null &
xvfb=$!
for _ in $(seq 200); do [ -s "$displayfile" ] && break; sleep 0.05; done
[ -s "$displayfile" ] || { echo "X11-NO-SERVER"; kill "$xvfb"; exit 91; }
echo "X11-DISPLAY :$(cat "$displayfile")"
DISPLAY=":$(cat "$displayfile")" QT_QPA_PLATFORM=xcb "$gui"
status=$?
kill "$xvfb"
wait "$xvfb" 2>/dev/null
rm -f "$displayfile"
exit $status
"""


@dataclass(frozen=True)
class HiddenRun:
    """What the window run with the system's X11 libraries hidden showed."""

    hidden: list[str]  # the system files covered
    hid_all: bool  # every bind mount succeeded
    ldd_system: str  # ldd of libQt6XcbQpa without the bundle's folder on the search path
    ldd_bundle: str  # the same with it
    done: subprocess.CompletedProcess[str]
    seconds: float


def mount_prefix(prefix: list[str]) -> list[str] | None:
    """Return the offline `unshare` prefix with a mount namespace added, None if bind mounts fail."""
    mprefix = [prefix[0], "-" + prefix[1].lstrip("-").replace("n", "mn"), *prefix[2:]]
    with tempfile.TemporaryDirectory(prefix="qa-app-mnt-") as tmp:
        source, target = Path(tmp) / "a", Path(tmp) / "b"
        source.write_text("a")
        target.write_text("b")
        try:
            done = subprocess.run(
                [
                    *mprefix,
                    "sh",
                    "-c",
                    'mount --bind "$1" "$2" && cat "$2"',
                    "sh",
                    str(source),
                    str(target),
                ],
                capture_output=True,
                text=True,
                timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    return mprefix if done.returncode == 0 and done.stdout == "a" else None


def why_not(prefix: list[str]) -> tuple[list[str] | None, str | None]:
    """Return (the namespace prefix, None), or (None, the reason the hidden run cannot be made)."""
    mprefix = mount_prefix(prefix)
    if mprefix is None:
        return None, "bind mounts in a private mount namespace (`unshare -rmn`) fail here"
    if shutil.which("Xvfb") is None:
        return None, "no Xvfb to show the window on (Debian/Ubuntu: sudo apt-get install xvfb)"
    return mprefix, None


def run_hidden(
    mprefix: list[str], internal: Path, qpa: Path, gui: Path, env: dict[str, str], timeout: float
) -> HiddenRun:
    """Run the window program `gui` on a private X server with the system's copies hidden."""
    hidden = [str(path) for paths in xcb_libs.system_copies().values() for path in paths]
    with tempfile.TemporaryDirectory(prefix="qa-app-x11-") as tmp:
        empty = Path(tmp) / "empty"
        empty.touch()
        command = [*mprefix, "sh", "-c", SCRIPT, "sh", str(empty), str(internal), str(qpa)]
        command += [str(gui), *hidden]
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            done = subprocess.CompletedProcess(command, 124, out, f"timed out after {timeout:.0f}s")
        seconds = time.monotonic() - started
    text = done.stdout or ""
    return HiddenRun(
        hidden=hidden,
        hid_all="X11-HIDDEN" in text,
        ldd_system=text.partition("X11-LDD-SYSTEM")[2].partition("X11-LDD-BUNDLE")[0],
        ldd_bundle=text.partition("X11-LDD-BUNDLE")[2].partition("X11-LDD-END")[0],
        done=done,
        seconds=seconds,
    )


def outside(found: dict[str, str | None], internal: Path) -> list[str]:
    """Return the bundled libraries that `found` (parsed ldd) does not place inside internal."""
    root = internal.resolve()
    return [
        name
        for name, path in found.items()
        if path is None or not Path(path).resolve().is_relative_to(root)
    ]


def ldd_fallback(qpa: Path, internal: Path, env: dict[str, str]) -> list[str]:
    """Return the bundled libraries ldd does not find inside the bundle with its folder on the path."""
    return outside(xcb_libs.resolve(qpa, env=dict(env, LD_LIBRARY_PATH=str(internal))), internal)
