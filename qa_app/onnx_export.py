"""Exports the embedder's and the reader's graphs to ONNX (fp32, weights left out) with torch.onnx.

A build step, run by ``python training/export_onnx.py`` whenever the model code changes; needs
torch and the ``onnx`` package (a development dependency), never used by the running app.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from qa_app.models.onnx_runtime import GRAPH_DIR, RECORD_FILE

OPSET = 17
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUTS = {
    "embedder": {"sentence_embedding": {0: "batch"}},
    "reader": {"start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}},
}


def embedding_module() -> Any:
    """Return the reference embedder (sentence-transformers' own BERT) as one torch module."""
    from qa_app.models.embedding import load_sentence_transformer
    from qa_app.models.torch_encoder import mean_pooled

    st: Any = load_sentence_transformer()
    return mean_pooled(st[0].auto_model)


def _sources(kind: str) -> dict[str, dict[str, Any]]:
    """Return the weight files a graph's parameters come from, as {source: {key: numpy array}}."""
    from safetensors.numpy import load_file

    from qa_app.models.embedding import base_weights

    sources: dict[str, dict[str, Any]] = {"base": base_weights()}
    if kind == "reader":
        from qa_app.reader.neural import WEIGHTS_FILE, resource_dir

        sources["reader"] = load_file(str(resource_dir() / WEIGHTS_FILE))
    return sources


def _origin(name: str, value: Any, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return where the parameter ``name`` is stored: the source and key holding equal values."""
    import numpy as np

    for source in ("reader", "base"):
        tensors = sources.get(source, {})
        for key in (name, name.removeprefix("bert.")):
            if key in tensors and np.array_equal(tensors[key].astype(value.dtype), value):
                return {"source": source, "key": key}
    raise ValueError(f"parameter {name} is in no weight file with the same values")


def export(kind: str, directory: Path = GRAPH_DIR) -> Path:
    """Write ``kind``'s weightless graph into ``directory`` and record it in graphs.json; return it."""
    import torch

    from qa_app.reader.neural import load

    module = embedding_module() if kind == "embedder" else load(backend="torch").model
    # Plain matrix-product attention traces to a graph ONNX Runtime runs ~20% faster than the
    # scaled_dot_product_attention one (same results to 1e-7); the torch path keeps its own.
    previous = module.bert.config._attn_implementation
    module.bert.set_attn_implementation("eager")
    params = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    sample = (
        torch.tensor([[101, 2054, 2003, 1996, 3437, 1029, 102, 1996, 3437, 102]]),
        torch.ones(1, 10, dtype=torch.long),
        torch.tensor([[0] * 7 + [1] * 3]),
    )
    outputs = OUTPUTS[kind]
    try:
        target = _export(kind, module, sample, outputs, params, directory)
    finally:
        module.bert.set_attn_implementation(previous)
    return target


def _export(
    kind: str,
    module: Any,
    sample: tuple[Any, ...],
    outputs: dict[str, dict[int, str]],
    params: dict[str, Any],
    directory: Path,
) -> Path:
    """Trace ``module`` to ``directory``/``kind``.onnx without weights, record it; return the file."""
    import numpy as np
    import onnx
    import torch

    from qa_app.models.embedding import sha256_file

    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full.onnx"
        with torch.inference_mode():
            # No constant folding: every initializer stays a named parameter that can be fed from
            # the weight files; ONNX Runtime folds and fuses when it builds the session.
            torch.onnx.export(
                module,
                sample,
                str(full),
                input_names=INPUTS,
                output_names=list(outputs),
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS}, **outputs},
                opset_version=OPSET,
                do_constant_folding=False,
                dynamo=False,
            )
        model = onnx.load(str(full))
        sources = _sources(kind)
        initializers = []
        for tensor in model.graph.initializer:
            if tensor.name not in params:
                raise ValueError(f"{kind}: graph constant {tensor.name} is not a parameter")
            value = params[tensor.name]
            initializers.append(
                {"name": tensor.name, **_origin(tensor.name, value, sources)}
                | {"shape": list(value.shape), "dtype": str(np.dtype(value.dtype))}
            )
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{kind}.onnx"
        # Every initializer becomes "external data" that the app supplies from memory.
        onnx.save_model(
            model,
            str(target),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=f"{kind}.weights",
            size_threshold=0,
        )
        (directory / f"{kind}.weights").unlink()
    record_path = directory / RECORD_FILE
    records = json.loads(record_path.read_text("utf-8")) if record_path.is_file() else {}
    records[kind] = {
        "file": target.name,
        "sha256": sha256_file(target),
        "opset": OPSET,
        "exported_with": {"torch": torch.__version__.split("+")[0], "onnx": onnx.__version__},
        "initializers": initializers,
    }
    record_path.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return target
