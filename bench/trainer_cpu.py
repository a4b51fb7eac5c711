"""CPU: the same trainer, model and data; RPO step time over DPO step time (target <= 1.05).

    /path/to/venv/python bench/trainer_cpu.py [--size small] [--steps 30] [--threads 1]

Both runs live in one process and take turns, one full optimizer step each (forward of policy
and reference, loss, backward, clipping, AdamW step), on the same batches of the contract's
order. Taking turns step by step makes load from other processes hit both alike; the figure is
the median of the per-turn ratios (and, for reference, the ratio of the medians).
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import build_data, build_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small", choices=["tiny", "small"])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    a = ap.parse_args()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from rpo_trainer.config import config_from_dict
    from rpo_trainer.events import EventWriter
    from rpo_trainer.train import MetricWindow, Run, StopFlag

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        data = build_data(root / "ws", n=a.batch * (a.steps + a.warmup), prompt_chars=64, response_chars=64)
        runs = {}
        for method in ("dpo", "rpo"):
            cfg = config_from_dict({"model": str(model), "dataset": str(data), "method": method, "batch_size": a.batch,
                                    "max_steps": a.steps + a.warmup, "learning_rate": 1e-6, "optimizer": "adamw",
                                    "max_length": 256, "max_prompt_length": 128, "precision": "fp32", "device": "cpu",
                                    "output_dir": str(root / "runs"), "seed": 1}, data.parent)
            run = Run(cfg, EventWriter(stream=io.StringIO()), StopFlag())
            run.prepare()
            run.model.train()
            runs[method] = run
        times = {"dpo": [], "rpo": []}
        for step in range(a.steps + a.warmup):
            order = ("dpo", "rpo") if step % 2 == 0 else ("rpo", "dpo")
            for method in order:
                t = time.perf_counter()
                runs[method].train_step(MetricWindow())
                times[method].append(time.perf_counter() - t)
        dpo, rpo = times["dpo"][a.warmup:], times["rpo"][a.warmup:]
        ratios = [r / d for r, d in zip(rpo, dpo)]
        print(f"model {a.size} ({sum(p.numel() for p in runs['dpo'].model.parameters()) / 1e6:.1f}M parameters), "
              f"batch {a.batch} pairs, {a.steps} timed steps each (after {a.warmup} warm-up), CPU fp32, "
              f"{a.threads or torch.get_num_threads()} thread(s), full fine-tuning with a frozen reference")
        print(f"DPO step: median {statistics.median(dpo) * 1000:.1f} ms, fastest {min(dpo) * 1000:.1f} ms")
        print(f"RPO step: median {statistics.median(rpo) * 1000:.1f} ms, fastest {min(rpo) * 1000:.1f} ms")
        print(f"RPO / DPO step time, median of per-turn ratios: {statistics.median(ratios):.3f} (target <= 1.05)")
        print(f"RPO / DPO step time, ratio of medians: {statistics.median(rpo) / statistics.median(dpo):.3f}; "
              f"of fastest steps: {min(rpo) / min(dpo):.3f}")


if __name__ == "__main__":
    sys.exit(main())
