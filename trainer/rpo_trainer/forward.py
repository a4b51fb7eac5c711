"""Sequence log-probabilities of a minibatch: the policy and reference forward passes.

`sequence_logps(model, batch, options)` returns, for every row of a collated batch (paired: all
chosen then all rejected; unpaired: one row per item), the sum of log p(token) over its response
tokens, in the rows' order. Two things keep the work close to the real tokens:

- **Padding-aware sub-batches** (`padding_free`). A minibatch's sequences often differ several
  times in length; padded to one width, half or more of the compute is on padding. The rows are
  grouped by length into sub-batches (`plan_sub_batches`), each cropped to its longest row, run
  as separate forward passes, and their results put back into the batch's row order. The
  minibatch itself is unchanged, so the losses, metrics and gradients are those of the padded
  forward to floating-point rounding. (Packing rows into one with position ids would need a
  variable-length attention kernel, e.g. flash-attention on a GPU; sub-batching runs everywhere.)
- **Chunked log-probabilities** (`chunked_logps`). The `[rows, length, vocab]` logits are the
  largest tensor of a step for a large vocabulary (151,936 for Qwen2.5). The model is run for
  its final hidden states only, and the vocabulary projection, log-softmax and gather run over
  the response tokens in chunks of at most `CHUNK_ELEMENTS` logits; in training each chunk is
  recomputed in the backward pass instead of kept, so peak memory does not grow with vocabulary
  x sequence length.

Both work for any Hugging Face causal LM whose forward accepts `logits_to_keep` and whose logits
are the output embeddings applied to the backbone's last hidden state (checked on the first
pass; a model that does something else, e.g. soft-capped logits, falls back to full logits).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch.utils.checkpoint import checkpoint

# Logits per chunk of the chunked log-softmax (fp32: 128 MB): small next to a large vocabulary's
# full logits, large enough that each chunk's matrix product is efficient.
CHUNK_ELEMENTS = 1 << 25

# The cost of one more forward pass, in tokens of compute, that sub-batch planning weighs against
# the padding a split saves: Python and kernel-launch overhead per pass, larger on a GPU, whose
# per-token cost is far lower.
CALL_OVERHEAD_TOKENS = {"cpu": 32, "cuda": 1024}
DEFAULT_OVERHEAD_TOKENS = 256


@dataclass(frozen=True)
class ForwardOptions:
    """The run config's `padding_free` and `chunked_logps` switches."""

    padding_free: bool = True
    chunked_logps: bool = True


def _unwrap(model):
    """The Hugging Face model inside DDP-style wrappers and peft."""
    inner = model
    while hasattr(inner, "module"):  # DDP and similar wrappers
        inner = inner.module
    if hasattr(inner, "get_base_model"):  # peft
        inner = inner.get_base_model()
    return inner


def accepts_logits_to_keep(model) -> bool:
    inner = _unwrap(model)
    cached = getattr(inner, "_rpo_logits_to_keep", None)
    if cached is None:
        cached = "logits_to_keep" in inspect.signature(inner.forward).parameters
        _remember(inner, "_rpo_logits_to_keep", cached)
    return cached


def _remember(module, name: str, value) -> None:
    try:
        setattr(module, name, value)
    except AttributeError:
        pass


def _backbone_and_head(model):
    """(the module whose output's first field is the last hidden state, the output embeddings),
    or None when the model has no such pair."""
    inner = _unwrap(model)
    backbone = getattr(inner, getattr(inner, "base_model_prefix", "") or "", None)
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    if not isinstance(backbone, torch.nn.Module) or not isinstance(head, torch.nn.Module) or backbone is inner:
        return None
    return backbone, head


def can_chunk(model) -> bool:
    """The model's forward takes logits_to_keep, it has a backbone and an output layer, and its
    logits were not found to be something else than head(last hidden state)."""
    return (accepts_logits_to_keep(model) and _backbone_and_head(model) is not None
            and getattr(_unwrap(model), "_rpo_chunked_ok", True))


