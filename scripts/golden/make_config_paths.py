#!/usr/bin/env python3
"""Golden file for run-config path resolution (docs/contracts.md section 6, "Paths").

Written from the rules in docs/contracts.md, not from either implementation: it never touches a
file system, it decides "exists" from the layout below, and it resolves paths as strings. The
TypeScript test (test/unit/run/config-paths.test.ts) and the trainer test
(trainer/tests/test_config_paths.py) build the layout in a temporary folder, read each case's
config with their own code, and compare. Run from the repository root:

    python3 scripts/golden/make_config_paths.py          # rewrites test/golden/config-paths.json
    python3 scripts/golden/make_config_paths.py --check  # exits 1 if the committed file differs

test/golden/config-paths.json
-----------------------------
{
  "version": 1,
  "layout": {
    "config_dir": str,                  folder of the run config, relative to the layout root
    "folders": [str],                   folders to create (relative to the root, POSIX)
    "files": {str: str}                 files to create and their text
  },
  "cases": [ {
    "name": str,
    "config": {...},                    a valid run config (written to config_dir/run.rpo.json)
    "expected": {                       resolved values; a path is written relative to the
                                        layout root (POSIX), as "~/..." under the home folder,
                                        or absolute when the config gave an absolute path
      "dataset": path, "eval_dataset": path | null, "output_dir": path,
      "accelerate_config": path | null,
      "model": {"folder": path} | {"hub": str}, "tokenizer": {"folder": path} | {"hub": str} | null,
      "embeddings_model": {"folder": path} | {"hub": str},
      "embeddings_cache_dir": path,
      "embeddings_cache_file": path     <cache_dir>/<model-slug>.<precision>.safetensors
    } } ]
}
"""
from __future__ import annotations

import json
import posixpath
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "golden" / "config-paths.json"

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # schema default of embeddings.model
DEFAULT_PRECISION = "q8"
DEFAULT_CACHE_DIR = ".rpo/embeddings"
DEFAULT_OUTPUT_DIR = ".rpo/runs"
ABSOLUTE = "/nonexistent-rpo-golden"  # absolute paths in configs point here (never created)

LAYOUT = {
    "config_dir": "configs",
    "folders": [
        "configs/local-model",
        "configs/minilm",
        "configs/org/name",
        "models/tiny",
    ],
    "files": {
        "data.pref.jsonl": "{}\n",
        "configs/local-model/config.json": "{}\n",
        "configs/minilm/rpo-model.json": json.dumps({"model_id": DEFAULT_EMBEDDING_MODEL}) + "\n",
        "configs/tokenizer.json": "{}\n",
        "models/tiny/config.json": "{}\n",
    },
}


# ---------------------------------------------------------------- the rules, as strings

def exists(rel: str) -> bool:
    """A path (relative to the layout root) names a file or folder of the layout, or a parent of one."""
    entries = set(LAYOUT["folders"]) | set(LAYOUT["files"])
    return any(e == rel or e.startswith(rel + "/") for e in entries)


def resolve_path(value: str) -> str:
    """Path keys: `~` / `~/` is home, absolute stays, relative is relative to the config's folder."""
    if value == "~" or value.startswith("~/"):
        return posixpath.normpath("~/" + value[2:]) if value != "~" else "~"
    if value.startswith("/"):
        return posixpath.normpath(value)
    return posixpath.normpath(posixpath.join(LAYOUT["config_dir"], value))


def resolve_model(value: str) -> dict:
    """Model keys: a folder when absolute, starting with `.`, `/` or `~`, or existing; else a Hub id."""
    full = resolve_path(value)
    if value.startswith((".", "/", "~")) or exists(full):
        return {"folder": full}
    return {"hub": value}


def cache_model_name(model: dict) -> str:
    if "hub" in model:
        return model["hub"]
    declared = LAYOUT["files"].get(model["folder"] + "/rpo-model.json")
    if declared:
        return json.loads(declared)["model_id"]
    return posixpath.basename(model["folder"])


