"""Where the model comes from, checked before anything loads: a missing local folder, the Hub
unreachable (fails once, says what to do), a cached model used offline; and a run that fails
before training leaves no run folder behind.

The Hub is made unreachable on purpose (HF_ENDPOINT on a closed local port), so these tests
behave the same on a machine with network access.
"""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import parse_events, run_trainer, subprocess_env
from rpo_trainer.testing.toy import toy_workspace


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def offline_hub_env(tmp_path: Path, hf_offline: bool = False) -> dict:
    env = subprocess_env()
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("TRANSFORMERS_OFFLINE", None)
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
    if hf_offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def run(args: list[str], env: dict) -> tuple[int, list[dict], str]:
    proc = subprocess.run([sys.executable, "-m", "rpo_trainer", *args], capture_output=True, text=True, env=env, timeout=240)
    return proc.returncode, parse_events(proc.stdout), proc.stderr


def runs_in(config: Path) -> list[str]:
    out = config.parent / ".rpo" / "runs"
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def test_a_missing_local_model_folder_is_named(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", model="./models/not-there")
    code, events, stderr = run_trainer(["train", "--config", str(config)])
    error, end = events[-2], events[-1]
    assert code == 1 and error["type"] == "error" and error["error_type"] == "config"
    assert f"model: model folder {tmp_path / 'models' / 'not-there'} does not exist" in error["message"]
    assert "Repo id" not in error["message"]
    assert end["status"] == "failed" and end["run_dir"] is None
    assert runs_in(config) == [], "a run that failed before training left a run folder"


def test_a_run_with_unusable_data_leaves_no_run_folder(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo")
    (tmp_path / "data" / "toy.pref.jsonl").write_text("")
    code, events, _ = run_trainer(["train", "--config", str(config)])
    assert code == 1 and events[-2]["error_type"] == "data" and "no usable training records" in events[-2]["message"]
    assert runs_in(config) == []


def test_the_hub_unreachable_fails_once_and_says_what_to_do(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", model="rpo-studio-tests/not-downloaded")
    code, events, stderr = run(["train", "--config", str(config)], offline_hub_env(tmp_path))
    error = events[-2]
    assert code == 1 and error["type"] == "error" and error["error_type"] == "environment", stderr
    assert "cannot download 'rpo-studio-tests/not-downloaded'" in error["message"]
    assert "Hugging Face Hub" in error["message"] and "unreachable" in error["message"]
    hint = error["hint"]
    assert "downloads once" in hint and "`model`" in hint and "local folder" in hint and "HF_HUB_OFFLINE" in hint
    assert "Retrying" not in stderr, "huggingface_hub retried the Hub"
    assert runs_in(config) == []


def test_offline_mode_without_the_model_in_the_cache(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", model="rpo-studio-tests/not-downloaded")
    code, events, _ = run(["train", "--config", str(config)], offline_hub_env(tmp_path, hf_offline=True))
    error = events[-2]
    assert code == 1 and error["error_type"] == "environment"
    assert "'rpo-studio-tests/not-downloaded' is not in the Hugging Face cache and HF_HUB_OFFLINE is set" in error["message"]
    assert "`model`" in error["hint"]


def test_a_cached_model_trains_with_the_hub_unreachable(tmp_path, tiny_model):
    env = offline_hub_env(tmp_path)
    repo = Path(env["HF_HOME"]) / "hub" / "models--rpo-studio-tests--tiny"
    revision = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(tiny_model, repo / "snapshots" / revision)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", max_steps=1, model="rpo-studio-tests/tiny")
    code, events, stderr = run(["train", "--config", str(config)], env)
    assert code == 0 and events[-1]["status"] == "completed", stderr
    assert "unreachable" in stderr and "loading rpo-studio-tests/tiny from the cache" in stderr
    assert "Retrying" not in stderr


def test_an_output_dir_that_is_a_file_is_named(tmp_path, tiny_model):
    (tmp_path / "runs-file").write_text("not a folder")
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", output_dir="runs-file")
    code, events, _ = run_trainer(["train", "--config", str(config)])
    error = events[-2]
    assert code == 1 and error["error_type"] == "config"
    assert f"output_dir: cannot create the run folder {tmp_path / 'runs-file'}" in error["message"]
    assert "a file is in the way" in error["message"] and (tmp_path / "runs-file").read_text() == "not a folder"


def test_an_unreachable_embedder_fails_once_and_says_what_to_do(tmp_path, tiny_model):
    """compute_missing with a Hub embedder that is not cached: sentence-transformers would retry
    the Hub for each file; the trainer says what to do instead."""
    pytest.importorskip("sentence_transformers")
    config = toy_workspace(tmp_path, tiny_model, n=4, method="rpo",
                           embeddings={"model": "rpo-studio-tests/no-embedder", "precision": "fp32", "compute_missing": True})
    code, events, stderr = run(["train", "--config", str(config)], offline_hub_env(tmp_path))
    error = events[-2]
    assert code == 1 and error["error_type"] == "environment", stderr
    assert "4 prompt(s) have no embedding in" in error["message"]
    assert "embeddings.model: cannot download 'rpo-studio-tests/no-embedder'" in error["message"]
    assert "`embeddings.model`" in error["hint"] and "downloads once" in error["hint"]
    assert "Retrying" not in stderr
