"""`python -m rpo_trainer doctor`: the environment as one JSON object, with problems and fixes."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

REQUIRED = {"torch": "2.1", "transformers": "4.45", "peft": "0.12", "accelerate": "0.34", "safetensors": "0.4",
            "jsonschema": "4.18", "numpy": "1.24", "psutil": "5.9"}
OPTIONAL = {"sentence-transformers": "computes prompt embeddings missing from the cache",
            "trl": "only for the benchmark against TRL's DPOTrainer"}


def _version_tuple(v: str) -> tuple:
    out = []
    for part in v.split("+")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def doctor() -> dict:
    problems: list[dict] = []
    packages: dict[str, str | None] = {}
    for name, minimum in REQUIRED.items():
        try:
            packages[name] = metadata.version(name)
            if _version_tuple(packages[name]) < _version_tuple(minimum):
                problems.append({"problem": f"{name} {packages[name]} is older than {minimum}",
                                 "fix": f"pip install -U '{name}>={minimum}'"})
        except metadata.PackageNotFoundError:
            packages[name] = None
            problems.append({"problem": f"{name} is not installed", "fix": f"pip install '{name}>={minimum}'"})
    for name, why in OPTIONAL.items():
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    if sys.version_info < (3, 10):
        problems.append({"problem": f"Python {platform.python_version()} is older than 3.10",
                         "fix": "Use Python 3.10 or newer for the trainer's virtual environment."})
    cuda = {"available": False, "version": None, "devices": [], "bf16": False}
    try:
        import torch

        cuda["version"] = torch.version.cuda
        cuda["available"] = torch.cuda.is_available()
        if cuda["available"]:
            cuda["bf16"] = torch.cuda.is_bf16_supported()
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                free, total = torch.cuda.mem_get_info(i)
                cuda["devices"].append({"index": i, "name": p.name, "memory_bytes": int(total), "free_bytes": int(free),
                                        "capability": f"{p.major}.{p.minor}"})
        elif torch.version.cuda is None:
            problems.append({"problem": "this torch build has no CUDA support (CPU only): training is very slow",
                             "fix": "Install a CUDA build of torch: https://pytorch.org/get-started/locally/"})
        else:
            problems.append({"problem": f"torch has CUDA {torch.version.cuda} but sees no GPU",
                             "fix": "Check the NVIDIA driver (`nvidia-smi`) and CUDA_VISIBLE_DEVICES."})
    except ImportError:
        pass
    return {
        "ok": not any(p for p in problems if "CPU only" not in p["problem"] and "sees no GPU" not in p["problem"]),
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "platform": platform.platform(),
        "cuda": cuda,
        "packages": packages,
        "problems": problems,
    }
