"""One GPU: tokens/s, MFU and peak memory of RPO, DPO (this trainer) and TRL's DPOTrainer, side by side.

A ~0.5B-parameter Llama-architecture model built from a config (Qwen2.5-0.5B's shape, random
weights: the Hub is not needed), full fine-tuning, bf16 mixed precision, AdamW, the same data,
batch and max length for every row. Each case runs in its own process. Prints one table.

`--data hh` (the default when the HH-RLHF test split is found) gives the records HH-RLHF's
prompt and response lengths (see trainer_common.hh_lengths), so padding matters; the rows then
include DPO with `padding_free` off and with `chunked_logps` off. TRL's own `padding_free` is
disabled in the TRL versions that have the fused log-prob head (it warns and pads), so TRL runs
padded. MFU counts 8 x parameters x real tokens per step (policy forward + backward: 6, reference
forward: 2; attention not counted) against the card's dense bf16 peak (`--peak-tflops`).
The rows "rpo/dpo, no dynamics" run without recording the training dynamics (docs/contracts.md
section 8; recording is always on in a real run): the printed ratio is what recording costs on
this GPU (target <= 1.02). On a CPU the processes' timings are too noisy for that ratio; use
bench/dynamics_overhead.py there.

    python bench/trainer_gpu.py                      # on the GPU machine, under 5 minutes (+ generation, bench/generate.py)
    python bench/trainer_gpu.py --size tiny --device cpu --precision fp32 --steps 4   # logic check on a CPU
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trainer_common import HH_TEST, build_data, build_length_data, build_model, hh_lengths, measure

# Dense bf16 tensor-core peak, TFLOP/s, by a substring of the device name (vendor data sheets).
BF16_PEAK_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 125.0, "L4": 121.0,
                    "RTX 4090": 165.0, "A6000": 155.0}


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
    ap.add_argument("--data", choices=["hh", "fixed"], default="hh" if HH_TEST.exists() else "fixed",
                    help="hh: HH-RLHF lengths (prompt <= 256, sequence <= 512); fixed: --prompt-tokens + --response-tokens")
    ap.add_argument("--no-generate", action="store_true", help="skip the generation benchmark (bench/generate.py) at the end")
    ap.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak for MFU (default: from its name)")
    a = ap.parse_args()
    if a.device == "cuda" and not _cuda_available():
        print("skipped: no CUDA GPU visible (for a logic check on a CPU: --size tiny --device cpu --precision fp32 --steps 4)")
        return 0
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_model(root / "model", a.size)
        params = _param_count(model)
        if a.data == "hh":
            import random

            lengths = random.Random(0).sample(hh_lengths(HH_TEST, 512, 256), a.batch * a.steps)
            data = build_length_data(root / "ws", lengths)
            max_length = 512
        else:
            data = build_data(root / "ws", n=a.batch * a.steps, prompt_chars=a.prompt_tokens, response_chars=a.response_tokens)
            max_length = a.prompt_tokens + a.response_tokens + 8
        common = {"model": str(model), "data": str(data), "batch": a.batch, "steps": a.steps,
                  "max_length": max_length, "precision": a.precision, "device": a.device,
                  "workdir": tmp, "warmup": 3 if a.steps > 6 else 1}
        setup = time.perf_counter() - t0
        tokens_per_step = None
        cases = [("rpo (this trainer)", {"kind": "ours", "method": "rpo"}),
                 ("dpo (this trainer)", {"kind": "ours", "method": "dpo"}),
                 # What recording the training dynamics (docs/contracts.md section 8) costs.
                 ("rpo, no dynamics", {"kind": "ours", "method": "rpo", "record_dynamics": False}),
                 ("dpo, no dynamics", {"kind": "ours", "method": "dpo", "record_dynamics": False})]
        if a.data == "hh":
            cases += [("dpo, padding_free off", {"kind": "ours", "method": "dpo", "padding_free": False}),
                      ("dpo, chunked off", {"kind": "ours", "method": "dpo", "chunked_logps": False})]
        cases.append(("TRL DPOTrainer", {"kind": "trl"}))
        for label, case in cases:
            if time.perf_counter() - t0 > a.budget_seconds:
                rows.append((label, None, "skipped: time budget"))
                continue
            try:
                r = measure({**case, **common}, timeout=int(max(60, a.budget_seconds * 1.5 - (time.perf_counter() - t0))))
                tokens_per_step = tokens_per_step or r.get("tokens_per_step")
                rows.append((label, r, None))
            except Exception as e:  # keep the other rows
                rows.append((label, None, str(e).strip().splitlines()[-1][:160] if str(e).strip() else type(e).__name__))
    shape = ("HH-RLHF lengths (prompt <= 256, sequence <= 512)" if a.data == "hh"
             else f"prompt {a.prompt_tokens} + response {a.response_tokens} tokens")
    print(f"\nmodel: llama-shaped {a.size}, {params / 1e6:.1f}M parameters (random weights), full fine-tuning, "
          f"{a.precision}, AdamW, {a.device}; batch {a.batch} pairs, {shape}, {a.steps} steps (median after warm-up); "
          f"setup {setup:.0f} s, total {time.perf_counter() - t0:.0f} s")
    peak_flops = _device_line(a.device, a.peak_tflops)
    print(f"{'case':<24}{'step s':>9}{'samples/s':>11}{'tokens/s':>11}{'MFU':>7}{'peak GiB':>10}")
    for label, r, err in rows:
        if r is None:
            print(f"{label:<24}  {err}")
            continue
        tps = (tokens_per_step / r["step_seconds"]) if tokens_per_step else float("nan")
        mfu = f"{8 * params * tps / peak_flops:.1%}" if peak_flops and tokens_per_step else "-"
        peak = f"{r['peak_memory_bytes'] / 2**30:.2f}" if r.get("peak_memory_bytes") else "-"
        print(f"{label:<24}{r['step_seconds']:>9.3f}{r['samples_per_second']:>11.2f}{tps:>11.0f}{mfu:>7}{peak:>10}")
    ok = {label: r for label, r, _ in rows if r}
    if "rpo (this trainer)" in ok and "TRL DPOTrainer" in ok:
        print(f"rpo / TRL samples/s: {ok['rpo (this trainer)']['samples_per_second'] / ok['TRL DPOTrainer']['samples_per_second']:.3f}; "
              f"dpo / TRL: {ok['dpo (this trainer)']['samples_per_second'] / ok['TRL DPOTrainer']['samples_per_second']:.3f}"
              if "dpo (this trainer)" in ok else "")
    for m in ("rpo", "dpo"):
        if f"{m} (this trainer)" in ok and f"{m}, no dynamics" in ok:
            print(f"{m} step time with / without recording the dynamics: "
                  f"{ok[f'{m} (this trainer)']['step_seconds'] / ok[f'{m}, no dynamics']['step_seconds']:.4f} (target <= 1.02)")
    print("tokens/s counts the non-padding tokens of the policy forward pass (prompt + chosen, prompt + rejected), "
          "the same per step for every row.")
    print(json.dumps({"rows": [{"case": label, **(r or {"error": err})} for label, r, err in rows]}))
    if not a.no_generate:
        # Sampling for the win rate (rpo generate): batched vs plain model.generate per prompt, same model size.
        print("\ngeneration (bench/generate.py):", flush=True)
        subprocess.run([sys.executable, str(Path(__file__).resolve().parent / "generate.py"), "--device", a.device, "--size", a.size,
                        "--prompts", "64", "--batch-size", "32", "--max-new-tokens", "128"], timeout=300, check=False)
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


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _device_line(device: str, peak_tflops: float | None) -> float | None:
    """Prints the device; returns its bf16 peak in FLOP/s (None when unknown)."""
    import torch

    if device == "cuda" and torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        peak = peak_tflops or next((v for k, v in BF16_PEAK_TFLOPS.items() if k in p.name), None)
        print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB; torch {torch.__version__}, CUDA {torch.version.cuda}; "
              f"bf16 peak {peak or 'unknown (--peak-tflops)'} TFLOP/s")
        return peak * 1e12 if peak else None
    print(f"device: CPU; torch {torch.__version__}")
    return peak_tflops * 1e12 if peak_tflops else None


if __name__ == "__main__":
    sys.exit(main())
