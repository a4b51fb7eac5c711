"""CPU, seeded: do the suspects of a run (docs/contracts.md section 8) find wrong labels?

    /path/to/venv/python bench/suspects.py [--n 400] [--epochs 4] [--methods rpo,dpo]

A preference set the tiny model can learn (rpo_trainer/testing/noisy.py: four-word responses,
the one with more "warm" words than "cold" ones is chosen, by at least two), with 10 percent of
the pairs flipped at random, is trained by the real trainer (`python -m rpo_trainer train`, one
process per method) for a few epochs. The pairs are ranked as `rpo suspects` ranks them
(ascending AUM, from the run's dynamics.safetensors); printed: the AUROC of that ranking
against the flipped pairs (scikit-learn), precision and recall of its top 10 percent, and the
same for a random ranking (seeded). Targets: AUROC >= 0.85, top-10% precision >= 0.6 (random:
0.5 and 0.1). trainer/tests/test_suspects.py runs a smaller version.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="rpo,dpo")
    a = ap.parse_args()
    from rpo_trainer.testing.noisy import train_noisy
    from rpo_trainer.testing.tiny_model import make_tiny_model

    print(f"{a.n} pairs (10% flipped at random, seed {a.seed}), tiny model, {a.epochs} epochs, batch 8, lr {a.lr}, CPU; "
          f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        model = make_tiny_model(Path(tmp) / "model")
        for method in a.methods.split(","):
            r = train_noisy(method, a.n, a.epochs, a.seed, Path(tmp), model, lr=a.lr)
            s, rnd = r["aum"], r["random"]
            print(f"{method.upper()}: {r['steps']} steps in {r['seconds']:.0f} s; last logged train accuracy "
                  f"{r['train_accuracy']:.2f}; {r['suspects']} rows with AUM < 0 ({int(r['flipped'].sum())} flipped)")
            print(f"  suspects (ascending AUM): AUROC {s['auroc']:.3f} (target >= 0.85), top {s['top_k']} precision "
                  f"{s['precision']:.2f} (target >= 0.6), recall {s['recall']:.2f}")
            print(f"  random ranking:           AUROC {rnd['auroc']:.3f}, top {rnd['top_k']} precision "
                  f"{rnd['precision']:.2f}, recall {rnd['recall']:.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
