"""Model loading, LoRA, the reference model and sequence log-probabilities."""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import torch

from .config import RunConfig
from .errors import ConfigError, EnvironmentProblem

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def dtype_kwarg(dtype: torch.dtype) -> dict:
    """transformers >= 4.56 calls it `dtype`; older versions only know `torch_dtype`."""
    import transformers

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


def load_tokenizer(cfg: RunConfig):
    from transformers import AutoTokenizer

    source = cfg.tokenizer or cfg.model
    try:
        tok = AutoTokenizer.from_pretrained(source, trust_remote_code=cfg.trust_remote_code)
    except (OSError, ValueError) as e:
        raise ConfigError(f"model: cannot load the tokenizer from {source!r}: {e}",
                          hint="Check the path (relative to the run config) or the Hub id; the Hub may be unreachable offline.") from None
    if cfg.chat_template:
        tok.chat_template = cfg.chat_template
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def load_policy(cfg: RunConfig, precision: str):
    """The trained model: full weights in fp32 (mixed precision autocasts), or a half-precision
    base with fp32 LoRA adapters."""
    from transformers import AutoModelForCausalLM

    dtype = DTYPES[precision] if cfg.lora.enabled else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(cfg.model, **dtype_kwarg(dtype), trust_remote_code=cfg.trust_remote_code)
    except (OSError, ValueError) as e:
        raise ConfigError(f"model: cannot load {cfg.model!r}: {e}",
                          hint="Check the path (relative to the run config) or the Hub id; the Hub may be unreachable offline.") from None
    model.config.use_cache = False
    if cfg.gradient_checkpointing:
        # transformers 5 renamed it activation checkpointing; 4.x has only the old name.
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if cfg.lora.enabled:
            model.enable_input_require_grads()
    if cfg.lora.enabled:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError:
            raise EnvironmentProblem("lora.enabled is true but peft is not installed", hint="pip install peft") from None
        lora = LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                          target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    return model


def load_reference(cfg: RunConfig, precision: str):
    """Full fine-tuning: a frozen copy in the compute precision. LoRA needs none (adapter disabled)."""
    from transformers import AutoModelForCausalLM

    ref = AutoModelForCausalLM.from_pretrained(cfg.model, **dtype_kwarg(DTYPES[precision]), trust_remote_code=cfg.trust_remote_code)
    ref.config.use_cache = False
    ref.eval()
    ref.requires_grad_(False)
    return ref


def reference_context(policy) -> Any:
    """For a peft model: a context in which forward passes run the base model (adapter off)."""
    inner = policy
    while hasattr(inner, "module"):  # DDP and similar wrappers
        inner = inner.module
    if hasattr(inner, "disable_adapter"):
        return inner.disable_adapter()
    return contextlib.nullcontext()


def _accepts_logits_to_keep(model) -> bool:
    inner = model
    while hasattr(inner, "module"):  # DDP and similar wrappers
        inner = inner.module
    if hasattr(inner, "get_base_model"):  # peft
        inner = inner.get_base_model()
    cached = getattr(inner, "_rpo_logits_to_keep", None)
    if cached is None:
        cached = "logits_to_keep" in inspect.signature(inner.forward).parameters
        try:
            inner._rpo_logits_to_keep = cached
        except AttributeError:
            pass
    return cached


def sequence_logps(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of log p(token) over response tokens, per row: [R].

    Rows are left-padded (data.collate), so responses end every row: only the last
    (longest response + 1) positions need logits, which skips the vocabulary projection of
    the prompts. Log-softmax runs in fp32 one row at a time, so a large vocabulary needs no
    [R, L, V] fp32 copy.
    """
    input_ids, loss_mask = batch["input_ids"], batch["loss_mask"]
    width = input_ids.shape[1]
    keep = min(width, int(loss_mask.sum(dim=1).max().item()) + 1)
    kwargs = {"input_ids": input_ids, "attention_mask": batch["attention_mask"], "use_cache": False}
    if "position_ids" in batch:
        kwargs["position_ids"] = batch["position_ids"]
    if _accepts_logits_to_keep(model):
        kwargs["logits_to_keep"] = keep
    logits = model(**kwargs).logits[:, -keep:]
    logits = logits[:, :-1]
    targets = input_ids[:, width - keep + 1:]
    mask = loss_mask[:, width - keep + 1:].to(torch.float32)
    out = []
    for r in range(logits.shape[0]):
        row = logits[r].float()
        tok = row.gather(-1, targets[r].unsqueeze(-1)).squeeze(-1) - torch.logsumexp(row, dim=-1)
        out.append((tok * mask[r]).sum())
    return torch.stack(out)


def count_parameters(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable
