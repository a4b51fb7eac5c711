"""Model loading, LoRA and the reference model (log-probabilities: forward.py)."""

from __future__ import annotations

import contextlib
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


def count_parameters(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable
