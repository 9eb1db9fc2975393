"""The core never imports Qt: every core module imports with PySide6 blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import qa_app

CORE = sorted(
    m.name
    for m in pkgutil.walk_packages(qa_app.__path__, "qa_app.")
    if not m.name.startswith("qa_app.gui")
)


def test_core_modules_import_without_qt() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
        "            raise ImportError('Qt is blocked in core: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        f"for name in {CORE!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules)\n"
        "print('ok', len(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
    assert len(CORE) >= 10


def test_help_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from qa_app.cli.commands import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'PySide6') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
