"""Preference losses as pure functions over log-ratios, picked from LOSSES by method name.

Shapes: M rows (chosen responses on this device), N columns (rejected responses: this device's,
or every device's with global contrast). For paired data `diagonal[i]` is the column of row i's
own rejected response (i, or offset + i with global contrast). Log-ratios are
log pi(y|x) - log pi_ref(y|x), summed over response tokens. Math: docs/method.md and
docs/contracts.md section 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .methods import EMBEDDING_METHODS, PAIRED_METHODS, UNPAIRED_METHODS  # noqa: F401 (schemas/methods.json)


def _at_least_fp32(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.promote_types(x.dtype, torch.float32))


def cosine_matrix(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """[M, D] x [N, D] -> [M, N] cosine similarities, computed in fp32 (or float64 if given)."""
    r = F.normalize(_at_least_fp32(rows), dim=-1)
    c = F.normalize(_at_least_fp32(cols), dim=-1)
    return r @ c.T


def contrast_weights(rows: torch.Tensor, cols: torch.Tensor, tau: float) -> torch.Tensor:
    """w_ij = softmax over j of cos_ij / tau; [M, N], each row sums to 1 (empty rows stay empty)."""
    cos = cosine_matrix(rows, cols)
    if cos.shape[1] == 0:
        return cos
    return torch.softmax(cos / tau, dim=-1)


@dataclass
class Contrast:
    chosen: torch.Tensor  # [M] chosen log-ratios (rows)
    rejected: torch.Tensor  # [N] rejected log-ratios (columns)
    beta: float
    diagonal: torch.Tensor | None = None  # [M] long: column of row i's own pair (paired data)
    weights: torch.Tensor | None = None  # [M, N] fp32 contrast weights (rpo, rpo-unpaired)
    diagonal_weight: float = 0.8
    # Label smoothing from the votes (conservative DPO): [M] eps of each row, and for unpaired
    # data [N] eps of each column (the term ij then uses (eps_i + eps_j) / 2). None: no smoothing.
    eps: torch.Tensor | None = None
    eps_cols: torch.Tensor | None = None

    def margins(self) -> torch.Tensor:
        """s_ij = r_w,i - r_l,j, [M, N], in at least fp32."""
        return _at_least_fp32(self.chosen)[:, None] - _at_least_fp32(self.rejected)[None, :]

    def diagonal_margins(self) -> torch.Tensor:
        """s_ii for the same-prompt pairs, [M]."""
        assert self.diagonal is not None, "paired losses need the diagonal"
        return _at_least_fp32(self.chosen) - _at_least_fp32(self.rejected)[self.diagonal]


def _term_eps(c: Contrast) -> torch.Tensor | None:
    """[M, N] (or [M, 1], broadcast) eps of each term; None when no row is smoothed."""
    if c.eps is None:
        return None
    e = _at_least_fp32(c.eps)[:, None]
    if c.eps_cols is not None:
        e = (e + _at_least_fp32(c.eps_cols)[None, :]) / 2
    return e


def _nls(x: torch.Tensor, eps: torch.Tensor | None) -> torch.Tensor:
    """-log sigmoid(x), or with label smoothing (1 - eps) * -log sigmoid(x) + eps * -log sigmoid(-x)."""
    if eps is None:
        return -F.logsigmoid(x)
    return (1 - eps) * -F.logsigmoid(x) + eps * -F.logsigmoid(-x)


def _zero(c: Contrast) -> torch.Tensor:
    # No terms: a zero that keeps the graph (and zero gradients) instead of a NaN mean.
    return (c.chosen.sum() + c.rejected.sum()) * 0.0


def rpo_loss(c: Contrast) -> torch.Tensor:
    """mean_ij -log sigmoid(beta * w_ij * s_ij): the weight scales the logit."""
    if c.chosen.numel() == 0 or c.rejected.numel() == 0:
        return _zero(c)
    assert c.weights is not None, "rpo needs contrast weights"
    return _nls(c.beta * c.weights * c.margins(), _term_eps(c)).mean()


def rpo_uniform_loss(c: Contrast) -> torch.Tensor:
    """mean_ij -log sigmoid(beta * s_ij): every pair of the batch with weight 1."""
    return _nls(c.beta * c.margins(), _term_eps(c)).mean()


def rpo_diagonal_loss(c: Contrast) -> torch.Tensor:
    """mean_i [a * l_ii + (1 - a) * mean_{j != i} l_ij], l_ij = -log sigmoid(beta * s_ij);
    a row without any other column is l_ii alone."""
    losses = _nls(c.beta * c.margins(), _term_eps(c))  # [M, N]
    m, n = losses.shape
    rows = torch.arange(m, device=losses.device)
    diag = losses[rows, c.diagonal]
    if n == 1:
        return diag.mean()
    off = (losses.sum(dim=1) - diag) / (n - 1)
    a = c.diagonal_weight
    return (a * diag + (1 - a) * off).mean()


def dpo_loss(c: Contrast) -> torch.Tensor:
    """mean_i -log sigmoid(beta * s_ii)."""
    e = _term_eps(c)
    return _nls(c.beta * c.diagonal_margins(), e[:, 0] if e is not None else None).mean()


def ipo_loss(c: Contrast) -> torch.Tensor:
    """mean_i (s_ii - 1 / (2 beta))^2 (Azar et al. 2023); smoothed: (1 - eps_i) * that + eps_i * (s_ii + 1 / (2 beta))^2."""
    s, h = c.diagonal_margins(), 1.0 / (2.0 * c.beta)
    if c.eps is None:
        return ((s - h) ** 2).mean()
    e = _at_least_fp32(c.eps)
    return ((1 - e) * (s - h) ** 2 + e * (s + h) ** 2).mean()


LOSSES: dict[str, Callable[[Contrast], torch.Tensor]] = {
    "rpo": rpo_loss,
    "rpo-unpaired": rpo_loss,
    "rpo-uniform": rpo_uniform_loss,
    "rpo-diagonal": rpo_diagonal_loss,
    "dpo": dpo_loss,
    "ipo": ipo_loss,
}


def batch_metrics(c: Contrast, chosen_logps: torch.Tensor, rejected_logps: torch.Tensor) -> dict[str, tuple[float, int]]:
    """TRL-named metrics as (sum, count) so they can be averaged over steps and ranks.

    Paired: margins and accuracies over the same-prompt pairs. Unpaired: margins = mean chosen
    reward - mean rejected reward; accuracies over all chosen x rejected pairs.
    """
    with torch.no_grad():
        rw = c.beta * _at_least_fp32(c.chosen.detach())
        rl = c.beta * _at_least_fp32(c.rejected.detach())
        out: dict[str, tuple[float, int]] = {
            "rewards/chosen": (rw.sum().item(), rw.numel()),
            "rewards/rejected": (rl.sum().item(), rl.numel()),
            "logps/chosen": (chosen_logps.detach().float().sum().item(), chosen_logps.numel()),
            "logps/rejected": (rejected_logps.detach().float().sum().item(), rejected_logps.numel()),
        }
        if c.diagonal is not None:
            margin = rw - rl[c.diagonal]
            out["rewards/margins"] = (margin.sum().item(), margin.numel())
            out["rewards/accuracies"] = ((margin > 0).float().sum().item(), margin.numel())
        elif rw.numel() and rl.numel():
            out["rewards/margins"] = ((rw.mean() - rl.mean()).item(), 1)
            acc = (rw[:, None] > rl[None, :]).float()
            out["rewards/accuracies"] = (acc.sum().item(), acc.numel())
        if c.weights is not None and c.diagonal is not None and c.weights.numel():
            rows = torch.arange(c.weights.shape[0], device=c.weights.device)
            w_ii = c.weights[rows, c.diagonal].float()
            out["contrast/diagonal_weight"] = (w_ii.sum().item(), w_ii.numel())
            out["contrast/effective_beta"] = ((c.beta * w_ii).sum().item(), w_ii.numel())
    return out