def expected(config: dict) -> dict:
    emb = config.get("embeddings", {})
    emb_model = resolve_model(emb.get("model", DEFAULT_EMBEDDING_MODEL))
    cache_dir = resolve_path(emb.get("cache_dir", DEFAULT_CACHE_DIR))
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", cache_model_name(emb_model))
    return {
        "dataset": resolve_path(config["dataset"]),
        "eval_dataset": resolve_path(config["eval_dataset"]) if config.get("eval_dataset") else None,
        "output_dir": resolve_path(config.get("output_dir", DEFAULT_OUTPUT_DIR)),
        "accelerate_config": resolve_path(config["accelerate_config"]) if config.get("accelerate_config") else None,
        "model": resolve_model(config["model"]),
        "tokenizer": resolve_model(config["tokenizer"]) if config.get("tokenizer") else None,
        "embeddings_model": emb_model,
        "embeddings_cache_dir": cache_dir,
        "embeddings_cache_file": posixpath.join(cache_dir, f"{slug}.{emb.get('precision', DEFAULT_PRECISION)}.safetensors"),
    }


CASES = [
    ("defaults: Hub ids, paths next to the config",
     {"model": "Qwen/Qwen2.5-0.5B-Instruct", "dataset": "../data.pref.jsonl"}),
    ("embedding model: an existing folder named without a dot (its rpo-model.json names the cache)",
     {"model": "Qwen/Qwen2.5-0.5B-Instruct", "dataset": "../data.pref.jsonl", "embeddings": {"model": "minilm"}}),
    ("embedding model: the same folder with ./",
     {"model": "Qwen/Qwen2.5-0.5B-Instruct", "dataset": "../data.pref.jsonl", "embeddings": {"model": "./minilm", "precision": "fp32"}}),
    ("owner/name that exists as a folder next to the config is that folder",
     {"model": "org/name", "dataset": "../data.pref.jsonl", "embeddings": {"model": "org/name"}}),
    ("owner/name that does not exist is a Hub id",
     {"model": "other/model", "dataset": "../data.pref.jsonl", "embeddings": {"model": "other/model", "precision": "fp32"}}),
    ("a ./ folder that does not exist is still a folder",
     {"model": "./missing-model", "dataset": "../data.pref.jsonl", "embeddings": {"model": "./missing-embedder"}}),
    ("model in a sibling folder, tokenizer an existing folder, a file that exists is local too",
     {"model": "../models/tiny", "tokenizer": "local-model", "dataset": "../data.pref.jsonl", "embeddings": {"model": "tokenizer.json"}}),
    ("every path key set",
     {"model": "local-model", "dataset": "../data.pref.jsonl", "eval_dataset": "../data.pref.jsonl", "output_dir": "../runs",
      "accelerate_config": "accelerate.yaml", "embeddings": {"cache_dir": "../cache", "model": "../models/tiny"}}),
    ("absolute paths",
     {"model": ABSOLUTE + "/model", "dataset": ABSOLUTE + "/data.pref.jsonl", "output_dir": ABSOLUTE + "/runs",
      "embeddings": {"model": ABSOLUTE + "/minilm", "cache_dir": ABSOLUTE + "/cache"}}),
    ("home folder",
     {"model": "~/rpo-golden-models/policy", "dataset": "~/rpo-golden-data.pref.jsonl",
      "embeddings": {"model": "~/rpo-golden-models/minilm", "cache_dir": "~/rpo-golden-cache"}}),
    ("a Hub id with a single name",
     {"model": "gpt2", "dataset": "../data.pref.jsonl", "embeddings": {"model": "all-MiniLM-L6-v2"}}),
]


def build() -> dict:
    return {"version": 1, "layout": LAYOUT,
            "cases": [{"name": name, "config": config, "expected": expected(config)} for name, config in CASES]}


def main() -> int:
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text("utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run python3 scripts/golden/make_config_paths.py", file=sys.stderr)
            return 1
        print(f"{OUT.relative_to(ROOT)} is current")
        return 0
    OUT.write_text(text, "utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
