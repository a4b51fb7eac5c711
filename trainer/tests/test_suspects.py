"""The suspects of a real run find flipped labels (the small version of bench/suspects.py):
the tiny model trains with RPO on a learnable preference set with 10 percent of its pairs
flipped, and the ascending-AUM ranking of its dynamics.safetensors has an AUROC of at least 0.75
against the flipped pairs (scikit-learn). The same AUM values shuffled over the pairs do not."""

import numpy as np

from rpo_trainer import dynamics
from rpo_trainer.testing.noisy import ranking_report, train_noisy


def test_suspects_find_flipped_pairs(tmp_path, tiny_model):
    r = train_noisy("rpo", n=160, epochs=3, seed=0, workdir=tmp_path, model=tiny_model)
    print(f"{r['steps']} steps in {r['seconds']:.0f} s: suspects {r['aum']}, random {r['random']}")
    assert r["aum"]["auroc"] >= 0.75, r["aum"]
    assert r["aum"]["precision"] > 2 * r["random"]["precision"], (r["aum"], r["random"])
    # The same values, shuffled over the pairs before ranking: no better than chance.
    t = dict(r["tensors"])
    t["aum"] = np.random.default_rng(1).permutation(t["aum"])
    scores = np.zeros(len(t["aum"]))
    scores[dynamics.suspects(t)] = np.arange(len(t["aum"]), 0, -1)
    assert ranking_report(scores, r["flipped"])["auroc"] < 0.75
