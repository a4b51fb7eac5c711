"""Build a tiny causal language model and a byte-level tokenizer locally, with no downloads.

    python -m rpo_trainer.testing.tiny_model OUT_DIR [--arch llama|gpt2] [--seed 0]

The folder it writes loads with `AutoModelForCausalLM.from_pretrained(OUT_DIR)` and
`AutoTokenizer.from_pretrained(OUT_DIR)`, has a chat template, and trains on a CPU in seconds.
Weights are random but seeded, so the same arguments give the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}<|end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|eos|>", "<|end|>"]


def make_tokenizer():
    """A byte-level tokenizer: every byte is a token (no merges), plus four special tokens.

    Any text encodes, nothing is learned from data, so it is fully deterministic.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(SPECIAL_TOKENS)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<|pad|>",
        bos_token="<|bos|>",
        eos_token="<|eos|>",
        model_max_length=2048,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_config(arch: str, vocab_size: int, hidden_size: int, layers: int, heads: int,
                kv_heads: int | None, intermediate_size: int | None, max_positions: int,
                pad_token_id: int, bos_token_id: int, eos_token_id: int):
    if arch == "llama":
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            intermediate_size=intermediate_size or hidden_size * 2,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=kv_heads or heads,
            max_position_embeddings=max_positions,
            tie_word_embeddings=True,
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
        )
    if arch == "gpt2":
        from transformers import GPT2Config

        return GPT2Config(
            vocab_size=vocab_size,
            n_embd=hidden_size,
            n_layer=layers,
            n_head=heads,
            n_inner=intermediate_size,
            n_positions=max_positions,
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
        )
    raise ValueError(f"unknown arch {arch!r} (llama or gpt2)")


def make_tiny_model(out_dir: str | Path, arch: str = "llama", seed: int = 0, hidden_size: int = 64,
                    layers: int = 2, heads: int = 4, kv_heads: int | None = None,
                    intermediate_size: int | None = None, vocab_size: int | None = None,
                    max_positions: int = 1024, dtype: str = "float32") -> Path:
    """Write a seeded random causal LM and the byte-level tokenizer to out_dir; return it.

    vocab_size defaults to the tokenizer's; a larger one (e.g. 151936 for a 0.5B benchmark
    model) is allowed: the extra rows are simply never used by the tokenizer.
    """
    import torch
    from transformers import AutoModelForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = make_tokenizer()
    config = make_config(
        arch,
        vocab_size=max(vocab_size or 0, len(tokenizer)),
        hidden_size=hidden_size,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        intermediate_size=intermediate_size,
        max_positions=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    from ..modeling import dtype_kwarg

    model = AutoModelForCausalLM.from_config(config, **dtype_kwarg(getattr(torch, dtype)))
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "README.md").write_text(
        f"# Tiny {arch} test model\n\nRandom weights (seed {seed}), "
        f"{sum(p.numel() for p in model.parameters())} parameters, byte-level tokenizer. "
        "Made by `python -m rpo_trainer.testing.tiny_model` for tests; it knows nothing.\n",
        encoding="utf-8",
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rpo_trainer.testing.tiny_model",
        description="Write a tiny random causal LM plus a byte-level tokenizer with a chat template (no downloads).",
    )
    parser.add_argument("out_dir")
    parser.add_argument("--arch", choices=["llama", "gpt2"], default="llama")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    args = parser.parse_args(argv)
    out = make_tiny_model(args.out_dir, arch=args.arch, seed=args.seed, hidden_size=args.hidden_size,
                          layers=args.layers, heads=args.heads)
    print(json.dumps({"path": str(out.resolve()), "arch": args.arch, "seed": args.seed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
