"""Forming the contrast batch: from per-row log-ratios to the `Contrast` a loss of `losses.LOSSES`
takes, for paired and unpaired data, on one process or with the columns gathered from all
processes (`global_contrast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .losses import LOSSES, Contrast, batch_metrics, contrast_weights

# (local rows) -> (all ranks' rows concatenated in rank order, offset of this rank's rows)
Gather = Callable[[torch.Tensor], "tuple[torch.Tensor, int]"]


@dataclass
class ContrastBatch:
    contrast: Contrast  # what the loss sees: this rank's rows against all columns
    local: Contrast  # this rank's rows against this rank's columns (for the metrics)
    chosen_logps: torch.Tensor
    rejected_logps: torch.Tensor

    @property
    def paired(self) -> bool:
        return self.contrast.diagonal is not None


def build_contrast(ratios: torch.Tensor, logps: torch.Tensor, labels: torch.Tensor | None,
                   embeddings: torch.Tensor | None, *, beta: float, tau: float, diagonal_weight: float,
                   gather: Gather | None = None, eps: torch.Tensor | None = None) -> ContrastBatch:
    """`ratios` and `logps` are per-row policy log-ratios and policy log-probabilities.

    Paired (`labels` None): rows are [chosen_0..chosen_{m-1}, rejected_0..rejected_{m-1}] and
    row i's own rejected response is column i (offset + i with gathered columns). Unpaired:
    `labels[r]` is True for a chosen row. `embeddings` (one row per example, in the example
    order) give the contrast weights; None for methods without them. `gather` gathers the
    columns from every process (global contrast); None keeps them local. `eps` (one per pair,
    paired; one per row, unpaired) turns on label smoothing from the votes; None: none.
    """
    if labels is None:
        m = ratios.shape[0] // 2
        chosen, rejected = ratios[:m], ratios[m:]
        chosen_logps, rejected_logps = logps[:m], logps[m:]
        row_emb = col_emb = embeddings
    else:
        chosen, rejected = ratios[labels], ratios[~labels]
        chosen_logps, rejected_logps = logps[labels], logps[~labels]
        row_emb, col_emb = (embeddings[labels], embeddings[~labels]) if embeddings is not None else (None, None)
    row_eps = col_eps = None
    if eps is not None:
        row_eps, col_eps = (eps, None) if labels is None else (eps[labels], eps[~labels])
    local_col_eps = col_eps
    local_rejected, offset = rejected, 0
    if gather is not None:
        rejected, offset = gather(rejected)
        if col_emb is not None:
            col_emb, _ = gather(col_emb)
        if col_eps is not None:
            col_eps, _ = gather(col_eps)
    weights = contrast_weights(row_emb, col_emb, tau) if row_emb is not None else None
    diagonal = torch.arange(chosen.shape[0], device=ratios.device) + offset if labels is None else None
    contrast = Contrast(chosen=chosen, rejected=rejected, beta=beta, diagonal=diagonal, weights=weights,
                        diagonal_weight=diagonal_weight, eps=row_eps, eps_cols=col_eps)
    local_weights = weights
    if weights is not None and gather is not None:
        local_weights = weights[:, offset:offset + local_rejected.shape[0]]
    local = Contrast(chosen=chosen, rejected=local_rejected, beta=beta,
                     diagonal=(diagonal - offset if diagonal is not None else None), weights=local_weights,
                     diagonal_weight=diagonal_weight, eps=row_eps, eps_cols=local_col_eps)
    return ContrastBatch(contrast=contrast, local=local, chosen_logps=chosen_logps, rejected_logps=rejected_logps)


def contrast_loss(method: str, batch: ContrastBatch, *, world: int = 1,
                  sum_over_ranks: Callable[[float], float] | None = None) -> tuple[torch.Tensor, tuple[float, int]]:
    """The loss to backpropagate and the (sum, count) it adds to the reported loss.

    Paired: the batch's loss counts once. Unpaired: a mean over chosen x rejected terms, reported
    weighted by its term count (a batch with no terms adds nothing). With gathered columns
    (`sum_over_ranks` set) rows differ per rank: the loss is scaled so that DDP's average over
    ranks is the mean over all terms of the global matrix.
    """
    c = batch.contrast
    loss = LOSSES[method](c)
    if batch.paired:
        return loss, (loss.item(), 1)
    terms = c.chosen.numel() * c.rejected.numel()
    reported = (loss.item() * terms, terms)
    if sum_over_ranks is not None:
        total = sum_over_ranks(float(terms))
        if total > 0:
            loss = loss * (terms * world / total)
    return loss, reported


def contrast_metrics(batch: ContrastBatch) -> dict[str, tuple[float, int]]:
    """TRL-named metrics of this rank's rows and columns (losses.batch_metrics)."""
    return batch_metrics(batch.local, batch.chosen_logps, batch.rejected_logps)


def gather_columns(accelerator, local: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' rows concatenated (rank order) and the offset of this rank's rows.

    The gather is differentiable: backward sends each rank the gradient that every rank's loss
    puts on its rows, so with DDP's gradient averaging the update is exactly the gradient of the
    mean loss over the global contrast matrix. Ranks may hold different row counts.
    """
    if accelerator.num_processes == 1:
        return local, 0
    import torch.distributed as dist
    from torch.distributed.nn.functional import all_gather as all_gather_with_grad

    world, rank = accelerator.num_processes, accelerator.process_index
    size = torch.tensor([local.shape[0]], device=local.device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    sizes_l = [int(s.item()) for s in sizes]
    width = max(sizes_l)
    pad = local.new_zeros((width - local.shape[0],) + tuple(local.shape[1:]))
    parts = all_gather_with_grad(torch.cat([local, pad], dim=0).contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes_l)], dim=0), sum(sizes_l[:rank])
