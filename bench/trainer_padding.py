"""CPU: this trainer against TRL's DPOTrainer on preference data of real lengths (issue 16).

Speed (one process, interleaved step by step): samples/s and tokens/s of RPO and DPO with the
padding-aware forward and chunked log-probabilities on, then each switched off, and of TRL's
DPOTrainer, on the same batches: the sampler's minibatches of records whose prompt and response
lengths are those of HH-RLHF pairs (tokenized with all-MiniLM-L6-v2's WordPiece; prompt at most
256, sequence at most 512 tokens), rewritten for the byte tokenizer of the model built from a
config. Same model, batch, max length, fp32, AdamW, learning rate, gradient clipping.

Memory (a child process with a fixed malloc mmap threshold, so freed logits go back to the
system): the peak resident-memory increase of one training step over the memory before it,
for a model with a 151,936-token vocabulary (Qwen2.5's) and a tiny hidden size; the same cases.

    python bench/trainer_padding.py [--batch 8] [--steps 6] [--memory-batch 4] [--hh PATH]

Targets: ours / TRL samples/s >= 1.6 at 8 pairs per batch; ours / TRL peak memory <= 0.6.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import HH_TEST, ROOT, build_length_data, build_model, hh_lengths

# (label, method, padding_free, chunked_logps)
OURS = [
    ("rpo", "rpo", True, True),
    ("rpo, padding_free off", "rpo", False, True),
    ("rpo, chunked_logps off", "rpo", True, False),
    ("dpo", "dpo", True, True),
    ("dpo, padding_free off", "dpo", False, True),
    ("dpo, chunked_logps off", "dpo", True, False),
]
MEMORY_OURS = [("dpo", "dpo", True, True), ("dpo, padding_free off", "dpo", False, True),
               ("dpo, chunked_logps off", "dpo", True, False), ("dpo, both off", "dpo", False, False),
               ("rpo", "rpo", True, True)]
TRL = "TRL DPOTrainer"
MAX_LENGTH, MAX_PROMPT_LENGTH = 512, 256


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hh", type=Path, default=HH_TEST, help="HH-RLHF jsonl whose lengths are used")
    ap.add_argument("--size", default="small", choices=["tiny", "small"], help="model for the speed part")
    ap.add_argument("--batch", type=int, default=8, help="preference pairs per step (speed)")
    ap.add_argument("--steps", type=int, default=6, help="timed steps per case (speed)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--memory-batch", type=int, default=4, help="preference pairs per step (memory)")
    ap.add_argument("--memory-steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.memory_child:
        return memory_child(json.loads(a.memory_child))
    if not a.hh.exists():
        print(f"skipped: {a.hh} not found (the HH-RLHF harmless test split; pass --hh PATH)")
        return 0
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    lengths = hh_lengths(a.hh, MAX_LENGTH, MAX_PROMPT_LENGTH)
    print(f"{len(lengths)} HH pairs; sequence tokens (prompt + response) median "
          f"{statistics.median([p + c for p, c, _ in lengths] + [p + r for p, _, r in lengths]):.0f}; "
          f"{time.perf_counter() - t0:.0f} s to measure", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if not a.skip_speed:
            speed(a, root, lengths)
        if not a.skip_memory:
            env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0",
                       PYTHONPATH=str(ROOT / "trainer"), TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
            child = {"root": str(root / "memory"), "lengths": lengths, "batch": a.memory_batch,
                     "steps": a.memory_steps, "threads": a.threads}
            subprocess.run([sys.executable, __file__, "--memory-child", json.dumps(child)], env=env, check=True)
    return 0


def sample_lengths(lengths: list, n: int, seed: int = 0) -> list:
    return random.Random(seed).sample(lengths, n) if n <= len(lengths) else random.Random(seed).choices(lengths, k=n)


# ---------------------------------------------------------------- cases

def our_run(model: Path, data: Path, out: Path, method: str, batch: int, steps: int, padding_free: bool, chunked: bool):
    from rpo_trainer.config import config_from_dict
    from rpo_trainer.events import EventWriter
    from rpo_trainer.train import Run, StopFlag

    cfg = config_from_dict({"model": str(model), "dataset": str(data), "method": method, "batch_size": batch,
                            "max_steps": steps, "learning_rate": 1e-6, "optimizer": "adamw", "max_grad_norm": 1.0,
                            "max_length": MAX_LENGTH, "max_prompt_length": MAX_PROMPT_LENGTH, "precision": "fp32",
                            "device": "cpu", "output_dir": str(out), "seed": 1,
                            "padding_free": padding_free, "chunked_logps": chunked}, data.parent)
    run = Run(cfg, EventWriter(stream=io.StringIO()), StopFlag())
    run.prepare()
    run.model.train()
    return run


class TrlStepper:
    """TRL's DPOTrainer driven one optimizer step at a time on the batches we pick: its collator,
    its training_step (forward of policy and reference, loss, backward), clipping, AdamW."""

    def __init__(self, model: Path, data: Path, out: Path, batch: int, steps: int) -> None:
        import torch
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import DPOConfig, DPOTrainer

        from rpo_trainer.modeling import dtype_kwarg

        records = [json.loads(x) for x in data.read_text().splitlines()]
        tok = AutoTokenizer.from_pretrained(model)
        policy = AutoModelForCausalLM.from_pretrained(model, **dtype_kwarg(torch.float32))
        conf = DPOConfig(output_dir=str(out), per_device_train_batch_size=batch, max_steps=steps, learning_rate=1e-6,
                         optim="adamw_torch", beta=0.1, loss_type="sigmoid", max_length=MAX_LENGTH, use_cpu=True,
                         report_to="none", save_strategy="no", logging_steps=1000, seed=1, max_grad_norm=1.0,
                         dataloader_num_workers=0, lr_scheduler_type="constant")
        self.trainer = DPOTrainer(model=policy, args=conf, train_dataset=Dataset.from_list(records), processing_class=tok)
        assert len(self.trainer.train_dataset) == len(records), "TRL dropped records: the batches would differ"
        self.trainer.create_optimizer()
        self.trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train's loop

    def step(self, indices: list[int]) -> None:
        import torch

        t = self.trainer
        inputs = t.data_collator([t.train_dataset[i] for i in indices])
        t.training_step(t.model, inputs)
        torch.nn.utils.clip_grad_norm_(t.model.parameters(), t.args.max_grad_norm)
        t.optimizer.step()
        t.optimizer.zero_grad(set_to_none=True)


def make_steppers(model: Path, data: Path, root: Path, batch: int, steps: int, ours: list) -> dict:
    """label -> (step(k) function); every case takes the sampler's k-th minibatch."""
    from rpo_trainer.train import MetricWindow

    steppers, runs = {}, {}
    for label, method, pf, ch in ours:
        run = our_run(model, data, root / "runs", method, batch, steps, pf, ch)
        runs[label] = run
        steppers[label] = (lambda r: lambda k: r.train_step(MetricWindow()))(run)
    first = next(iter(runs.values()))
    trl = TrlStepper(model, data, root / "trl", batch, steps)
    steppers[TRL] = lambda k: trl.step(first.sampler.rank_batch(0, k, 0))
    for run in runs.values():  # every case trains on the same minibatches in the same order
        assert [run.sampler.rank_batch(0, k, 0) for k in range(steps)] == [first.sampler.rank_batch(0, k, 0) for k in range(steps)]
    return steppers, first


