"""Exports the embedder's and the reader's graphs to ONNX (fp32, weights left out) with torch.onnx.

A build step, run by ``python training/export_onnx.py`` whenever the model code changes; needs
torch and the ``onnx`` package (a development dependency), never used by the running app.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from qa_app.models.onnx_runtime import GRAPH_DIR, INT8_READER, RECORD_FILE
from qa_app.models.quantize import PARTS

OPSET = 17
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUTS = {
    "embedder": {"sentence_embedding": {0: "batch"}},
    "reader": {"start_logits": {0: "batch", 1: "tokens"}, "end_logits": {0: "batch", 1: "tokens"}},
}


def _sample() -> tuple[Any, ...]:
    """Return the sample input the graphs are traced with: a question and a two-word passage."""
    import torch

    return (
        torch.tensor([[101, 2054, 2003, 1996, 3437, 1029, 102, 1996, 3437, 102]]),
        torch.ones(1, 10, dtype=torch.long),
        torch.tensor([[0] * 7 + [1] * 3]),
    )


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
    from qa_app.reader.neural import load

    if kind == INT8_READER:
        return export_int8_reader(directory)
    module = embedding_module() if kind == "embedder" else load(backend="torch").model
    # Plain matrix-product attention traces to a graph ONNX Runtime runs ~20% faster than the
    # scaled_dot_product_attention one (same results to 1e-7); the torch path keeps its own.
    previous = module.bert.config._attn_implementation
    module.bert.set_attn_implementation("eager")
    params = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    sample = _sample()
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
    return _save_weightless(model, directory, kind, initializers)


def _transposed_origin(value: Any, sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return where the constant-folded (transposed) matrix ``value`` is stored, transposed."""
    import numpy as np

    for source in ("reader", "base"):
        for key, tensor in sources.get(source, {}).items():
            if tensor.shape == value.shape[::-1] and np.array_equal(
                tensor.astype(value.dtype).T, value
            ):
                return {"source": source, "key": key, "transpose": True}
    raise ValueError("a folded matrix is in no weight file, transposed or not")


def _channel_axis(weights: Any, made: dict[str, Any]) -> int | None:
    """Return the axis whose int8 arrays from qa_app.models.quantize equal onnxruntime's ``made``;
    raise ValueError when none does (the two quantizations disagree)."""
    import numpy as np

    from qa_app.models.quantize import quantize_int8

    axes: list[int | None] = [None] if made["scale"].ndim == 0 else list(range(weights.ndim))
    for axis in axes:
        ours = quantize_int8(weights, axis)
        if all(
            ours[part].shape == made[part].shape
            and ours[part].dtype == made[part].dtype
            and np.array_equal(ours[part], made[part])
            for part in made
        ):
            return axis
    raise ValueError("qa_app.models.quantize does not reproduce onnxruntime's int8 weights")


def export_int8_reader(directory: Path = GRAPH_DIR) -> Path:
    """Write the reader's int8 graph (weights left out) and record it in graphs.json; return it.

    onnxruntime.quantization.quantize_dynamic quantizes every weight matrix of a MatMul to int8,
    one scale per output column (per-channel, symmetric); activations are quantized on the fly.
    Embeddings, biases and layer norms stay fp32. The graph's int8 tensors are recorded as made
    from a weight file's fp32 matrix, and checked here to be what qa_app.models.quantize makes
    of it at load time.
    """
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa_app.reader.neural import load

    module = load(backend="torch").model
    previous = module.bert.config._attn_implementation
    module.bert.set_attn_implementation("eager")
    outputs = OUTPUTS["reader"]
    sources = _sources("reader")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            full, quantized = Path(tmp) / "full.onnx", Path(tmp) / "int8.onnx"
            with torch.inference_mode():
                # Constant folding turns each Linear into MatMul(x, Wᵀ) with Wᵀ an initializer,
                # which is what the quantizer looks for.
                torch.onnx.export(
                    module,
                    _sample(),
                    str(full),
                    input_names=INPUTS,
                    output_names=list(outputs),
                    dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in INPUTS}, **outputs},
                    opset_version=OPSET,
                    do_constant_folding=True,
                    dynamo=False,
                )
            quantize_dynamic(
                str(full),
                str(quantized),
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                weight_type=QuantType.QInt8,
            )
            fp32 = {
                t.name: numpy_helper.to_array(t) for t in onnx.load(str(full)).graph.initializer
            }
            model = onnx.load(str(quantized))
    finally:
        module.bert.set_attn_implementation(previous)
    params = {k: v.detach().numpy() for k, v in module.state_dict().items()}
    made = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    initializers = []
    for name, value in made.items():
        parent = next((name.removesuffix(f"_{p}") for p in PARTS if name.endswith(f"_{p}")), "")
        if parent in fp32 and name not in fp32:
            weights = fp32[parent]
            origin = (
                _origin(parent, weights, sources)
                if parent in params
                else _transposed_origin(weights, sources)
            )
            parts = {p: made[f"{parent}_{p}"] for p in PARTS}
            part = name.removeprefix(parent + "_")
            origin |= {"quantize": {"part": part, "axis": _channel_axis(weights, parts)}}
        elif name in params:
            origin = _origin(name, value, sources)
        else:
            origin = _transposed_origin(value, sources)
        initializers.append(
            {"name": name, **origin}
            | {"shape": list(value.shape), "dtype": str(np.dtype(value.dtype))}
        )
    import onnxruntime

    return _save_weightless(
        model,
        directory,
        INT8_READER,
        initializers,
        exported_with={"onnxruntime": onnxruntime.__version__},
        quantization="dynamic int8, per-channel symmetric MatMul weights (quantize_dynamic)",
    )


def _save_weightless(
    model: Any,
    directory: Path,
    kind: str,
    initializers: list[dict[str, Any]],
    *,
    exported_with: dict[str, str] | None = None,
    **record: Any,
) -> Path:
    """Save ``model`` as ``directory``/``kind``.onnx with every initializer left out (the app
    supplies them from memory, as ``initializers`` records), record it in graphs.json; return it.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    from qa_app.models.embedding import sha256_file

    for tensor in model.graph.initializer:
        # Only tensors held as raw bytes become external data; small ones may be held otherwise.
        tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor), tensor.name))
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{kind}.onnx"
    onnx.save_model(
        model,
        str(target),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=f"{kind}.weights",
        size_threshold=0,
    )
    (directory / f"{kind}.weights").unlink()
    _record(
        directory,
        kind,
        {
            "file": target.name,
            "sha256": sha256_file(target),
            "opset": OPSET,
            "exported_with": {"torch": torch.__version__.split("+")[0], "onnx": onnx.__version__}
            | (exported_with or {}),
            **record,
            "initializers": initializers,
        },
    )
    return target


def _record(directory: Path, kind: str, record: dict[str, Any]) -> None:
    """Write ``record`` as ``kind``'s entry of ``directory``/graphs.json, keeping the others."""
    record_path = directory / RECORD_FILE
    records = json.loads(record_path.read_text("utf-8")) if record_path.is_file() else {}
    records[kind] = record
    record_path.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
