"""A built wheel, installed into a fresh venv (no editable install), answers the example offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QUESTION = "When did Russia receive the first shipment?"
PACKAGE_DATA = [
    "qa_app/py.typed",
    "qa_app/seeds/questions.jsonl",
    "qa_app/seeds/004_71c8a87dcccb59d2.txt",
    "qa_app/resources/reader/reader.safetensors",
    "qa_app/resources/reader/reader.json",
    "qa_app/resources/icons/qa-app.svg",
    "qa_app/resources/icons/qa-app-256.png",
    "qa_app/resources/style.qss",
    "qa_app/resources/qa-app.desktop",
]

# Loaded by a .pth file in the new venv, so every process there (the qa-app script too) runs with
# the network refused, as in tests/test_offline.py.
OFFLINE_GUARD = """\
import socket


class NetworkBlocked(OSError):
    pass


def _refuse(*args, **kwargs):
    raise NetworkBlocked("network access attempted")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert out.returncode == 0, f"{command[:3]} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the sources, so the checkout gets no build/ or egg-info."""
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "qa_app", source / "qa_app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    wheels = tmp / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--quiet", "-w", str(wheels)],
        cwd=tmp,
    )
    (wheel,) = wheels.glob("qa_app-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> tuple[Path, Path]:
    """Return (venv, its site-packages): the wheel installed, dependencies borrowed read-only.

    The dependencies come from this interpreter's site-packages, added as a plain path line in a
    .pth file: a directory reached that way is put on sys.path but its own .pth files are not run,
    so the editable install's finder (``__editable__*.pth``) stays inert and ``qa_app`` can only
    come from the wheel.
    """
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp,
        ).strip()
    )
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
        + ["--no-index", "--quiet", str(wheel)],
        cwd=tmp,
    )
    borrowed = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_borrowed_dependencies.pth").write_text(
        "".join(f"{path}\n" for path in borrowed), encoding="utf-8"
    )
    (site / "_qa_app_offline_guard.py").write_text(OFFLINE_GUARD, encoding="utf-8")
    (site / "_qa_app_offline_guard.pth").write_text("import _qa_app_offline_guard\n")
    return venv, site


@pytest.mark.model
def test_the_built_wheel_answers_the_example_question_offline(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert not [name for name in PACKAGE_DATA if name not in names]
    shipped = REPO / "qa_app" / "resources" / "reader"  # whatever reader.json names rides along
    for path in [*shipped.glob("*.json"), *shipped.glob("*.safetensors")]:
        assert f"qa_app/resources/reader/{path.name}" in names, path.name
    assert not [name for name in names if name.startswith(("tests/", "bench/", "training/"))]

    venv, site = _fresh_venv(tmp_path, wheel)
    outside = tmp_path / "elsewhere"  # not the checkout: nothing is imported from the sources
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYTHON"))}
    env |= {"QA_APP_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    env["TRANSFORMERS_OFFLINE"] = "1"
    python = next(
        p for p in (venv / "bin" / "python", venv / "Scripts" / "python.exe") if p.exists()
    )

    code = "import qa_app, qa_app.paths as p; print(qa_app.__file__); print(p.seeds_dir())"
    where = _run([str(python), "-c", code], cwd=outside, env=env).splitlines()
    assert all(Path(w).resolve().is_relative_to(site.resolve()) for w in where), where

    script = python.parent / ("qa-app.exe" if os.name == "nt" else "qa-app")
    stdout = _run([str(script), "ask", QUESTION], cwd=outside, env=env)
    lines = stdout.splitlines()
    assert lines[0] == "Answer: earlier this month", stdout
    sources = [line for line in lines if line.startswith("  - ")]
    seeds = (str(site / "qa_app" / "seeds"), str(site.resolve() / "qa_app" / "seeds"))
    assert sources and all(any(d in s for d in seeds) for s in sources), stdout


def test_the_wheel_carries_the_licence(tmp_path: Path) -> None:
    """SPDX metadata (PEP 639) and the licence text itself travel inside the wheel."""
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = archive.read(metadata).decode("utf-8").split("\n\n", 1)[0].splitlines()
        licences = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert len(licences) == 1, names
        text = archive.read(licences[0]).decode("utf-8")
    assert text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "License-Expression: MIT" in fields
    assert "License-File: LICENSE" in fields
    assert not [f for f in fields if f.startswith("License:")]  # the deprecated free-text field
