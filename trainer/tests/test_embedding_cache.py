"""The extension's embedding cache, read by Python (docs/contracts.md section 2).

Runs `node dist/cli.js embed` (the TypeScript embedder, tiny-bert fixture model) on a fixture
file, then loads the cache with safetensors.numpy and the trainer's own reader and checks that
the vectors are the ones the TypeScript test recorded in test/golden/tiny-bert-embeddings.json.
Skips when node or the built CLI (npm run build) is missing.
"""
import hashlib
import json
import shutil
import subprocess

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import REPO
from rpo_trainer.data import load_dataset, prompt_key
from rpo_trainer.embeddings import add_to_cache, cache_path, read_cache

CLI = REPO / "dist" / "cli.js"
FIXTURE = REPO / "test" / "fixtures" / "embeddings" / "prompts.pref.jsonl"
MODEL = REPO / "test" / "fixtures" / "models" / "tiny-bert"
GOLDEN = json.loads((REPO / "test" / "golden" / "tiny-bert-embeddings.json").read_text("utf-8"))

pytestmark = pytest.mark.skipif(shutil.which("node") is None or not CLI.exists(),
                                reason="needs node and the built CLI (npm run build)")


@pytest.fixture(scope="module")
def cache_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("emb")
    proc = subprocess.run(["node", str(CLI), "embed", str(FIXTURE), "--model", str(MODEL), "--precision", "fp32",
                           "--cache", str(out), "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["embedded"] == 6 and summary["invalid_lines"] == 1
    assert summary["truncated_lines"] == [4] and summary["empty_lines"] == [3]
    path = cache_path(out, str(MODEL), "fp32")
    assert path.name == "tiny-bert.fp32.safetensors"
    assert summary["cache"] == str(path)
    return path


def test_safetensors_loads_the_cache_with_the_contract_layout(cache_file):
    tensors = load_file(str(cache_file))
    assert set(tensors) == {"keys", "embeddings"}
    keys, emb = tensors["keys"], tensors["embeddings"]
    assert keys.dtype == np.uint8 and keys.shape == (6, 32)
    assert emb.dtype == np.float32 and emb.shape == (6, GOLDEN["dim"])
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    from safetensors import safe_open
    with safe_open(str(cache_file), framework="numpy") as f:
        meta = f.metadata()
    assert meta == {"format": "rpo-embeddings", "version": "1", "model": "tiny-bert", "precision": "fp32",
                    "dim": str(GOLDEN["dim"]), "max_tokens": "256", "pooling": "mean", "normalized": "true"}


def test_python_gets_the_vectors_typescript_computed(cache_file):
    cache = read_cache(cache_file)
    for row in GOLDEN["prompts"]:
        key = hashlib.sha256(row["text"].encode("utf-8")).digest()
        assert key.hex() == row["sha256"]
        np.testing.assert_allclose(cache[key], np.asarray(row["vector"], np.float32), atol=1e-6)


def test_trainer_keys_of_usable_records_are_in_the_cache(cache_file):
    # The trainer refuses invalid lines, so read the valid ones only (a copy without the last line).
    valid = cache_file.parent / "valid.pref.jsonl"
    valid.write_text("".join(FIXTURE.read_text("utf-8").splitlines(keepends=True)[:-1]), "utf-8")
    ds = load_dataset(valid, paired=True)
    cache = read_cache(cache_file)
    assert [r.line for r in ds.records] == [1, 2, 3, 4]  # the tie (line 7) and unpaired/candidates are left out
    for r in ds.records:
        assert prompt_key(r.prompt) in cache


def test_rows_the_trainer_adds_are_used_by_the_extension(cache_file, tmp_path):
    """The trainer stores the embeddings it computed (sentence-transformers) in the same file; `rpo embed`
    then finds them cached and keeps them, and still reads the rows it wrote itself."""
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    path = cache_dir / cache_file.name
    shutil.copyfile(cache_file, path)
    extra = "A prompt only the trainer has seen."
    vector = np.zeros(GOLDEN["dim"], np.float32)
    vector[0] = 1
    add_to_cache(path, {prompt_key(extra): vector}, str(MODEL), "fp32")
    data = tmp_path / "more.pref.jsonl"
    data.write_text(FIXTURE.read_text("utf-8") + json.dumps({"prompt": extra, "chosen": "a", "rejected": "b"}) + "\n", "utf-8")
    proc = subprocess.run(["node", str(CLI), "embed", str(data), "--model", str(MODEL), "--precision", "fp32",
                           "--cache", str(cache_dir), "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["embedded"] == 0 and summary["cached"] == 7, summary
    cache = read_cache(path)
    assert len(cache) == 7 and np.array_equal(cache[prompt_key(extra)], vector)
