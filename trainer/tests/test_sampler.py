"""The sampler against test/golden/sampler.json (integers exact)."""

import json
from pathlib import Path

import pytest

from rpo_trainer.sampler import EpochSampler, Mulberry32, epoch_order, random_batches, shuffle, similarity_batches, split_ranks

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "test" / "golden" / "sampler.json").read_text("utf-8"))


@pytest.mark.parametrize("case", GOLDEN["mulberry32"], ids=lambda c: str(c["seed"]))
def test_mulberry32(case):
    rng = Mulberry32(case["seed"])
    assert [rng.next() for _ in case["outputs"]] == case["outputs"]


@pytest.mark.parametrize("case", GOLDEN["shuffle"], ids=lambda c: f'{c["seed"]}-{c["n"]}')
def test_shuffle(case):
    assert shuffle(range(case["n"]), Mulberry32(case["seed"])) == case["permutation"]


@pytest.mark.parametrize("case", GOLDEN["epochs"], ids=lambda c: c["name"])
def test_epochs(case):
    exp = case["expected"]
    b, p = case["batch_size"], case["num_processes"]
    assert epoch_order(case["n"], case["seed"], case["epoch"]) == exp["order"]
    batches = random_batches(case["n"], case["seed"], case["epoch"], b * p)
    assert batches == exp["batches"]
    assert [split_ranks(x, b, p) for x in batches] == exp["ranks"]
    sampler = EpochSampler(n=case["n"], seed=case["seed"], batch_size=b, num_processes=p)
    assert sampler.batches_per_epoch() == len(exp["batches"])
    for k, ranks in enumerate(exp["ranks"]):
        for r in range(p):
            assert sampler.rank_batch(case["epoch"], k, r) == ranks[r]


@pytest.mark.parametrize("case", GOLDEN["similarity"], ids=lambda c: c["name"])
def test_similarity(case):
    exp = case["expected"]
    b, p = case["batch_size"], case["num_processes"]
    batches = similarity_batches(case["embeddings"], case["seed"], case["epoch"], b * p)
    assert batches == exp["batches"]
    sampler = EpochSampler(n=len(case["embeddings"]), seed=case["seed"], batch_size=b, num_processes=p,
                           embeddings=case["embeddings"])
    assert sampler.batches_per_epoch() == len(exp["batches"])
    assert [[sampler.rank_batch(case["epoch"], k, r) for r in range(p)] for k in range(len(batches))] == exp["ranks"]
