"""CPU: the same trainer, model and data; RPO step time over DPO step time (target <= 1.05).

    /path/to/venv/python bench/trainer_cpu.py [--size small] [--steps 30] [--threads 1]

Both runs live in one process and take turns, one full optimizer step each (forward of policy
and reference, loss, backward, clipping, AdamW step), on the same batches of the contract's
order. Taking turns step by step makes load from other processes hit both alike; the figure is
the median of the per-turn ratios (and, for reference, the ratio of the medians).
"""

import statistics
import sys
import tempfile
from pathlib import Path

from trainer_common import alternate_steps, build_data, build_model, cpu_args, cpu_run


def main() -> None:
    a = cpu_args(size="small", steps=30)
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        data = build_data(root / "ws", n=a.batch * (a.steps + a.warmup), prompt_chars=64, response_chars=64)
        runs = {method: cpu_run(root, model, data, method, a) for method in ("dpo", "rpo")}
        times = alternate_steps(runs, a.steps + a.warmup)
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
