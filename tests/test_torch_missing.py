"""Without torch (the installer's app, a slim install) QA_APP_BACKEND=torch is one line saying what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa_app.models import onnx_runtime as onnx_models
from qa_app.models.weights import ModelError

TORCH_STACK = ("torch", "transformers", "sentence_transformers")


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make torch, transformers and sentence-transformers unimportable, as in the bundle."""
    for name in TORCH_STACK:
        monkeypatch.setitem(sys.modules, name, None)  # import fails; find_spec finds nothing


def _one_line_naming_the_install(message: str) -> None:
    assert "\n" not in message
    assert "torch" in message and "pip install sentence-transformers" in message


def test_backend_torch_without_torch_says_what_to_install(
    no_torch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(onnx_models.BACKEND_ENV, "torch")
    assert onnx_models.missing_torch() == ["torch", "transformers"]
    with pytest.raises(ModelError) as caught:
        onnx_models.backend()
    _one_line_naming_the_install(str(caught.value))
    assert str(caught.value).startswith("QA_APP_BACKEND=torch needs torch and transformers")
    assert "unset QA_APP_BACKEND" in str(caught.value)
    assert onnx_models.describe().startswith("unusable: QA_APP_BACKEND=torch needs")


def test_the_packaged_app_says_to_unset_the_setting(
    no_torch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing can be pip-installed into the installer's app: the one remedy is the setting."""
    monkeypatch.setenv(onnx_models.BACKEND_ENV, "torch")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(ModelError) as caught:
        onnx_models.backend()
    assert str(caught.value) == (
        "QA_APP_BACKEND=torch needs torch and transformers, which this packaged app leaves out: "
        "unset QA_APP_BACKEND to run the models on ONNX Runtime"
    )


def test_the_default_backend_needs_no_torch(
    no_torch: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(onnx_models.BACKEND_ENV, raising=False)
    assert onnx_models.backend() == "onnx"


def test_neither_runtime_names_onnxruntime(no_torch: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(onnx_models.BACKEND_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ModelError, match="pip install onnxruntime"):
        onnx_models.backend()


def test_torch_loaders_say_what_to_install(no_torch: None) -> None:
    """The loaders that bench and training call with backend="torch" directly say it too."""
    from qa_app.models import embedding
    from qa_app.reader import neural

    with pytest.raises(ModelError) as caught:
        neural.load(backend="torch")
    _one_line_naming_the_install(str(caught.value))
    assert str(caught.value).startswith("the reader on torch needs torch and transformers")
    assert "unset" not in str(caught.value)  # QA_APP_BACKEND is not what asked for torch
    with pytest.raises(ModelError) as caught:
        embedding.load_sentence_transformer()
    _one_line_naming_the_install(str(caught.value))


PROBE = """
import sys
for name in ("torch", "transformers", "sentence_transformers"):
    sys.modules[name] = None
from qa_app.cli import commands
sys.exit(commands.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args", [["ask", "When did Russia receive the first shipment?"]])
def test_cli_prints_one_line_and_no_traceback(args: list[str], tmp_path: Path) -> None:
    env = dict(os.environ, QA_APP_HOME=str(tmp_path / "home"), QA_APP_BACKEND="torch")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=300
    )
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and "ModuleNotFoundError" not in out.stderr
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, out.stderr
    _one_line_naming_the_install(errors[0])
    assert "QA_APP_BACKEND=torch needs torch and transformers" in errors[0]
