"""Export a training checkpoint as the shipped reader: float16 delta weights + reader.json.

Usage: python training/export_reader.py --run training/runs/NAME [--out qa_app/resources/reader]
Only what differs from the bundled base model is stored (the word embeddings are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MAX_BYTES = 25 * 1024 * 1024


def export(run: Path, out: Path) -> dict:
    """Write OUT/reader.safetensors and OUT/reader.json from RUN/checkpoint.pt; return the metadata.

    Raises FileNotFoundError naming the checkpoint when the run has none, ValueError when the
    weights exceed the 25 MB budget.
    """
    import torch
    from safetensors.torch import save_file

    from qa_app.models.embedding import MODEL_NAME, MODEL_SHA256, sha256_file
    from qa_app.reader.neural import FROZEN_PREFIX, META_FILE, WEIGHTS_FILE

    ckpt = run / "checkpoint.pt"
    if not ckpt.is_file():
        raise FileNotFoundError(f"{ckpt}: no checkpoint yet; let the run reach its first one")
    blob = torch.load(ckpt, weights_only=False)
    tensors = {
        k: v.detach().to(torch.float16).contiguous()
        for k, v in blob["model"].items()
        if not k.startswith(FROZEN_PREFIX)
    }
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt", "base_model": MODEL_NAME})
    if tmp.stat().st_size > MAX_BYTES:
        size = tmp.stat().st_size
        tmp.unlink()
        raise ValueError(f"{weights}: {size} bytes is over the {MAX_BYTES}-byte budget")
    os.chmod(tmp, 0o644)  # safetensors writes 0600; the shipped file must be readable by all
    os.replace(tmp, weights)
    settings = json.loads((run / "settings.json").read_text())
    data = json.loads((run / "data.json").read_text())
    state = blob["state"]
    old = out / META_FILE
    previous = json.loads(old.read_text()) if old.is_file() else {}
    meta = {
        "format": 1,
        "architecture": "BertModel (bundled base) + Linear(hidden, 2) start/end head",
        "base_model": MODEL_NAME,
        "base_model_sha256": MODEL_SHA256,
        "shared_with_base": [FROZEN_PREFIX + "weight"],
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": sha256_file(weights),
        "weights_bytes": weights.stat().st_size,
        "weights_dtype": "float16",
        "settings": {k: v for k, v in settings.items() if k not in ("base_dir",)},
        "seed": settings["seed"],
        "data": data,
        "training": {
            "step": state["step"],
            "epoch": state["epoch"],
            "examples_seen": state["examples"],
            "train_minutes": round(state["train_seconds"] / 60, 1),
            "finished": bool(state.get("finished", False)),
            "run": str(run),
            "exported": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
        "max_answer_tokens": 30,
        # Calibration and threshold are refitted by calibrate_reader.py after every export.
        "calibration": {"scale": 1.0, "bias": 0.0, "fitted": False},
        "threshold": 0.5,
        "metrics": {},
    }
    init = settings.get("init_from")
    if init:  # continued training: record what the run started from
        started = json.loads((Path(init) / META_FILE).read_text())
        meta["training"]["initialised_from"] = {
            "weights_sha256": started.get("weights_sha256"),
            "settings": started.get("settings"),
            "training": started.get("training"),
            "data": {k: v for k, v in started.get("data", {}).items() if k != "heldout_articles"},
        }
        meta["training"]["total_train_minutes"] = round(
            meta["training"]["train_minutes"] + started.get("training", {}).get("train_minutes", 0),
            1,
        )
    if previous.get("weights_sha256") == meta["weights_sha256"]:
        for key in ("calibration", "threshold", "metrics"):
            meta[key] = previous.get(key, meta[key])
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    """Export from the command line; return an exit code."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--run", required=True)
    p.add_argument(
        "--out", default=str(Path(__file__).resolve().parents[1] / "qa_app/resources/reader")
    )
    args = p.parse_args(argv)
    meta = export(Path(args.run), Path(args.out))
    print(f"exported step {meta['training']['step']}: {meta['weights_bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
