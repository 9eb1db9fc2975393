"""Build the analyst installer: PyInstaller one-folder app, then the platform's deliverable.

Usage (from the repository root, in the environment that has qa-app and its dev extras):
    python packaging/build.py            # dist/qa-app/ and, on Linux, dist/qa-app-<version>-linux-<arch>.tar.gz
    python packaging/build.py --no-pyinstaller   # re-package an existing dist/qa-app/ only
On Windows it then runs Inno Setup's iscc (if on PATH) to make the setup .exe; on macOS the spec
makes dist/<Display Name>.app. Prints the sizes of what it made and the biggest parts inside.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = ROOT / "dist"
WORK = ROOT / "build"
sys.path.insert(0, str(ROOT))

import qa_app  # noqa: E402  identity only; imports nothing heavy

APP_FOLDER = DIST / qa_app.APP_NAME
SPEC_ICONS = (
    WORK / "qa_app" / "icons"
)  # .ico, .icns and 512 px PNG made by the spec (workpath/icons)


def substitute(text: str) -> str:
    """Return text with the @NAME@ placeholders filled in from qa_app/__init__.py."""
    values = {
        "@APP_NAME@": qa_app.APP_NAME,
        "@APP_ID@": qa_app.APP_ID,
        "@DISPLAY_NAME@": qa_app.APP_DISPLAY_NAME,
        "@DESCRIPTION@": qa_app.APP_DESCRIPTION,
        "@VERSION@": qa_app.__version__,
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def run_pyinstaller(clean: bool) -> None:
    """Run the spec with this interpreter's PyInstaller; raise SystemExit if it fails."""
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm",
        "--distpath", str(DIST), "--workpath", str(WORK),
        str(PACKAGING / "qa_app.spec"),
    ]  # fmt: skip
    if clean:
        command.insert(3, "--clean")
    print("+", " ".join(command), flush=True)
    if subprocess.call(command, cwd=ROOT) != 0:
        raise SystemExit("PyInstaller failed; see the messages above")


def desktop_entry() -> tuple[str, str]:
    """Return the menu entry's text and its icon name.

    The entry is the window's qa_app/resources/qa-app.desktop with Name and Comment from the identity.
    """
    source = ROOT / "qa_app" / "resources" / f"{qa_app.APP_NAME}.desktop"
    lines = source.read_text(encoding="utf-8").splitlines()
    fixed = {"Name": qa_app.APP_DISPLAY_NAME, "Comment": qa_app.APP_DESCRIPTION}
    out, icon = [], qa_app.APP_NAME
    for line in lines:
        key = line.split("=", 1)[0]
        if key in fixed:
            line = f"{key}={fixed.pop(key)}"
        elif key == "Icon":
            icon = line.split("=", 1)[1].strip()
        out.append(line)
    return "\n".join(out) + "\n", icon


def add_linux_files(folder: Path) -> None:
    """Put the .desktop file, the hicolor icons and install.sh into the app folder."""
    desktop, icon_name = desktop_entry()
    (folder / f"{qa_app.APP_ID}.desktop").write_text(desktop, encoding="utf-8")
    hicolor = folder / "icons" / "hicolor"
    shutil.rmtree(hicolor, ignore_errors=True)
    icons = ROOT / "qa_app" / "resources" / "icons"
    found = {
        int(size): p
        for p in icons.glob(f"{qa_app.APP_NAME}-*.png")
        if (size := p.stem.rsplit("-", 1)[1]).isdigit()
    }
    large = SPEC_ICONS / f"{qa_app.APP_NAME}-512.png"  # drawn from the SVG by the spec
    if large.is_file():
        found.setdefault(512, large)
    for size, path in sorted(found.items()):
        target = hicolor / f"{size}x{size}" / "apps" / f"{icon_name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    svg = icons / f"{qa_app.APP_NAME}.svg"
    if svg.is_file():
        target = hicolor / "scalable" / "apps" / f"{icon_name}.svg"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(svg, target)
    script = folder / "install.sh"
    text = (PACKAGING / "linux" / "install.sh").read_text(encoding="utf-8")
    script.write_text(substitute(text).replace("@ICON_NAME@", icon_name), encoding="utf-8")
    script.chmod(0o755)


