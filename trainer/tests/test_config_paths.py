"""Path resolution against test/golden/config-paths.json (docs/contracts.md section 6).

The golden file is written from the contract by scripts/golden/make_config_paths.py; the
extension's test (test/unit/run/config-paths.test.ts) reads it too, so both sides pick the same
files, models and embedding cache for one config.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rpo_trainer.config import config_from_dict
from rpo_trainer.embeddings import cache_path

REPO = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((REPO / "test" / "golden" / "config-paths.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("config-paths").resolve()
    for folder in GOLDEN["layout"]["folders"]:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for file, text in GOLDEN["layout"]["files"].items():
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text(text, "utf-8")
    return root


def notation(value: str, root: Path) -> str:
    """A resolved path as the golden file writes it: relative to the layout root, ~/ under home, else absolute."""
    p = Path(value)
    home = Path.home().resolve()
    if p == root or root in p.parents:
        return p.relative_to(root).as_posix()
    if home in p.parents:
        return "~/" + p.relative_to(home).as_posix()
    return value


def model(value: str, root: Path) -> dict:
    # A Hub id stays as written; a folder is resolved to an absolute path.
    return {"folder": notation(value, root)} if Path(value).is_absolute() else {"hub": value}


@pytest.mark.skipif(sys.platform == "win32", reason="golden paths are POSIX")
@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["name"] for c in GOLDEN["cases"]])
def test_config_paths_match_golden(case, layout):
    cfg = config_from_dict(case["config"], layout / GOLDEN["layout"]["config_dir"], source=case["name"])
    got = {
        "dataset": notation(cfg.dataset, layout),
        "eval_dataset": notation(cfg.eval_dataset, layout) if cfg.eval_dataset else None,
        "output_dir": notation(cfg.output_dir, layout),
        "accelerate_config": notation(cfg.accelerate_config, layout) if cfg.accelerate_config else None,
        "model": model(cfg.model, layout),
        "tokenizer": model(cfg.tokenizer, layout) if cfg.tokenizer else None,
        "embeddings_model": model(cfg.embeddings.model, layout),
        "embeddings_cache_dir": notation(cfg.embeddings.cache_dir, layout),
        "embeddings_cache_file": notation(os.fspath(cache_path(cfg.embeddings.cache_dir, cfg.embeddings.model, cfg.embeddings.precision)), layout),
    }
    assert got == case["expected"]


def test_golden_file_is_what_the_contract_generator_writes():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "golden" / "make_config_paths.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