def batch_tokens(run, k: int) -> tuple[int, int]:
    """(real tokens, tokens of one padded width) of the k-th minibatch's 2B sequences."""
    idx = run.sampler.rank_batch(0, k, 0)
    lens = [len(run.train_examples[i].prompt_ids) + len(run.train_examples[i].responses[j]) for j in (0, 1) for i in idx]
    return sum(lens), max(lens) * len(lens)


# ---------------------------------------------------------------- speed

def speed(a, root: Path, lengths: list) -> None:
    import torch

    n = a.batch * (a.steps + a.warmup)
    data = build_length_data(root / "speed", sample_lengths(lengths, n))
    model = build_model(root / "model-speed", a.size)
    steppers, first = make_steppers(model, data, root / "speed", a.batch, a.steps + a.warmup, OURS)
    labels = list(steppers)
    times: dict[str, list[float]] = {k: [] for k in labels}
    tokens = []
    t0 = time.perf_counter()
    for k in range(a.steps + a.warmup):
        order = labels[k % len(labels):] + labels[:k % len(labels)]  # each case takes every position in turn
        for label in order:
            t = time.perf_counter()
            steppers[label](k)
            times[label].append(time.perf_counter() - t)
        tokens.append(batch_tokens(first, k))
        print(f"  step {k + 1}/{a.steps + a.warmup} done ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    w = a.warmup
    real = sum(t for t, _ in tokens[w:])
    padded = sum(p for _, p in tokens[w:])
    print(f"\nSPEED: model {a.size} ({sum(p.numel() for p in first.model.parameters()) / 1e6:.1f}M parameters, "
          f"{first.model.config.vocab_size}-token vocabulary), batch {a.batch} pairs, {a.steps} timed steps per case "
          f"(after {w} warm-up), CPU fp32, {a.threads or torch.get_num_threads()} thread(s), full fine-tuning with a "
          f"frozen reference, AdamW; padding would be {1 - real / padded:.0%} of one padded width per batch")
    trl_t = times[TRL][w:]
    print(f"{'case':<26}{'median s':>10}{'samples/s':>11}{'tokens/s':>10}{'/ TRL':>8}{'per-step':>10}{'best s':>8}{'/ TRL':>7}")
    for label in labels:
        ts = times[label][w:]
        med = statistics.median(ts)
        per_step = statistics.median([b / x for x, b in zip(ts, trl_t)])
        print(f"{label:<26}{med:>10.3f}{a.batch / med:>11.2f}{real / len(ts) / med:>10.0f}"
              f"{statistics.median(trl_t) / med:>8.2f}{per_step:>10.2f}{min(ts):>8.3f}{min(trl_t) / min(ts):>7.2f}")
    print("samples/s: preference pairs per second (median step); tokens/s: real (non-padding) tokens of the "
          "policy forward per second; / TRL: ratio of medians; per-step: median of the per-step ratios (TRL step "
          "time / case step time, same minibatch, adjacent in time); best: the fastest step (least disturbed by "
          "other load) and its ratio. Target: ours / TRL >= 1.6 at 8 pairs.", flush=True)


# ---------------------------------------------------------------- memory

def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def step_peak_bytes(fn) -> int:
    """Peak resident memory during fn() above the resident memory before it."""
    import gc

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
    before = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - before) * 1024


