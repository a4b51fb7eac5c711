"""Loss functions against hand-computed values and the shared golden vectors (1e-6)."""

import json
import math
from pathlib import Path

import pytest
import torch

from rpo_trainer.losses import LOSSES, Contrast, batch_metrics, contrast_weights, cosine_matrix

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "test" / "golden" / "contrast.json").read_text("utf-8"))
TOL = GOLDEN["tolerance"]


def t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


def paired_contrast(case, method, dtype=torch.float64):
    m = len(case["chosen_logratios"])
    weights = contrast_weights(t(case["embeddings"], dtype), t(case["embeddings"], dtype), case["tau"])
    return Contrast(
        chosen=t(case["chosen_logratios"], dtype), rejected=t(case["rejected_logratios"], dtype),
        beta=case["beta"], diagonal=torch.arange(m), weights=weights,
        diagonal_weight=1.0 if method == "rpo-diagonal-a1" else case["diagonal_weight"],
    )


@pytest.mark.parametrize("case", GOLDEN["paired"], ids=lambda c: c["name"])
def test_paired_golden(case):
    emb = t(case["embeddings"])
    assert torch.allclose(cosine_matrix(emb, emb), t(case["expected"]["cosine"]), atol=TOL)
    for dtype in (torch.float64, torch.float32):
        w = contrast_weights(t(case["embeddings"], dtype), t(case["embeddings"], dtype), case["tau"])
        assert w.dtype == dtype
        assert torch.allclose(w.double(), t(case["expected"]["weights"]), atol=TOL), dtype
    for name, expected in case["expected"]["losses"].items():
        method = "rpo-diagonal" if name == "rpo-diagonal-a1" else name
        c = paired_contrast(case, name)
        got = LOSSES[method](c).item()
        assert abs(got - expected) <= TOL, (name, got, expected)
    c = paired_contrast(case, "rpo")
    metrics = batch_metrics(c, c.chosen, c.rejected)
    s, n = metrics["contrast/effective_beta"]
    assert abs(s / n - sum(case["expected"]["effective_beta"]) / n) <= TOL


@pytest.mark.parametrize("case", GOLDEN["paired"], ids=lambda c: c["name"])
def test_paired_label_smoothing_golden(case):
    """Per-row eps from the votes, every method, float64 and float32; eps = 0 is today's loss exactly."""
    for dtype, tol in ((torch.float64, TOL), (torch.float32, 1e-5)):
        for name, expected in case["smoothed"]["losses"].items():
            method = "rpo-diagonal" if name == "rpo-diagonal-a1" else name
            c = paired_contrast(case, name, dtype)
            plain = LOSSES[method](c)
            c.eps = t(case["smoothed"]["eps"], dtype)
            got = LOSSES[method](c).item()
            assert abs(got - expected) <= tol * max(1.0, abs(expected)), (name, dtype, got, expected)
            c.eps = torch.zeros_like(c.eps)
            assert LOSSES[method](c).item() == plain.item(), (name, dtype)


@pytest.mark.parametrize("case", GOLDEN["unpaired"], ids=lambda c: c["name"])
def test_unpaired_label_smoothing_golden(case):
    d = len((case["chosen_embeddings"] or case["rejected_embeddings"])[0])
    w = contrast_weights(t(case["chosen_embeddings"]).reshape(-1, d), t(case["rejected_embeddings"]).reshape(-1, d), case["tau"])
    c = Contrast(chosen=t(case["chosen_logratios"]), rejected=t(case["rejected_logratios"]), beta=case["beta"], weights=w,
                 eps=t(case["smoothed"]["chosen_eps"]), eps_cols=t(case["smoothed"]["rejected_eps"]))
    assert abs(LOSSES["rpo-unpaired"](c).item() - case["smoothed"]["loss"]) <= TOL
    plain = LOSSES["rpo-unpaired"](Contrast(chosen=c.chosen, rejected=c.rejected, beta=c.beta, weights=w)).item()
    c.eps, c.eps_cols = torch.zeros_like(c.eps), torch.zeros_like(c.eps_cols)
    assert LOSSES["rpo-unpaired"](c).item() == plain


