"""A start that does not wait: light commands import no model stack; the CLI exits once flushed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa_app.models import threads, weights

HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "onnxruntime",
    "faiss",
    "sklearn",
    "scipy",
)
PROBE = """
import json, sys
from qa_app.cli import commands as cli
try:
    code = cli.main(sys.argv[2:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.argv[1].split(",") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    "args", [["list", "-l", "t"], ["libraries"], ["--help"], ["ask", "--help"]]
)
def test_light_commands_import_no_model_stack(args: list[str], tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, QA_APP_HOME=str(tmp_path / "home")),
        timeout=120,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{args}: imported {result['heavy']}"


@pytest.mark.model
def test_ask_on_onnx_imports_neither_torch_nor_transformers(tmp_path: Path) -> None:
    """The default backend answers with ONNX Runtime and tokenizers alone (torch, transformers
    and sentence-transformers take seconds to import)."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            ",".join(HEAVY),
            "ask",
            "When did Russia receive the first shipment?",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, QA_APP_HOME=str(tmp_path / "home")),
        timeout=300,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and "earlier this month" in out.stdout
    assert result["heavy"] == ["faiss", "onnxruntime"], result["heavy"]


def test_run_exits_after_closing_the_library(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = subprocess.run(  # only add makes a library; a missing path fails, the library stays
        [sys.executable, "-m", "qa_app.cli.commands", "add", str(tmp_path / "nothing"), "-l", "t"],
        capture_output=True,
        text=True,
        env=dict(os.environ, QA_APP_HOME=str(home)),
        timeout=120,
    )
    assert made.returncode == 1, made.stderr
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa_app.cli.commands",
            "remove",
            str(tmp_path / "nothing"),
            "-l",
            "t",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, QA_APP_HOME=str(home)),
        timeout=120,
    )
    assert out.returncode == 1
    assert "nothing in the library matched" in out.stderr
    library = home / "libraries" / "t"
    assert (library / "library.db").is_file()
    # SQLite removes the write-ahead log when the last connection closes cleanly.
    assert not (library / "library.db-wal").exists()


def test_base_weights_are_hashed_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"weights")
    calls: list[Path] = []
    real = weights.sha256_file
    monkeypatch.setattr(weights, "sha256_file", lambda p: calls.append(p) or real(p))
    first = weights.sha256_cached(path)
    assert weights.sha256_cached(path) == first and len(calls) == 1
    path.write_bytes(b"changed weights")  # another size: hashed again
    assert weights.sha256_cached(path) != first and len(calls) == 2


def test_threads_sleep_and_explicit_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.configure() == 3
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and os.environ["OMP_NUM_THREADS"] == "3"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    threads.configure()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.setenv(threads.THREADS_ENV, "many")
    assert 1 <= threads.thread_count() <= threads.MAX_THREADS


def test_onnx_sessions_do_not_spin() -> None:
    options = threads.onnx_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == threads.thread_count()
