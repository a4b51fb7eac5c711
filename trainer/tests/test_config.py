"""Run config: the schema and the dataclass agree, bad keys and values are named."""

import dataclasses
import json

import pytest

from rpo_trainer.config import RunConfig, config_from_dict, load_config, load_schema
from rpo_trainer.errors import ConfigError


def test_schema_defaults_match_dataclass():
    schema = load_schema("run-config")
    fields = {f.name: f for f in dataclasses.fields(RunConfig) if not f.metadata.get("internal")}
    props = {k: v for k, v in schema["properties"].items() if k != "$schema"}
    assert set(props) == set(fields), "every schema key is a dataclass field and back"
    cfg = RunConfig(model="m", dataset="d")
    for key, prop in props.items():
        assert prop.get("description"), f"{key} has no description"
        if "default" in prop and prop.get("type") != "object":
            assert getattr(cfg, key) == prop["default"], key
    for group in ("embeddings", "lora"):
        sub = props[group]["properties"]
        for key, prop in sub.items():
            assert prop.get("description"), f"{group}.{key} has no description"
            assert getattr(getattr(cfg, group), key) == prop["default"], f"{group}.{key}"


@pytest.mark.parametrize("data, named", [
    ({"model": "m", "dataset": "d", "learning_rat": 1e-5}, "learning_rat: unknown key"),
    ({"model": "m", "dataset": "d", "lora": {"rank": 8}}, "lora.rank: unknown key"),
    ({"model": "m", "dataset": "d", "embeddings": {"precision": "fp16"}}, "embeddings.precision"),
    ({"model": "m", "dataset": "d", "beta": 0}, "beta:"),
    ({"model": "m", "dataset": "d", "method": "orpo"}, "method:"),
    ({"model": "m", "dataset": "d", "batch_size": 2.5}, "batch_size:"),
    ({"dataset": "d"}, "'model' is a required property"),
    ({"model": "m", "dataset": "d", "max_length": 64, "max_prompt_length": 64}, "max_prompt_length (64) must be less than max_length (64)"),
])
def test_bad_config_names_the_key(tmp_path, data, named):
    path = tmp_path / "bad.rpo.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in err.value.message
    assert named in err.value.message


def test_invalid_json_names_line(tmp_path):
    path = tmp_path / "x.rpo.json"
    path.write_text('{\n  "model": "m",\n  "dataset": \n}')
    with pytest.raises(ConfigError, match=r"x\.rpo\.json:4:1: not valid JSON"):
        load_config(path)


def test_paths_resolve_against_config_folder(tmp_path):
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    cfg = config_from_dict({"model": "models/tiny", "dataset": "data/a.jsonl", "$schema": "x"}, tmp_path)
    assert cfg.model == str(tmp_path / "models" / "tiny")
    assert cfg.dataset == str(tmp_path / "data" / "a.jsonl")
    assert cfg.output_dir == str(tmp_path / ".rpo" / "runs")
    assert cfg.embeddings.cache_dir == str(tmp_path / ".rpo" / "embeddings")
    hub = config_from_dict({"model": "Qwen/Qwen2.5-0.5B", "dataset": "d"}, tmp_path)
    assert hub.model == "Qwen/Qwen2.5-0.5B"