@pytest.mark.parametrize("case", GOLDEN["unpaired"], ids=lambda c: c["name"])
def test_unpaired_golden(case):
    d = len((case["chosen_embeddings"] or case["rejected_embeddings"])[0])
    ce = t(case["chosen_embeddings"]).reshape(-1, d)
    re_ = t(case["rejected_embeddings"]).reshape(-1, d)
    w = contrast_weights(ce, re_, case["tau"])
    if case["expected"]["terms"]:
        assert torch.allclose(w, t(case["expected"]["weights"]), atol=TOL)
    chosen = t(case["chosen_logratios"]).requires_grad_()
    c = Contrast(chosen=chosen, rejected=t(case["rejected_logratios"]), beta=case["beta"], weights=w)
    loss = LOSSES["rpo-unpaired"](c)
    assert abs(loss.item() - case["expected"]["loss"]) <= TOL
    loss.backward()
    assert torch.isfinite(chosen.grad).all()


def test_hand_computed_two_pairs():
    # Two orthogonal prompts, tau = 0.5: w_ii = e^2 / (e^2 + 1), w_ij = 1 / (e^2 + 1).
    emb = t([[1.0, 0.0], [0.0, 2.0]])
    rw, rl, beta = [1.0, -0.5], [0.25, 0.5], 0.2
    w_ii = math.exp(2) / (math.exp(2) + 1)
    w = [[w_ii, 1 - w_ii], [1 - w_ii, w_ii]]
    nls = lambda x: math.log1p(math.exp(-x))  # noqa: E731
    expected_rpo = sum(nls(beta * w[i][j] * (rw[i] - rl[j])) for i in range(2) for j in range(2)) / 4
    expected_dpo = (nls(beta * (rw[0] - rl[0])) + nls(beta * (rw[1] - rl[1]))) / 2
    c = Contrast(chosen=t(rw), rejected=t(rl), beta=beta, diagonal=torch.arange(2),
                 weights=contrast_weights(emb, emb, 0.5))
    assert LOSSES["rpo"](c).item() == pytest.approx(expected_rpo, abs=1e-12)
    assert LOSSES["dpo"](c).item() == pytest.approx(expected_dpo, abs=1e-12)
    ipo = ((rw[0] - rl[0] - 1 / (2 * beta)) ** 2 + (rw[1] - rl[1] - 1 / (2 * beta)) ** 2) / 2
    assert LOSSES["ipo"](c).item() == pytest.approx(ipo, abs=1e-12)


def test_rpo_equals_dpo_for_one_pair():
    for rw, rl in [(0.3, -0.2), (-2.0, 5.0), (40.0, -40.0)]:
        emb = t([[0.3, -0.7, 0.1]])
        c = Contrast(chosen=t([rw]), rejected=t([rl]), beta=0.1, diagonal=torch.arange(1),
                     weights=contrast_weights(emb, emb, 0.5))
        assert LOSSES["rpo"](c).item() == pytest.approx(LOSSES["dpo"](c).item(), abs=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 8, 33])
def test_rpo_diagonal_weight_one_equals_dpo(m):
    g = torch.Generator().manual_seed(m)
    c = Contrast(chosen=torch.randn(m, generator=g, dtype=torch.float64) * 3,
                 rejected=torch.randn(m, generator=g, dtype=torch.float64) * 3,
                 beta=0.3, diagonal=torch.arange(m), diagonal_weight=1.0)
    assert LOSSES["rpo-diagonal"](c).item() == pytest.approx(LOSSES["dpo"](c).item(), abs=1e-12)


def test_global_contrast_diagonal_offset():
    # Rank 1 of 2 with local batch 2: its rows meet columns 2 and 3 as their own pairs.
    rl_all = t([0.1, 0.2, -0.3, 0.4])
    rw = t([1.0, -1.0])
    c = Contrast(chosen=rw, rejected=rl_all, beta=0.5, diagonal=torch.tensor([2, 3]))
    expected = (math.log1p(math.exp(-0.5 * 1.3)) + math.log1p(math.exp(-0.5 * -1.4))) / 2
    assert LOSSES["dpo"](c).item() == pytest.approx(expected, abs=1e-12)


def test_weights_stay_fp32_under_bf16_embeddings():
    emb = torch.randn(4, 8).to(torch.bfloat16)
    assert contrast_weights(emb, emb, 0.5).dtype == torch.float32