def share_identical_executables(folder: Path) -> bool:
    """Hard-link qa-app-gui to qa-app when they are identical (one entry script makes them so).

    Returns True if linked. The archive then stores the ~55 MB program once; on Linux the two
    differ only by name, which is how the program picks window or command line.
    """
    cli, gui = folder / qa_app.APP_NAME, folder / f"{qa_app.APP_NAME}-gui"
    if cli.stat().st_ino == gui.stat().st_ino:
        return True
    if not filecmp.cmp(cli, gui, shallow=False):
        return False
    gui.unlink()
    os.link(cli, gui)
    return True


def make_tarball(folder: Path) -> Path:
    """Return the .tar.gz of the app folder; its top folder is named <app>-<version>."""
    machine = platform.machine().lower() or "unknown"
    top = f"{qa_app.APP_NAME}-{qa_app.__version__}"
    archive = DIST / f"{top}-linux-{machine}.tar.gz"
    partial = archive.with_suffix(".partial")
    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=top)
    partial.replace(archive)
    return archive


def run_inno_setup() -> Path | None:
    """Run iscc on the Windows script with the identity passed in; return the setup .exe or None."""
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        print("Inno Setup's iscc is not on PATH: install Inno Setup 6 to make the setup .exe")
        return None
    defines = {
        "AppName": qa_app.APP_NAME,
        "AppId": qa_app.APP_ID,
        "AppDisplayName": qa_app.APP_DISPLAY_NAME,
        "AppVersion": qa_app.__version__,
        "AppPublisher": qa_app.APP_ORG,
        "AppDescription": qa_app.APP_DESCRIPTION,
        "SourceDir": str(APP_FOLDER),
        "OutputDir": str(DIST),
        "SetupIcon": str(SPEC_ICONS / f"{qa_app.APP_NAME}.ico"),  # made by the spec
    }
    command = [iscc, *(f"/D{k}={v}" for k, v in defines.items())]
    command.append(str(PACKAGING / "windows" / "qa_app.iss"))
    if subprocess.call(command) != 0:
        raise SystemExit("Inno Setup failed; see the messages above")
    return DIST / f"{qa_app.APP_NAME}-{qa_app.__version__}-setup.exe"


def folder_size(folder: Path) -> int:
    """Return the bytes the folder's files take, each hard-linked file once (symbolic links not followed)."""
    seen: set[int] = set()
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            info = path.stat()
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_size
    return total


def report(folder: Path, made: list[Path]) -> None:
    """Print the deliverables' sizes, the unpacked size and the largest parts of the folder."""
    mib = 1024 * 1024
    for path in made:
        print(f"made {path} ({path.stat().st_size / mib:.1f} MiB)")
    print(f"unpacked folder {folder}: {folder_size(folder) / mib:.1f} MiB")
    internal = folder / "_internal" if (folder / "_internal").is_dir() else folder
    program = folder / qa_app.APP_NAME
    parts: dict[str, int] = {}
    if program.is_file():  # bootloader + all Python code; one file for both when hard-linked
        parts["the two programs + install files"] = folder_size(folder) - folder_size(internal)
    for path in internal.rglob("*"):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(internal).parts
            key = "/".join(rel[:2]) if len(rel) > 2 else "/".join(rel)
            parts[key] = parts.get(key, 0) + path.stat().st_size
    print("largest parts:")
    for key, size in sorted(parts.items(), key=lambda item: -item[1])[:12]:
        print(f"  {size / mib:7.1f} MiB  {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the qa-app installer for this platform.")
    parser.add_argument("--no-pyinstaller", action="store_true", help="reuse dist/qa-app/")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.no_pyinstaller:
        run_pyinstaller(args.clean)
    if not APP_FOLDER.is_dir():
        raise SystemExit(f"{APP_FOLDER} is missing: run without --no-pyinstaller first")
    made: list[Path] = []
    if sys.platform.startswith("linux"):
        add_linux_files(APP_FOLDER)
        if not share_identical_executables(APP_FOLDER):
            print("note: qa-app and qa-app-gui differ, so the archive holds both in full")
        made.append(make_tarball(APP_FOLDER))
    elif sys.platform.startswith("win"):
        setup = run_inno_setup()
        made += [setup] if setup else []
    elif sys.platform == "darwin":
        made += [p for p in DIST.glob("*.app")]  # a folder; see packaging/README.md for a .dmg
    report(APP_FOLDER, [p for p in made if p.is_file()])
    print(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
