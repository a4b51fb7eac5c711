"""The sample workspace's run configs pass the schema and load as the trainer reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rpo_trainer.config import ConfigError, config_from_dict, load_config

SAMPLE = Path(__file__).resolve().parents[2] / "sample-workspace"


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLE.glob("*.rpo.json")))
def test_sample_config_loads(name):
    cfg = load_config(SAMPLE / name)
    assert Path(cfg.dataset) == SAMPLE / "hh-harmless.pref.jsonl"


def test_offline_demo_is_local_cpu_and_says_it_learns_nothing():
    data = json.loads((SAMPLE / "offline-demo.rpo.json").read_text("utf-8"))
    assert "learns nothing useful" in data["description"]
    cfg = load_config(SAMPLE / "offline-demo.rpo.json")
    assert cfg.device == "cpu"
    home = Path.home() / ".cache" / "rpo-studio" / "models"
    assert cfg.model == str(home / "tiny-random-llama")
    assert cfg.embeddings.model == str(home / "all-MiniLM-L6-v2-sentence-transformers")
    assert cfg.embeddings.precision == "fp32" and cfg.embeddings.compute_missing


def test_description_is_free_text_only():
    base = {"model": "m/m", "dataset": "d.jsonl"}
    assert config_from_dict({**base, "description": "what it is for"}).model == "m/m"
    with pytest.raises(ConfigError, match="description"):
        config_from_dict({**base, "description": 3})
