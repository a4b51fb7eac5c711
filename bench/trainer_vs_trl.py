"""CPU: samples/s of our DPO against TRL's DPOTrainer (target >= 1.0).

Same tiny model (built from a config), same data, batch, max length, fp32, AdamW, constant LR.

    /path/to/venv/python bench/trainer_vs_trl.py [--size small] [--steps 12] [--repeats 3]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from trainer_common import build_data, build_model, measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="small", choices=["tiny", "small"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads per case (0: torch's default)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        data = build_data(root / "ws", n=a.batch * a.steps, prompt_chars=64, response_chars=64)
        common = {"model": str(model), "data": str(data), "batch": a.batch, "steps": a.steps, "max_length": 256,
                  "precision": "fp32", "device": "cpu", "workdir": tmp, "threads": a.threads}
        runs = {"trl": [], "ours": [], "rpo": []}
        best = {"trl": [], "ours": [], "rpo": []}
        for _ in range(a.repeats):
            for key, case in (("trl", {"kind": "trl"}), ("ours", {"kind": "ours", "method": "dpo"}),
                              ("rpo", {"kind": "ours", "method": "rpo"})):
                r = measure({**case, **common})
                runs[key].append(r["samples_per_second"])
                best[key].append(r["best_samples_per_second"])
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(f"model {a.size}, batch {a.batch} pairs, {a.steps} steps x {a.repeats} repeats, CPU fp32, {a.threads or 'default'} thread(s), AdamW")
        print(f"TRL DPOTrainer: {med['trl']:.2f} samples/s (runs: {', '.join(f'{x:.2f}' for x in runs['trl'])})")
        print(f"rpo_trainer dpo: {med['ours']:.2f} samples/s (runs: {', '.join(f'{x:.2f}' for x in runs['ours'])})")
        print(f"rpo_trainer rpo: {med['rpo']:.2f} samples/s (runs: {', '.join(f'{x:.2f}' for x in runs['rpo'])})")
        print(f"ours (dpo) / TRL samples/s: {med['ours'] / med['trl']:.3f} (target >= 1.0)")
        print(f"ours (rpo) / TRL samples/s: {med['rpo'] / med['trl']:.3f}")
        print(f"fastest steps (least disturbed by other load): TRL {max(best['trl']):.2f}, ours dpo {max(best['ours']):.2f}, "
              f"ours rpo {max(best['rpo']):.2f} samples/s; ours (dpo) / TRL {max(best['ours']) / max(best['trl']):.3f}")


if __name__ == "__main__":
    main()
