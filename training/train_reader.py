"""Fine-tune the bundled MiniLM into a span reader on SQuAD-format data; checkpoints and resumes.

Usage (see training/README.md):
    nice -n 19 python training/train_reader.py --train PATH --run training/runs/NAME [options]
Re-running the same command resumes from ``RUN/checkpoint.pt``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import (  # noqa: E402
    Features,
    bucketed_batches,
    build_examples,
    featurize,
    load_articles,
    sha256_file,
    split_articles,
)

# Settings that change the data or the schedule; a resume with different values is refused.
FIXED = (
    "train", "base_dir", "max_len", "stride", "batch_size", "lr", "epochs", "max_steps",
    "negative_ratio", "heldout", "seed", "freeze_layers", "max_examples", "warmup", "bf16",
    "init_from", "swap_ratio", "drop_ratio",
)  # fmt: skip
# Settings added after runs were started: a run without them in settings.json used this value.
ADDED_LATER = {"init_from": None, "swap_ratio": 0.0, "drop_ratio": 0.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the parsed command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--train", required=True, help="SQuAD-format training JSON")
    p.add_argument("--run", required=True, help="run folder: log, features, checkpoints")
    p.add_argument("--base-dir", default=None, help="base BERT folder (default: bundled MiniLM)")
    p.add_argument(
        "--init-from",
        default=None,
        help="start from an exported reader folder (reader.safetensors + reader.json) "
        "instead of the bare base model: continue training a shipped reader",
    )
    p.add_argument("--max-len", type=int, default=256)
    p.add_argument("--stride", type=int, default=128, help="tokens of overlap between windows")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.05, help="fraction of steps warming up")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="cut the schedule here (0: no cut)")
    p.add_argument("--max-examples", type=int, default=0, help="random subset of windows (0: all)")
    p.add_argument("--negative-ratio", type=float, default=0.3)
    p.add_argument(
        "--swap-ratio",
        type=float,
        default=0.0,
        help="share of questions that also get an unanswerable copy: a name or number the "
        "passage mentions swapped for one it does not (SQuAD 2.0-style)",
    )
    p.add_argument(
        "--drop-ratio",
        type=float,
        default=0.0,
        help="share of questions that also get an unanswerable copy: their own passage with "
        "the answer's sentence taken out",
    )
    p.add_argument("--heldout", type=float, default=0.02, help="fraction of articles held out")
    p.add_argument("--freeze-layers", type=int, default=0, help="freeze the lowest N layers")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (fast on AVX512-BF16)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--checkpoint-minutes", type=float, default=10.0)
    p.add_argument("--log-every", type=int, default=20)
    p.add_argument("--measure", type=int, default=0, help="time N steps, print ex/s, save nothing")
    p.add_argument("--stop-after-steps", type=int, default=0, help="stop (checkpointed) after N")
    return p.parse_args(argv)


def log(run: Path, message: str) -> None:
    """Append a time-stamped line to RUN/log.txt and echo it."""
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}"
    print(line, flush=True)
    with open(run / "log.txt", "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def load_features(args: argparse.Namespace, tokenizer: Any, run: Path) -> tuple[Features, dict]:
    """Return the training windows (cached in RUN/features.pt) and a description of the data."""
    import torch

    cache = run / "features.pt"
    if cache.is_file():
        blob = torch.load(cache, weights_only=False)
        return Features(**blob["features"]), blob["info"]
    articles = load_articles(args.train)
    train, heldout = split_articles(articles, args.heldout)
    examples = build_examples(
        train,
        negative_ratio=args.negative_ratio,
        seed=args.seed,
        swap_ratio=args.swap_ratio,
        drop_ratio=args.drop_ratio,
    )
    feats = featurize(examples, tokenizer, max_len=args.max_len, stride=args.stride)
    if args.max_examples and args.max_examples < len(feats):
        keep = sorted(random.Random(args.seed).sample(range(len(feats)), args.max_examples))
        feats = Features(
            [feats.input_ids[i] for i in keep],
            [feats.token_type_ids[i] for i in keep],
            [feats.starts[i] for i in keep],
            [feats.ends[i] for i in keep],
        )
    info = {
        "train_file": str(args.train),
        "train_sha256": sha256_file(args.train),
        "articles": len(articles),
        "train_articles": len(train),
        "heldout_articles": [a["title"] for a in heldout],
        "examples": len(examples),
        "negative_examples": sum(e.answer_start < 0 for e in examples),
        "swapped_questions": sum(e.qid.endswith("-swap") for e in examples),
        "answerless_passages": sum(e.qid.endswith("-drop") for e in examples),
        "windows": len(feats),
        "null_windows": sum(s == 0 for s in feats.starts),
    }
    tmp = cache.with_suffix(".tmp")
    torch.save({"features": vars(feats), "info": info}, tmp)
    os.replace(tmp, cache)
    return feats, info


def collate(feats: Features, idx: list[int]) -> dict[str, Any]:
    """Return padded tensors for one batch (dynamic padding to the longest member)."""
    import torch

    width = max(len(feats.input_ids[i]) for i in idx)
    ids = torch.zeros((len(idx), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, i in enumerate(idx):
        n = len(feats.input_ids[i])
        ids[row, :n] = torch.tensor(feats.input_ids[i])
        types[row, :n] = torch.tensor(feats.token_type_ids[i])
        mask[row, :n] = 1
    return {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "starts": torch.tensor([feats.starts[i] for i in idx]),
        "ends": torch.tensor([feats.ends[i] for i in idx]),
    }


def save_checkpoint(run: Path, model: Any, opt: Any, sched: Any, state: dict[str, Any]) -> None:
    """Write RUN/checkpoint.pt atomically: trainable weights, optimizer, schedule, position, RNG."""
    import torch

    from qa_app.reader.neural import delta_state

    blob = {
        "model": delta_state(model),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "state": state,
        "rng": {"torch": torch.get_rng_state(), "python": random.getstate()},
    }
    tmp = run / "checkpoint.tmp"
    torch.save(blob, tmp)
    os.replace(tmp, run / "checkpoint.pt")


def main(argv: list[str] | None = None) -> int:
    """Train (or resume) a reader run; return a process exit code."""
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # On a shared machine a spinning OpenMP thread starves its partner: passive waits were 2.6x
    # faster under load (must be set before torch starts its OpenMP runtime).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoTokenizer

    from qa_app.reader.neural import FROZEN_PREFIX, build_span_model

    torch.set_num_threads(args.threads)
    if args.base_dir is None:
        from qa_app.models.embedding import model_dir

        args.base_dir = str(model_dir())
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(args, k) for k in FIXED}
    settings_file = run / "settings.json"
    if settings_file.is_file() and not args.measure:
        old = json.loads(settings_file.read_text())
        changed = {
            k: (old.get(k, ADDED_LATER.get(k)), v)
            for k, v in settings.items()
            if old.get(k, ADDED_LATER.get(k)) != v
        }
        if changed:
            print(
                f"{settings_file}: run was started with other settings {changed}", file=sys.stderr
            )
            return 2
    elif not args.measure:
        settings_file.write_text(json.dumps(settings, indent=2))

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    tokenizer = AutoTokenizer.from_pretrained(args.base_dir, local_files_only=True)
    t0 = time.time()
    feats, info = load_features(args, tokenizer, run)
    (run / "data.json").write_text(json.dumps(info, indent=2))
    log(
        run,
        f"data: {len(feats)} windows ({info['null_windows']} no-answer) in {time.time() - t0:.0f}s",
    )

    model = build_span_model(args.base_dir)
    if args.init_from:
        from safetensors.torch import load_file

        start = load_file(str(Path(args.init_from) / "reader.safetensors"))
        missing, unexpected = model.load_state_dict(
            {k: v.float() for k, v in start.items()}, strict=False
        )
        if unexpected or any(not k.startswith(FROZEN_PREFIX) for k in missing):
            print(f"{args.init_from}: weights do not fit the model", file=sys.stderr)
            return 2
        log(run, f"initialised from {args.init_from} ({len(start)} tensors)")
    for name, param in model.named_parameters():
        frozen = name.startswith(FROZEN_PREFIX) or any(
            name.startswith(f"bert.encoder.layer.{i}.") for i in range(args.freeze_layers)
        )
        param.requires_grad = not frozen
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
    )
    lengths = [len(x) for x in feats.input_ids]
    per_epoch = len(bucketed_batches(lengths, args.batch_size, args.seed))
    total = args.epochs * per_epoch
    if args.max_steps:
        total = min(total, args.max_steps)
    warm = max(1, int(args.warmup * total))

    def lr_at(step: int) -> float:
        return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    state = {"epoch": 0, "batch": 0, "step": 0, "train_seconds": 0.0, "examples": 0}
    ckpt = run / "checkpoint.pt"
    if ckpt.is_file() and not args.measure:
        blob = torch.load(ckpt, weights_only=False)
        model.load_state_dict(blob["model"], strict=False)
        opt.load_state_dict(blob["optimizer"])
        sched.load_state_dict(blob["scheduler"])
        state = blob["state"]
        torch.set_rng_state(blob["rng"]["torch"])
        random.setstate(blob["rng"]["python"])
        log(
            run, f"resumed at step {state['step']} (epoch {state['epoch']}, batch {state['batch']})"
        )
    log(run, f"plan: {total} steps of {args.batch_size}, {per_epoch} batches per epoch")

    model.train()
    last_ckpt = time.time()
    window_t, window_n, loss_sum, loss_n = time.time(), 0, 0.0, 0
    ce = torch.nn.CrossEntropyLoss()
    measured = 0
    while state["step"] < total:
        batches = bucketed_batches(lengths, args.batch_size, args.seed + state["epoch"])
        while state["batch"] < len(batches) and state["step"] < total:
            step_t = time.time()
            b = collate(feats, batches[state["batch"]])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                start_logits, end_logits = model(
                    b["input_ids"], b["attention_mask"], b["token_type_ids"]
                )
            mask = b["attention_mask"] == 0
            start_logits = start_logits.float().masked_fill(mask, -1e4)
            end_logits = end_logits.float().masked_fill(mask, -1e4)
            loss = (ce(start_logits, b["starts"]) + ce(end_logits, b["ends"])) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            n = len(b["starts"])
            state["batch"] += 1
            state["step"] += 1
            state["examples"] += n
            state["train_seconds"] += time.time() - step_t
            window_n += n
            loss_sum += float(loss.detach())
            loss_n += 1
            if args.measure:
                measured += 1
                if measured == 2:  # the first steps warm up allocators; time from here
                    window_t, window_n = time.time(), 0
                if measured >= args.measure:
                    width = b["input_ids"].shape[1]
                    rate = window_n / (time.time() - window_t)
                    log(run, f"measure: {rate:.2f} ex/s (last width {width}) {vars(args)}")
                    return 0
                continue
            if state["step"] % args.log_every == 0:
                rate = window_n / (time.time() - window_t)
                log(
                    run,
                    f"step {state['step']}/{total} epoch {state['epoch']} "
                    f"loss {loss_sum / loss_n:.3f} lr {sched.get_last_lr()[0]:.2e} "
                    f"{rate:.1f} ex/s train {state['train_seconds'] / 60:.1f} min",
                )
                window_t, window_n, loss_sum, loss_n = time.time(), 0, 0.0, 0
            stop_now = args.stop_after_steps and state["step"] >= args.stop_after_steps
            if time.time() - last_ckpt > args.checkpoint_minutes * 60 or stop_now:
                save_checkpoint(run, model, opt, sched, state)
                last_ckpt = time.time()
                log(run, f"checkpoint at step {state['step']}")
            if stop_now:
                return 0
        if state["batch"] >= len(batches):
            state["epoch"] += 1
            state["batch"] = 0
    state["finished"] = True
    save_checkpoint(run, model, opt, sched, state)
    log(run, f"finished: {state['step']} steps, {state['train_seconds'] / 60:.1f} min of training")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
