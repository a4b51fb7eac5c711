"""A preference set the tiny model can learn, with a share of its labels flipped at random, and
how well a ranking finds the flipped ones (bench/suspects.py, trainer/tests/test_suspects.py).

The rule: every response is four words, each drawn from WARM or COLD (half and half at random);
of the two responses of a pair, the one with more WARM words is chosen, and the counts differ
by at least two (else the pair is drawn again). The lists share letters and lengths, so the
model has to learn which character sequences go with the preferred side; a pair that differs
by two words is a harder one than one that differs by four. Prompts are short questions on a
few topics, unrelated to the rule. A flipped pair swaps chosen and rejected: its label goes
against the rule that the other pairs teach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WARM = ["kind", "calm", "clear", "gentle", "honest", "patient", "warm", "bright", "careful", "useful", "fair", "steady"]
COLD = ["rude", "vague", "harsh", "hasty", "sloppy", "bitter", "cold", "dull", "careless", "useless", "unfair", "shaky"]
TOPICS = ["rivers", "stars", "bread", "chess", "music", "trains", "gardens", "clocks"]


def noisy_preferences(n: int, flip_fraction: float = 0.1, seed: int = 0) -> tuple[list[dict], np.ndarray]:
    """(records, flipped): n paired records; exactly round(flip_fraction * n) of them, chosen at
    random, have chosen and rejected swapped (flipped[i] True)."""
    rng = np.random.default_rng(seed)
    flipped = np.zeros(n, dtype=bool)
    flipped[rng.choice(n, size=int(round(flip_fraction * n)), replace=False)] = True
    records = []
    for i in range(n):
        prompt = f"Q{i}: what about {TOPICS[rng.integers(len(TOPICS))]}?"
        while True:
            warm = rng.random((2, 4)) < 0.5
            if abs(int(warm[0].sum()) - int(warm[1].sum())) >= 2:
                break
        if warm[0].sum() < warm[1].sum():
            warm = warm[::-1]
        good, bad = (" ".join(rng.choice(WARM) if w else rng.choice(COLD) for w in row) for row in warm)
        chosen, rejected = (bad, good) if flipped[i] else (good, bad)
        records.append({"prompt": prompt, "chosen": chosen, "rejected": rejected})
    return records, flipped


def ranking_report(scores: np.ndarray, flipped: np.ndarray, top_fraction: float = 0.1) -> dict:
    """How well `scores` (higher = more suspect) find the flipped rows: AUROC (scikit-learn) and
    precision / recall of the top `top_fraction` of the ranking."""
    from sklearn.metrics import roc_auc_score

    k = max(1, int(round(top_fraction * len(scores))))
    top = np.argsort(-scores, kind="stable")[:k]
    hits = int(flipped[top].sum())
    return {"auroc": float(roc_auc_score(flipped, scores)), "precision": hits / k,
            "recall": hits / max(1, int(flipped.sum())), "top_k": k}


def train_noisy(method: str, n: int, epochs: int, seed: int, workdir: Path, model: Path, lr: float = 5e-3,
                batch: int = 8, threads: int = 1) -> dict:
    """Train `method` with the real trainer process on noisy_preferences(n, 0.1, seed); return the
    ranking reports of the run's suspect order (ascending AUM, dynamics.suspects) and of a random
    ranking (seeded), with the run's figures."""
    from safetensors.numpy import load_file

    from .. import dynamics
    from .toy import write_jsonl, write_toy_cache

    records, flipped = noisy_preferences(n, 0.1, seed)
    ws = workdir / method
    data = write_jsonl(ws / "noisy.pref.jsonl", records)
    write_toy_cache(ws / ".rpo" / "embeddings", records)
    cfg = {"name": f"noisy-{method}", "model": str(model), "dataset": str(data), "method": method, "batch_size": batch,
           "epochs": epochs, "learning_rate": lr, "optimizer": "adamw", "max_length": 96, "max_prompt_length": 48,
           "device": "cpu", "precision": "fp32", "seed": seed, "logging_steps": 10}
    config = ws / "noisy.rpo.json"
    config.write_text(json.dumps(cfg), "utf-8")
    trainer_dir = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(trainer_dir) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rpo_trainer", "train", "--config", str(config)], capture_output=True,
                          text=True, env=env, cwd=ws)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{method} run failed:\n{proc.stderr[-3000:]}")
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    t = load_file(str(Path(events[0]["run_dir"]) / dynamics.FILE_NAME))
    assert list(t["line"]) == list(range(1, n + 1)), "every record trains, in file order"
    order = dynamics.suspects(t)
    scores = np.zeros(n)
    scores[order] = np.arange(len(order), 0, -1)  # the suspect ranking: first = highest score
    steps = [e for e in events if e["type"] == "step"]
    return {"method": method, "seconds": seconds, "steps": events[0]["total_steps"], "tensors": t, "flipped": flipped,
            "aum": ranking_report(scores, flipped), "random": ranking_report(np.random.default_rng(seed + 1).random(n), flipped),
            "suspects": int((t["aum"] < 0).sum()), "train_accuracy": steps[-1]["metrics"]["rewards/accuracies"]}
