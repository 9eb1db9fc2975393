"""Symmetric int8 weight quantization, the same arithmetic as ONNX Runtime's quantize_dynamic.

The int8 reader graph holds no weights (see qa_app.models.onnx_runtime): its int8 matrices and
scales are made here, at load time, from the verified fp32 weights, so no second copy of the
model is shipped. ``python training/export_onnx.py`` checks that these arrays equal, bit for bit,
the ones onnxruntime.quantization made for the graph (that module needs the ``onnx`` package,
which the app does not ship; hence this dozen lines of numpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

PARTS = ("quantized", "scale", "zero_point")
QMAX = 127  # symmetric int8: [-127, 127], zero point 0 (onnxruntime's symmetric int8 range)


def quantize_int8(weights: np.ndarray, axis: int | None) -> dict[str, np.ndarray]:
    """Return {"quantized": int8, "scale": float32, "zero_point": int8} for ``weights``.

    ``axis`` is the channel axis (one scale per slice along it), None for one scale for the
    whole tensor. As onnxruntime: the range is widened to hold 0 and made symmetric, the scale is
    2·absmax / 254 computed in float64 and stored as float32 (1.0 for an all-zero channel), and
    values are divided in float32, rounded half to even and clipped to [-128, 127].
    """
    import numpy as np

    data = np.asarray(weights, dtype=np.float32)
    if axis is None:
        reduce: tuple[int, ...] = tuple(range(data.ndim))
    else:
        reduce = tuple(i for i in range(data.ndim) if i != axis % data.ndim)
    rmin = np.minimum(data.min(axis=reduce), np.float32(0))
    rmax = np.maximum(data.max(axis=reduce), np.float32(0))
    absmax = np.maximum(np.abs(rmin), np.abs(rmax)).astype(np.float64)
    scale = (2.0 * absmax / (2.0 * QMAX)).astype(np.float32)
    scale = np.where(scale < np.finfo(np.float32).tiny, np.float32(1.0), scale).astype(np.float32)
    shape = [1] * data.ndim
    if axis is not None:
        shape[axis % data.ndim] = -1
    quantized = np.clip(np.round(data / scale.reshape(shape)), -128, 127).astype(np.int8)
    zero_point = np.zeros(scale.shape, dtype=np.int8)
    return {"quantized": quantized, "scale": scale, "zero_point": zero_point}
