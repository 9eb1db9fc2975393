"""CPU thread settings for the models (torch and ONNX Runtime), applied before either loads."""

from __future__ import annotations

import os
import sys
from typing import Any

THREADS_ENV = "QA_APP_THREADS"
# Measured on a 2-core machine with another process busy (bench/speed.py, README "Speed"): with
# passive waiting, two threads are as fast as one when the machine is quiet and no slower when it
# is busy; spinning workers (OpenMP's default) made a one-question embedding 40x slower.
MAX_THREADS = 4

_configured: int | None = None


def thread_count() -> int:
    """Return the threads to use: $QA_APP_THREADS if set (>= 1), else the usable cores, at most 4."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            pass
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def configure() -> int:
    """Make worker threads sleep instead of spin and fix their number; return the number.

    Call it first thing in every entry point: OpenMP reads its settings when torch is imported,
    so set after that they do nothing (then only torch.set_num_threads still applies).
    Explicit environment settings win. Safe to call many times.
    """
    global _configured
    n = thread_count()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KMP_BLOCKTIME", "0")  # the same for Intel's OpenMP, if torch uses it
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    os.environ.setdefault("MKL_NUM_THREADS", str(n))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if _configured != n and sys.modules.get("torch") is not None:  # imported (None: blocked)
        apply_to_torch()
    _configured = n
    return n


def apply_to_torch() -> None:
    """Set torch's intra-op threads to thread_count() (call after importing torch)."""
    import torch

    n = thread_count()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def onnx_session_options(threads: int | None = None) -> Any:
    """Return onnxruntime SessionOptions: ``threads`` (default thread_count()) threads per run that
    do not spin, and all graph fusions."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = thread_count() if threads is None else max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # ONNX Runtime's own pool spins between ops by default, the same waste as OpenMP's.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options
