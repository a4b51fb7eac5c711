"""Generation throughput of `rpo generate` (trainer/rpo_trainer/generate.py): its batched,
left-padded `generate` with the KV cache against the named baseline "plain", `model.generate` on
one prompt at a time (no padding), on the same prompts, greedy, in the same process, alternating,
best of --repeats. Prints tokens/s of both and the ratio batched / plain.

    python bench/generate.py                                  # CPU, the tiny test model
    python bench/generate.py --device cuda --size 0.5b        # a GPU (bf16), Qwen2.5-0.5B's shape

Tokens are generated tokens up to and with EOS (both models are random: EOS comes rarely, so most
answers run to --max-new-tokens). The prompts have 8 to 120 tokens, so batches are padded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_common import build_model  # noqa: E402

import torch  # noqa: E402

from rpo_trainer.gen_prompts import Prompt  # noqa: E402
from rpo_trainer.generate import Settings, Side, Source  # noqa: E402
from rpo_trainer.modeling import dtype_kwarg  # noqa: E402


def prompts(n: int) -> list[Prompt]:
    words = "the quick brown fox jumps over a lazy dog while seven tired cooks argue about soup".split()
    out = []
    for i in range(n):
        length = 8 + (i * 37) % 113  # 8..120 byte tokens
        text = " ".join(words[(i + k) % len(words)] for k in range(length))[:length]
        out.append(Prompt(prompt=f"Q{i}: {text}", line=i + 1))
    return out


class _NoStop:
    requested = False


def plain(model, tok, ps: list[Prompt], max_new_tokens: int, eos: list[int]) -> int:
    tokens = 0
    device = next(model.parameters()).device
    for p in ps:
        ids = tok(p.prompt, return_tensors="pt").to(device)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                                 eos_token_id=eos, use_cache=True)
        row = out[0, ids["input_ids"].shape[1]:].tolist()
        cut = next((k for k, t in enumerate(row) if t in eos), None)
        tokens += len(row) if cut is None else cut + 1
    return tokens


def batched(side: Side, ps: list[Prompt], settings: Settings) -> int:
    tokens = 0
    for start in range(0, len(ps), settings.batch_size):
        _, t, _ = side.answer(ps[start:start + settings.batch_size], settings, seed=start, stop=lambda: False)
        tokens += t
    return tokens


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "0.5b"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = torch.device(a.device)
    dtype = torch.bfloat16 if a.device == "cuda" else torch.float32
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_model(Path(tmp) / a.size, a.size)
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, **dtype_kwarg(dtype)).to(device).eval()
    side = Side(Source("run"), None, model, tok)
    settings = Settings(max_new_tokens=a.max_new_tokens, greedy=True, batch_size=a.batch_size)
    ps = prompts(a.prompts)
    best = {"batched": 0.0, "plain": 0.0}
    counts = {}
    batched(side, ps[:a.batch_size], settings)  # warm-up
    for r in range(a.repeats):
        for name in (("batched", "plain") if r % 2 == 0 else ("plain", "batched")):
            if a.device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            n = batched(side, ps, settings) if name == "batched" else plain(model, tok, ps, a.max_new_tokens, side.eos)
            if a.device == "cuda":
                torch.cuda.synchronize()
            rate = n / (time.perf_counter() - t0)
            counts[name] = n
            best[name] = max(best[name], rate)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"model {a.size} on {a.device} ({dtype}), {a.prompts} prompts of 8-120 tokens, greedy, max {a.max_new_tokens} new tokens, "
          f"best of {a.repeats}, load average {load:.1f}")
    print(f"  plain model.generate, one prompt at a time : {best['plain']:10.1f} tokens/s ({counts['plain']} tokens)")
    print(f"  rpo generate, batches of {a.batch_size:<3}              : {best['batched']:10.1f} tokens/s ({counts['batched']} tokens)")
    print(f"  ratio batched / plain: {best['batched'] / best['plain']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