def forward_paths(model, options: ForwardOptions) -> dict[str, bool]:
    """Which paths run for this model: the switches, less what the model cannot take (the start
    event reports it)."""
    return {"padding_free": options.padding_free, "chunked_logps": options.chunked_logps and can_chunk(model)}


# ---------------------------------------------------------------- sub-batch planning (pure)

def plan_sub_batches(lengths: Sequence[int], overhead_tokens: int) -> list[list[int]]:
    """Rows grouped by length into sub-batches: row indices, longest sub-batch first.

    Minimizes sum over sub-batches of (rows x longest row) + overhead_tokens x sub-batches: the
    tokens computed (padding included) plus a per-pass cost. Rows sorted by length (ties by
    index) are cut into contiguous groups by dynamic programming over the cut points, which is
    exact for that cost; O(R^2) for R rows (a minibatch: tens).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    n = len(order)
    best = [0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            cost = best[i] + (j - i) * lengths[order[i]] + overhead_tokens
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups = []
    j = n
    while j > 0:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]


# ---------------------------------------------------------------- log-probabilities

def sequence_logps(model, batch: dict[str, torch.Tensor], options: ForwardOptions = ForwardOptions()) -> torch.Tensor:
    """Sum of log p(token) over each row's response tokens: [R], in the batch's row order.

    `batch` is data.collate's: left-padded `input_ids`, `attention_mask`, `loss_mask` and
    `position_ids` (counted from each row's first real token, so cropping padding changes
    nothing).
    """
    rows = batch["input_ids"].shape[0]
    if not options.padding_free or rows <= 1:
        return _padded_logps(model, batch, options.chunked_logps)
    lengths = batch["attention_mask"].sum(dim=1).tolist()
    overhead = CALL_OVERHEAD_TOKENS.get(batch["input_ids"].device.type, DEFAULT_OVERHEAD_TOKENS)
    groups = plan_sub_batches(lengths, overhead)
    parts = []
    for group in groups:
        index = torch.tensor(group, device=batch["input_ids"].device)
        width = max(lengths[i] for i in group)
        sub = {k: v[index, -width:] for k, v in batch.items() if k in _ROW_TENSORS}
        parts.append(_padded_logps(model, sub, options.chunked_logps))
    return restore_order(torch.cat(parts), [i for g in groups for i in g])


_ROW_TENSORS = ("input_ids", "attention_mask", "loss_mask", "position_ids")


def restore_order(values: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """values[k] belongs to batch row rows[k]: the values in batch row order (differentiable)."""
    inverse = torch.empty(len(rows), dtype=torch.long, device=values.device)
    inverse[torch.tensor(rows, device=values.device)] = torch.arange(len(rows), device=values.device)
    return values[inverse]


def _padded_logps(model, batch: dict[str, torch.Tensor], chunked: bool) -> torch.Tensor:
    """One forward pass over a left-padded (sub-)batch."""
    if chunked and can_chunk(model):
        out = _chunked_logps(model, batch)
        if out is not None:
            return out
    return _full_logits_logps(model, batch)


def _model_kwargs(batch: dict[str, torch.Tensor]) -> dict:
    kwargs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "use_cache": False}
    if "position_ids" in batch:
        kwargs["position_ids"] = batch["position_ids"]
    return kwargs


def _full_logits_logps(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The model's logits for the last (longest response + 1) positions (rows are left-padded,
    so responses end every row), log-softmax in fp32 one row at a time.

    Both paths add a row's token log-probabilities in float64 and round the sum once: a sum of
    hundreds of fp32 terms near -5 would otherwise carry several units in the last place of
    error, which a log-ratio (the difference of two such sums) magnifies."""
    input_ids, loss_mask = batch["input_ids"], batch["loss_mask"]
    width = input_ids.shape[1]
    keep = min(width, int(loss_mask.sum(dim=1).max().item()) + 1)
    kwargs = _model_kwargs(batch)
    if accepts_logits_to_keep(model):
        kwargs["logits_to_keep"] = keep
    logits = model(**kwargs).logits[:, -keep:]
    logits = logits[:, :-1]
    targets = input_ids[:, width - keep + 1:]
    mask = loss_mask[:, width - keep + 1:].to(torch.float32)
    out = []
    for r in range(logits.shape[0]):
        row = logits[r].float()
        tok = row.gather(-1, targets[r].unsqueeze(-1)).squeeze(-1) - torch.logsumexp(row, dim=-1)
        out.append((tok * mask[r]).sum(dtype=torch.float64))
    return torch.stack(out).float()


