"""Writes the ONNX graphs the app runs (qa_app/models/onnx_graphs/) from the bundled models, with torch.onnx.

    python training/export_onnx.py            # both graphs, then graphs.json with their SHA-256

Run it after changing the reader's architecture or upgrading the embedding model; a new reader
checkpoint with the same architecture needs no new graph (the weights are read at run time).
Then run tests/test_onnx_fidelity.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ["QA_APP_BACKEND"] = "torch"  # the graphs are traced from the reference torch models

from qa_app.models.onnx_runtime import GRAPH_DIR, KINDS  # noqa: E402
from qa_app.onnx_export import export  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GRAPH_DIR, help="folder for the graphs")
    parser.add_argument("--kind", choices=KINDS, action="append", help="only this graph")
    args = parser.parse_args(argv)
    for kind in args.kind or KINDS:
        path = export(kind, args.out)
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
