"""CPU: the same trainer, model and data; RPO step time over DPO step time (target <= 1.05).

    /path/to/venv/python bench/trainer_cpu.py [--size small] [--steps 12] [--repeats 3]

Cases alternate (DPO, RPO, DPO, RPO, ...) so that load from other processes hits both alike;
the figure is the ratio of the medians.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from trainer_common import build_data, build_model, measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small", choices=["tiny", "small"])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        data = build_data(root / "ws", n=a.batch * a.steps, prompt_chars=64, response_chars=64)
        results = {"dpo": [], "rpo": []}
        best = {"dpo": [], "rpo": []}
        for _ in range(a.repeats):
            for method in ("dpo", "rpo"):
                r = measure({"kind": "ours", "method": method, "model": str(model), "data": str(data), "batch": a.batch,
                             "steps": a.steps, "max_length": 256, "precision": "fp32", "device": "cpu", "workdir": tmp})
                results[method].append(r["step_seconds"])
                best[method].append(r["best_step_seconds"])
        dpo, rpo = statistics.median(results["dpo"]), statistics.median(results["rpo"])
        print(f"model {a.size}, batch {a.batch} pairs, {a.steps} steps x {a.repeats} repeats, CPU fp32")
        print(f"DPO step: {dpo * 1000:.1f} ms (runs: {', '.join(f'{x * 1000:.0f}' for x in results['dpo'])})")
        print(f"RPO step: {rpo * 1000:.1f} ms (runs: {', '.join(f'{x * 1000:.0f}' for x in results['rpo'])})")
        print(f"RPO / DPO step time (medians): {rpo / dpo:.3f} (target <= 1.05)")
        print(f"RPO / DPO step time (fastest steps, least disturbed by other load): {min(best['rpo']) / min(best['dpo']):.3f}")


if __name__ == "__main__":
    main()