def _chunked_logps(model, batch: dict[str, torch.Tensor]) -> torch.Tensor | None:
    """Last hidden states from the model (its own logits for one position only), then
    token_logps over the response tokens; None if the model's logits are not head(hidden)."""
    backbone, head = _backbone_and_head(model)
    captured: list[torch.Tensor] = []

    def keep_hidden(module, args, output):  # noqa: ARG001
        captured.append(output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0])

    handle = backbone.register_forward_hook(keep_hidden)
    try:
        out = model(**_model_kwargs(batch), logits_to_keep=1)
    finally:
        handle.remove()
    if len(captured) != 1:
        return _not_head_of_hidden(model)
    hidden = captured[0]
    inner = _unwrap(model)
    if not getattr(inner, "_rpo_chunked_checked", False):
        # The model's logits for the last position must be head(last hidden state) exactly;
        # a model that scales or soft-caps its logits takes the full-logits path.
        with torch.no_grad():
            mine = head(hidden[:, -1:]).float()
        if mine.shape != out.logits.shape or not torch.allclose(mine, out.logits.float(), rtol=1e-5, atol=1e-6):
            return _not_head_of_hidden(model)
        _remember(inner, "_rpo_chunked_checked", True)
    # Position t predicts token t + 1: the response tokens' predictions.
    targets_mask = batch["loss_mask"][:, 1:].bool()
    row_of, pos = targets_mask.nonzero(as_tuple=True)
    states = hidden[:, :-1][row_of, pos]
    targets = batch["input_ids"][:, 1:][row_of, pos]
    per_token = token_logps(head, states, targets)
    sums = torch.zeros(batch["input_ids"].shape[0], dtype=torch.float64, device=per_token.device)
    return sums.index_add(0, row_of, per_token.double()).float()


def _not_head_of_hidden(model) -> None:
    _remember(_unwrap(model), "_rpo_chunked_ok", False)
    from .events import human

    human("chunked_logps: this model's logits are not its output layer applied to the last hidden state; "
          "computing full logits instead")
    return None


def token_logps(head: Callable[[torch.Tensor], torch.Tensor], states: torch.Tensor, targets: torch.Tensor,
                chunk_elements: int | None = None) -> torch.Tensor:
    """log softmax(head(states))[targets] for [N, H] states and [N] targets: [N] fp32.

    Chunks of at most chunk_elements (default CHUNK_ELEMENTS) logits; with autograd on, each chunk's logits are
    recomputed in the backward pass instead of being kept (activation checkpointing), so at most
    one chunk's logits exist at a time.
    """
    n = states.shape[0]
    vocab = _out_features(head)
    step = max(1, (chunk_elements or CHUNK_ELEMENTS) // vocab) if vocab else n
    if n <= step:
        return _logps_of_chunk(head, states, targets)
    grad = torch.is_grad_enabled()
    parts = []
    for s in range(0, n, step):
        h, t = states[s:s + step], targets[s:s + step]
        parts.append(checkpoint(_logps_of_chunk, head, h, t, use_reentrant=False) if grad else _logps_of_chunk(head, h, t))
    return torch.cat(parts)


def _out_features(head) -> int | None:
    weight = getattr(head, "weight", None)
    return int(weight.shape[0]) if isinstance(weight, torch.Tensor) and weight.dim() == 2 else None


def _logps_of_chunk(head, states: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = head(states).float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)
