"""Prompt embeddings from the extension's safetensors cache (docs/contracts.md section 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import EmbeddingsError
from .files import replacing


def cache_model_name(model: str) -> str:
    """The `model` a cache is named after: the Hub id, or for a local folder the id in its
    `rpo-model.json` (`{"model_id": ...}`, written by scripts/export-minilm.py), else the folder
    name (docs/contracts.md, changelog)."""
    p = Path(model)
    if p.is_dir():
        try:
            declared = json.loads((p / "rpo-model.json").read_text("utf-8")).get("model_id")
            if isinstance(declared, str) and declared:
                return declared
        except (OSError, ValueError, AttributeError):
            pass
        return p.name
    if p.is_absolute() or model.startswith("."):
        return p.name
    return model


def model_slug(model: str) -> str:
    """The cache model name with every character outside [A-Za-z0-9._-] replaced by '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", cache_model_name(model))


def cache_path(cache_dir: str | Path, model: str, precision: str) -> Path:
    return Path(cache_dir) / f"{model_slug(model)}.{precision}.safetensors"


def read_cache(path: Path) -> dict[bytes, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        tensors = load_file(str(path))
    except FileNotFoundError:
        return {}
    except Exception as e:  # corrupt or foreign file
        raise EmbeddingsError(f"{path}: not a readable embedding cache ({e})",
                              hint="Delete it and run `rpo embed` again.") from None
    keys, emb = tensors.get("keys"), tensors.get("embeddings")
    if keys is None or emb is None or keys.ndim != 2 or keys.shape[1] != 32 or emb.shape[0] != keys.shape[0]:
        raise EmbeddingsError(f"{path}: expected tensors `keys` [N, 32] and `embeddings` [N, D]",
                              hint="Delete it and run `rpo embed` again.")
    return {bytes(k.tobytes()): e.astype(np.float32) for k, e in zip(keys, emb)}


def compute_embeddings(model: str, texts: Sequence[str]) -> np.ndarray:
    """Embed with sentence-transformers (mean pooling, L2-normalised); raises ImportError without it."""
    from sentence_transformers import SentenceTransformer  # optional dependency

    st = SentenceTransformer(model, device="cpu")
    st.max_seq_length = 256
    return np.asarray(st.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True), dtype=np.float32)


def prompt_embeddings(keys: Sequence[bytes], texts: Sequence[str], cache_dir: str, model: str, precision: str,
                      compute_missing: bool, where: Sequence[str]) -> tuple[np.ndarray, dict[bytes, np.ndarray]]:
    """Vectors for each prompt (rows in the given order) and the entries computed here (key -> vector),
    which the caller may store with `add_to_cache` so that neither the trainer nor the extension
    embeds them again.

    `where[i]` names record i ("file:line") for the error message.
    """
    path = cache_path(cache_dir, model, precision)
    cache = read_cache(path)
    missing = [i for i, k in enumerate(keys) if k not in cache]
    computed: dict[bytes, np.ndarray] = {}
    if missing:
        unique = {}
        for i in missing:
            unique.setdefault(keys[i], texts[i])
        how = (f"Run `rpo embed` on the dataset (or the command \"RPO: Compute Prompt Embeddings\") to fill "
               f"{path} with model {model} ({precision}).")
        if not compute_missing:
            raise EmbeddingsError(f"{len(unique)} prompt(s) have no embedding in {path}, first at {where[missing[0]]}", hint=how)
        if precision != "fp32":
            # sentence-transformers computes fp32 vectors; mixing them into q8 ones would make
            # training weights differ from the preview's (cosines differ by up to ~0.09).
            raise EmbeddingsError(
                f"{len(unique)} prompt(s) have no embedding in {path}, first at {where[missing[0]]}; the trainer computes "
                f"missing embeddings only for the fp32 cache (sentence-transformers), not for {precision}", hint=how)
        try:
            vectors = compute_embeddings(model, list(unique.values()))
        except ImportError:
            raise EmbeddingsError(
                f"{len(unique)} prompt(s) have no embedding in {path}, first at {where[missing[0]]}, "
                "and sentence-transformers is not installed to compute them", hint=how) from None
        except Exception as e:
            raise EmbeddingsError(
                f"{len(unique)} prompt(s) have no embedding in {path}, first at {where[missing[0]]}; "
                f"computing them with {model} failed: {e}", hint=how) from None
        for k, v in zip(unique, vectors):
            cache[k] = computed[k] = v
    return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 1), np.float32), computed


def add_to_cache(path: Path, entries: dict[bytes, np.ndarray], model: str, precision: str) -> None:
    """Adds `entries` to the cache file at `path`: merged with what the file holds now (re-read here,
    so rows another process added since it was first read are kept), then written atomically."""
    if not entries:
        return
    merged = read_cache(path)
    merged.update(entries)
    write_cache(path, merged, model, precision)


def write_cache(path: Path, entries: dict[bytes, np.ndarray], model: str, precision: str) -> None:
    """Write a cache file in the contract's format: to a temporary file in the same folder, then
    renamed over `path`, so a reader (the extension, another run) never sees it half written."""
    from safetensors.numpy import save_file

    keys = np.stack([np.frombuffer(k, dtype=np.uint8) for k in entries]) if entries else np.zeros((0, 32), np.uint8)
    emb = np.stack(list(entries.values())).astype(np.float32) if entries else np.zeros((0, 1), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        save_file({"keys": keys, "embeddings": emb}, str(tmp), metadata={
            "format": "rpo-embeddings", "version": "1", "model": cache_model_name(model), "precision": precision,
            "dim": str(emb.shape[1]), "max_tokens": "256", "pooling": "mean", "normalized": "true"})
