"""CPU: what recording the training dynamics (docs/contracts.md section 8) costs per step, RPO
and DPO on the tiny model (target <= 2 percent).

    /path/to/venv/python bench/dynamics_overhead.py [--size tiny] [--steps 60] [--threads 1]

Four runs live in one process (DPO and RPO, each with and without recording: the same config,
one of them with `run.dynamics = None`) and take turns, one full optimizer step each, on the same
batches, so load from other processes hits them alike. Printed per method: the median of the
per-turn ratios (with / without), the ratio of the medians, and the share of the recording itself
(time inside Run._record, which includes the margins' copy to the host, over the step time of
the recording run): the direct measure, the least disturbed by other processes.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import build_data, build_model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny", choices=["tiny", "small"])
    ap.add_argument("--steps", type=int, default=60)
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
        runs, record_time = {}, {}
        for method in ("dpo", "rpo"):
            for rec in (True, False):
                cfg = config_from_dict({"model": str(model), "dataset": str(data), "method": method, "batch_size": a.batch,
                                        "max_steps": a.steps + a.warmup, "learning_rate": 1e-6, "optimizer": "adamw",
                                        "max_length": 256, "max_prompt_length": 128, "precision": "fp32", "device": "cpu",
                                        "output_dir": str(root / "runs"), "seed": 1}, data.parent)
                run = Run(cfg, EventWriter(stream=io.StringIO()), StopFlag())
                run.prepare()
                run.model.train()
                if rec:
                    record_time[method] = []
                    inner = run._record

                    def timed(*args, _inner=inner, _acc=record_time[method]):
                        t = time.perf_counter()
                        _inner(*args)
                        _acc.append(time.perf_counter() - t)
                    run._record = timed
                else:
                    run.dynamics = None
                runs[(method, rec)] = run
        times = {k: [] for k in runs}
        keys = list(runs)
        for step in range(a.steps + a.warmup):
            order = keys if step % 2 == 0 else keys[::-1]
            for k in order:
                t = time.perf_counter()
                runs[k].train_step(MetricWindow())
                times[k].append(time.perf_counter() - t)
        print(f"model {a.size} ({sum(p.numel() for p in runs[('dpo', True)].model.parameters()) / 1e6:.2f}M parameters), "
              f"batch {a.batch} pairs, {a.steps} timed steps each (after {a.warmup} warm-up), CPU fp32, "
              f"{a.threads or torch.get_num_threads()} thread(s); load average {os.getloadavg()[0]:.2f}")
        for method in ("dpo", "rpo"):
            on, off = times[(method, True)][a.warmup:], times[(method, False)][a.warmup:]
            rec = record_time[method][a.warmup:]
            ratios = [x / y for x, y in zip(on, off)]
            print(f"{method.upper()}: step with recording median {statistics.median(on) * 1000:.2f} ms, without "
                  f"{statistics.median(off) * 1000:.2f} ms; with / without: median of per-turn ratios "
                  f"{statistics.median(ratios):.4f}, ratio of medians {statistics.median(on) / statistics.median(off):.4f}, "
                  f"of fastest {min(on) / min(off):.4f}")
            print(f"{method.upper()}: recording itself {statistics.median(rec) * 1e6:.0f} us per step = "
                  f"{statistics.median(rec) / statistics.median(on) * 100:.2f}% of the step (target <= 2%)")


if __name__ == "__main__":
    sys.exit(main())
