"""A toy preference task with a learnable preference, plus its embedding cache (no downloads).

Chosen responses are polite ("Sure, happy to help ..."), rejected ones are curt ("No."): a tiny
model learns to prefer them in a few steps. Prompts come from a few topics, and the cached
prompt vectors cluster by topic so RPO's weights and the similarity sampler have structure.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data import prompt_key
from ..embeddings import cache_path, write_cache

TOPICS = ["cooking", "gardening", "astronomy", "chess"]
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def toy_records(n: int, conversational: bool = False, unpaired: bool = False, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        prompt = f"Question {i} about {topic}: what should I know?"
        chosen = f"Sure, happy to help with {topic}. Here is a tip."
        rejected = "No." if rng.random() < 0.5 else "Go away."
        if unpaired:
            label = bool(i % 2 == 0)
            rec = {"prompt": prompt, "completion": chosen if label else rejected, "label": label}
        elif conversational:
            rec = {"prompt": [{"role": "user", "content": prompt}],
                   "chosen": [{"role": "assistant", "content": chosen}],
                   "rejected": [{"role": "assistant", "content": rejected}]}
        else:
            rec = {"prompt": prompt, "chosen": chosen, "rejected": rejected}
        out.append(rec)
    return out


def toy_vector(text: str, dim: int = 16) -> np.ndarray:
    """A deterministic unit vector: its topic's direction plus a little per-prompt noise."""
    topic = next((k for k, t in enumerate(TOPICS) if t in text), len(TOPICS))
    seed = int.from_bytes(prompt_key(text)[:4], "little")
    v = np.random.default_rng(seed).normal(0, 0.3, dim)
    v[topic % dim] += 1.0
    return (v / np.linalg.norm(v)).astype(np.float32)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def write_toy_cache(cache_dir: Path, records: list[dict], model: str = DEFAULT_EMBEDDING_MODEL, precision: str = "q8") -> Path:
    from ..data import prompt_text

    entries = {}
    for r in records:
        p = r.get("prompt")
        if p is None:
            continue
        entries[prompt_key(p)] = toy_vector(prompt_text(p))
    path = cache_path(cache_dir, model, precision)
    write_cache(path, entries, model, precision)
    return path


def toy_workspace(root: Path, model_dir: Path, n: int = 32, method: str = "rpo", **config) -> Path:
    """Write data, an embedding cache and a run config under root; return the config path."""
    records = toy_records(n, conversational=config.pop("conversational", False),
                          unpaired=config.pop("unpaired", False))
    write_jsonl(root / "data" / "toy.pref.jsonl", records)
    write_toy_cache(root / ".rpo" / "embeddings", records)
    cfg = {"name": "toy", "model": str(model_dir), "dataset": "data/toy.pref.jsonl", "method": method,
           "batch_size": 4, "learning_rate": 1e-3, "optimizer": "adamw", "max_length": 128,
           "max_prompt_length": 64, "device": "cpu", "precision": "fp32", "seed": 7, **config}
    path = root / "toy.rpo.json"
    path.write_text(json.dumps(cfg, indent=1), "utf-8")
    return path


__all__ = ["toy_records", "toy_vector", "write_jsonl", "write_toy_cache", "toy_workspace"]
