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

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import alternate_steps, build_data, build_model, cpu_args, cpu_run


def main() -> None:
    a = cpu_args(size="tiny", steps=60)
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        data = build_data(root / "ws", n=a.batch * (a.steps + a.warmup), prompt_chars=64, response_chars=64)
        runs, record_time = {}, {}
        for method in ("dpo", "rpo"):
            for rec in (True, False):
                run = cpu_run(root, model, data, method, a)
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
        times = alternate_steps(runs, a.steps + a.warmup)
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
