"""The engine contract: the real Engine and the GUI tests' FakeEngine both implement it."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gui_fakes import FakeBackend, FakeEngine, FakeLibrary

from qa_app import contracts
from qa_app.engine import Engine

REPO = Path(__file__).resolve().parents[1]


def _members(protocol: type = contracts.Engine) -> dict[str, object]:
    """Return the protocol's own members (methods and properties, ``with`` included) by name."""
    return {
        name: value
        for name, value in vars(protocol).items()
        if (not name.startswith("_") or name in ("__enter__", "__exit__"))
        and (callable(value) or isinstance(value, property))
    }


def _parameters(function: object) -> list[tuple[str, object, object]]:
    """Return (name, kind, default) for each parameter after self."""
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in list(signature.parameters.values())[1:]]


def test_the_protocol_lists_what_the_front_ends_call() -> None:
    assert set(_members()) == {
        "name", "notices", "needs_seeding", "pending", "seed", "rebuild", "ensure_ready",
        "warm_up", "add", "remove", "sync", "exclude", "include", "ocr", "set_ocr", "folders",
        "documents", "document_text", "search", "reader", "ask", "close", "__enter__", "__exit__",
    }  # fmt: skip
    assert set(_members(contracts.LibraryAdmin)) == {
        "libraries", "rename_library", "delete_library", "repair_library",
    }  # fmt: skip


def test_the_engine_class_administers_libraries_by_the_protocols_parameters() -> None:
    for name, member in _members(contracts.LibraryAdmin).items():
        expected = _parameters(member)  # after self; the class's are static methods
        got = [
            (p.name, p.kind, p.default)
            for p in inspect.signature(getattr(Engine, name)).parameters.values()
        ]
        assert got[: len(expected)] == expected, f"Engine.{name}: {got}"
        assert isinstance(inspect.getattr_static(Engine, name), staticmethod), name


@pytest.mark.parametrize("implementation", [Engine, FakeEngine], ids=["Engine", "FakeEngine"])
def test_methods_take_the_protocols_parameters(implementation: type) -> None:
    # mypy compares the types (below, and in engine.py); parameter names, kinds and defaults are
    # compared here, since callers pass some of them by keyword.
    for name, member in _members().items():
        if isinstance(member, property):
            continue
        method = getattr(implementation, name, None)
        assert callable(method), f"{implementation.__name__} has no method {name}()"
        expected, got = _parameters(member), _parameters(method)
        assert got[: len(expected)] == expected, f"{implementation.__name__}.{name}: {got}"
        extra = got[len(expected) :]
        assert all(default is not inspect.Parameter.empty for _, _, default in extra), (
            f"{implementation.__name__}.{name} requires parameters the protocol does not pass"
        )


def test_the_fake_has_the_protocols_attributes() -> None:
    fake = FakeEngine(FakeBackend(), FakeLibrary("Work"))
    assert isinstance(fake.name, str) and fake.name == "Work"
    assert isinstance(fake.notices, list)
    assert isinstance(fake.needs_seeding, bool) and isinstance(fake.ocr, bool)
    assert isinstance(Engine.needs_seeding, property) and isinstance(Engine.ocr, property)
    assert isinstance(Engine.notices, property)


def test_mypy_accepts_the_fake_as_the_protocol(tmp_path: Path) -> None:
    check = tmp_path / "check_fake.py"
    check.write_text(
        "from gui_fakes import FakeEngine\n\n"
        "from qa_app import contracts\n\n\n"
        "def check(engine: FakeEngine) -> contracts.Engine:\n"
        "    return engine\n",
        encoding="utf-8",
    )
    env = os.environ | {"MYPYPATH": str(REPO / "tests")}
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary"]
        + ["--cache-dir", str(tmp_path / "cache"), str(check)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
