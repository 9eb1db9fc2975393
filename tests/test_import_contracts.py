"""The import contracts in pyproject.toml hold (import-linter): layers, and no Qt in the core."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The same check as `lint-imports` run from the repository root, without the cache folder.
RUN = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
)


def test_the_import_contracts_are_kept() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and "KEPT" in out.stdout, out.stdout


def test_the_no_qt_contract_covers_every_core_module() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (no_qt,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden"]
    package = REPO / "qa_app"
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    core = {f"qa_app.{m}" for m in modules - {"cli", "gui"}}  # the command may start the window
    # but not its modules other than the one with the window command
    core |= {
        f"qa_app.cli.{m}"
        for m in (
            "eval_command",
            "opening",
            "library_commands",
            "query_commands",
            "console",
            "arguments",
        )
    }
    assert set(no_qt["source_modules"]) == core


def test_the_window_and_the_command_list_every_module_and_no_circle_is_allowed() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layered = {c["containers"][0]: c for c in contracts if c["type"] == "layers"}
    for package in ("qa_app", "qa_app.gui", "qa_app.cli"):
        assert layered[package].get("exhaustive") is True, package
        # every module in one layer, and siblings in a layer independent ("|", never ":"), so
        # two modules that import each other cannot both be placed
        assert not any(":" in layer for layer in layered[package]["layers"]), package
    listed = {
        name.strip() for layer in layered["qa_app.gui"]["layers"] for name in layer.split("|")
    }
    gui = REPO / "qa_app" / "gui"
    assert listed == {p.stem for p in gui.glob("*.py") if p.stem != "__init__"}
    (acyclic,) = [c for c in contracts if c["type"] == "acyclic_siblings"]
    assert acyclic["ancestors"] == ["qa_app"]
