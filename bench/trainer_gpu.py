"""One GPU: tokens/s and peak memory of RPO, DPO (this trainer) and TRL's DPOTrainer, side by side.

A ~0.5B-parameter Llama-architecture model built from a config (Qwen2.5-0.5B's shape, random
weights: the Hub is not needed), full fine-tuning, bf16 mixed precision, AdamW, the same data,
batch and max length for every row. Each case runs in its own process. Prints one table.

    python bench/trainer_gpu.py                      # on the GPU machine, under 5 minutes
    python bench/trainer_gpu.py --size tiny --device cpu --precision fp32 --steps 4   # logic check on a CPU
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import build_data, build_model, measure


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="0.5b", choices=["tiny", "small", "0.5b"])
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8, help="preference pairs per step")
    ap.add_argument("--prompt-tokens", type=int, default=192)
    ap.add_argument("--response-tokens", type=int, default=192)
    ap.add_argument("--budget-seconds", type=float, default=280, help="skip cases that would start after this")
    a = ap.parse_args()
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        params = _param_count(model)
        data = build_data(root / "ws", n=a.batch * a.steps, prompt_chars=a.prompt_tokens, response_chars=a.response_tokens)
        common = {"model": str(model), "data": str(data), "batch": a.batch, "steps": a.steps,
                  "max_length": a.prompt_tokens + a.response_tokens + 8, "precision": a.precision, "device": a.device,
                  "workdir": tmp, "warmup": 3 if a.steps > 6 else 1}
        setup = time.perf_counter() - t0
        tokens_per_step = None
        for label, case in (("rpo (this trainer)", {"kind": "ours", "method": "rpo"}),
                            ("dpo (this trainer)", {"kind": "ours", "method": "dpo"}),
                            ("TRL DPOTrainer", {"kind": "trl"})):
            if time.perf_counter() - t0 > a.budget_seconds:
                rows.append((label, None, "skipped: time budget"))
                continue
            try:
                r = measure({**case, **common}, timeout=int(max(60, a.budget_seconds * 1.5 - (time.perf_counter() - t0))))
                tokens_per_step = tokens_per_step or r.get("tokens_per_step")
                rows.append((label, r, None))
            except Exception as e:  # keep the other rows
                rows.append((label, None, str(e).strip().splitlines()[-1][:160] if str(e).strip() else type(e).__name__))
    print(f"\nmodel: llama-shaped {a.size}, {params / 1e6:.1f}M parameters (random weights), full fine-tuning, "
          f"{a.precision}, AdamW, {a.device}; batch {a.batch} pairs, prompt {a.prompt_tokens} + response "
          f"{a.response_tokens} tokens, {a.steps} steps (median after warm-up); setup {setup:.0f} s, total {time.perf_counter() - t0:.0f} s")
    _device_line(a.device)
    print(f"{'case':<22}{'step s':>9}{'samples/s':>11}{'tokens/s':>11}{'peak GiB':>10}")
    for label, r, err in rows:
        if r is None:
            print(f"{label:<22}  {err}")
            continue
        tps = (tokens_per_step / r["step_seconds"]) if tokens_per_step else float("nan")
        peak = f"{r['peak_memory_bytes'] / 2**30:.2f}" if r.get("peak_memory_bytes") else "-"
        print(f"{label:<22}{r['step_seconds']:>9.3f}{r['samples_per_second']:>11.2f}{tps:>11.0f}{peak:>10}")
    ok = {label: r for label, r, _ in rows if r}
    if "rpo (this trainer)" in ok and "TRL DPOTrainer" in ok:
        print(f"rpo / TRL samples/s: {ok['rpo (this trainer)']['samples_per_second'] / ok['TRL DPOTrainer']['samples_per_second']:.3f}; "
              f"dpo / TRL: {ok['dpo (this trainer)']['samples_per_second'] / ok['TRL DPOTrainer']['samples_per_second']:.3f}"
              if "dpo (this trainer)" in ok else "")
    print("tokens/s counts the non-padding tokens of the policy forward pass (prompt + chosen, prompt + rejected), "
          "the same per step for every row.")
    print(json.dumps({"rows": [{"case": label, **(r or {"error": err})} for label, r, err in rows]}))
    return 0 if all(r for _, r, _ in rows) else 1


def _param_count(model_dir: Path) -> int:
    """Parameters stored in the model's safetensors files (tied embeddings counted once)."""
    from safetensors import safe_open

    n = 0
    for f in model_dir.glob("*.safetensors"):
        with safe_open(str(f), "pt") as st:
            for k in st.keys():
                shape = st.get_slice(k).get_shape()
                size = 1
                for d in shape:
                    size *= d
                n += size
    return n


def _device_line(device: str) -> None:
    import torch

    if device == "cuda" and torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, CUDA {torch.version.cuda}")
    else:
        print(f"device: CPU; torch {torch.__version__}")


if __name__ == "__main__":
    sys.exit(main())
