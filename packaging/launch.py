"""Entry point of both bundled programs: ``qa-app-gui`` opens the window, ``qa-app`` is the CLI.

One script for both keeps the two executables byte-identical, so the Linux archive stores the
program once (build.py hard-links the pair). Which one runs is decided by the executable's name.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import warnings
from pathlib import Path


def wants_window() -> bool:
    """Return True when started as the window program (name ends in -gui, with or without .exe)."""
    names = (Path(sys.executable).stem, Path(sys.argv[0]).stem if sys.argv else "")
    return any(name.lower().endswith("-gui") for name in names)


def main() -> int:
    if wants_window():
        if os.environ.get("QA_APP_SMOKE_QUESTION"):
            import gui_smoke

            gui_smoke.install()
        from qa_app.gui.app import main as gui_main

        return gui_main()
    from qa_app.cli.commands import run as cli_main  # exits without the interpreter's slow teardown

    return cli_main()


if __name__ == "__main__":
    # A frozen app must call this first in case torch or a library starts worker processes.
    multiprocessing.freeze_support()
    # The bundle leaves out most of torch's .py sources (qa_app.spec says why); torch then warns,
    # once per TorchScript overload, that it cannot read them. The app never uses TorchScript.
    warnings.filterwarnings("ignore", message=r"Unable to retrieve source for @torch\.jit")
    sys.exit(main())