def memory_child(c: dict) -> int:
    import torch

    if c["threads"]:
        torch.set_num_threads(c["threads"])
    root = Path(c["root"])
    steps = c["steps"] + 1
    data = build_length_data(root, sample_lengths(c["lengths"], c["batch"] * steps, seed=1))
    model = build_model(root / "model", "tiny-151936")
    steppers, first = make_steppers(model, data, root, c["batch"], steps, MEMORY_OURS)
    peaks: dict[str, list[int]] = {k: [] for k in steppers}
    for k in range(steps):
        for label, fn in steppers.items():
            peaks[label].append(step_peak_bytes(lambda: fn(k)))
    real, padded = map(sum, zip(*(batch_tokens(first, k) for k in range(1, steps))))
    print(f"\nMEMORY: model tiny (hidden 64, 2 layers, {first.model.config.vocab_size}-token vocabulary, "
          f"{sum(p.numel() for p in first.model.parameters()) / 1e6:.1f}M parameters), batch {c['batch']} pairs of HH "
          f"lengths ({real // (steps - 1)} real tokens, {padded // (steps - 1)} padded, per step), CPU fp32; peak "
          f"resident memory above the step's start, the largest of {steps - 1} steps after the first (which also "
          f"allocates the optimizer state)")
    trl = max(peaks[TRL][1:])
    print(f"{'case':<26}{'peak MiB':>10}{'/ TRL':>8}")
    for label, values in peaks.items():
        peak = max(values[1:])
        print(f"{label:<26}{peak / 2**20:>10.0f}{peak / trl:>8.2f}")
    print("Target: ours / TRL <= 0.6.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
