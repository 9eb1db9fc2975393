"""Every on-disk location the app uses, in one place (platformdirs; QA_APP_HOME relocates all)."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from qa_app import APP_NAME, APP_ORG
from qa_app.errors import InvalidInput

HOME_ENV = "QA_APP_HOME"
DEFAULT_LIBRARY = "seeds"
_NAME_RE = re.compile(r"^[^\W_][\w .-]{0,63}$")  # \w: letters of any alphabet, digits, _


def home() -> Path:
    """Return the root data directory: $QA_APP_HOME if set, else the platform's user data dir."""
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, APP_ORG))


def config_dir() -> Path:
    """Return where settings live (inside QA_APP_HOME when it is set)."""
    override = os.environ.get(HOME_ENV)
    if override:
        return home() / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, APP_ORG))


def log_dir() -> Path:
    """Return the folder of the app's log file (inside the data folder, so QA_APP_HOME moves it)."""
    return home() / "logs"


def libraries_dir() -> Path:
    """Return the folder that holds one sub-folder per named library."""
    return home() / "libraries"


def check_library_name(name: str) -> str:
    """Return ``name`` if it is a usable library name; raise InvalidInput (a ValueError) saying
    why otherwise."""
    name = unicodedata.normalize("NFC", name)  # "Café" typed either way is one library
    if not _NAME_RE.match(name) or name.strip() != name or name in {".", ".."}:
        raise InvalidInput(
            f"invalid library name {name!r}: use 1-64 letters (of any alphabet), digits, "
            "spaces, '_', '-' or '.', starting with a letter or digit"
        )
    return name


def library_dir(name: str) -> Path:
    """Return the folder of the library called ``name`` (not created). Raises InvalidInput on a
    bad name."""
    return libraries_dir() / check_library_name(name)


def package_data(*parts: str) -> Path:
    """Return a file or folder shipped inside the qa_app package (seeds/, resources/).

    Found through importlib.resources, so a wheel, an editable install and the source tree all work;
    in a PyInstaller bundle the package's data sits under ``sys._MEIPASS/qa_app``.
    """
    import sys
    from importlib.resources import files

    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root, "qa_app", *parts)
    root = files("qa_app")
    if not isinstance(root, Path):  # a zipped install: the data are not plain files on disk
        raise RuntimeError(f"qa_app is installed as an archive ({root}); install it unpacked")
    return root.joinpath(*parts)


def seeds_dir() -> Path:
    """Return the bundled demo library folder."""
    return package_data("seeds")


def resources_dir() -> Path:
    """Return the folder of icons, the style sheet, the desktop entry and trained weights."""
    return package_data("resources")
