"""Training dynamics (docs/contracts.md section 8): pair keys against the golden file, the
accumulators against a per-row reference, merging ranks, restoring, and the file a real run writes."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from conftest import REPO, run_trainer
from rpo_trainer import dynamics
from rpo_trainer.data import classify, unpaired_items
from rpo_trainer.testing.toy import toy_workspace

GOLDEN = json.loads((REPO / "test" / "golden" / "pair-keys.json").read_text("utf-8"))


def test_golden_file_is_what_the_generator_writes():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "golden" / "make_pair_keys.py"), "--check"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def golden_records():
    out = {}
    for case in GOLDEN["cases"]:
        state, rec = classify(case["record"], "golden.jsonl:1")
        out[case["name"]] = (case, rec)
    return out


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["name"] for c in GOLDEN["cases"]])
def test_pair_keys_match_the_golden_file(case):
    record = case["record"]
    state, rec = classify(record, "golden.jsonl:1")
    if "responses" in record:  # candidates: not usable yet; their key is the pair's key
        assert state == "unlabeled"
        key, _ = dynamics.pair_key(record["prompt"], *record["responses"])
        assert key.hex() == case["key"] and case["side"] is None
        return
    assert state == "usable"
    assert rec.prompt_text == case["prompt_text"]
    key, side = dynamics.record_key(rec)
    assert (key.hex(), side) == (case["key"], case["side"])
    items = [dynamics.record_key(i) for i in unpaired_items([rec])]
    assert [{"key": k.hex(), "side": s} for k, s in items] == case["items"]


@pytest.mark.parametrize("labels", GOLDEN["labels"], ids=[x["name"] for x in GOLDEN["labels"]])
def test_labels_sha256_matches_the_golden_file(labels):
    recs = golden_records()
    records = [recs[n][1] for n in labels["cases"]]
    if labels["method"] == "rpo-unpaired":
        records = unpaired_items(records)
    rows = dynamics.Rows.of(records, [])
    assert rows.labels_sha256() == labels["sha256"]


def rows_of(n_train: int, n_eval: int = 0) -> dynamics.Rows:
    n = n_train + n_eval
    keys = np.arange(n * 32, dtype=np.uint64).astype(np.uint8).reshape(n, 32)
    return dynamics.Rows(keys=keys, lines=np.arange(1, n + 1, dtype=np.int32), sides=np.zeros(n, np.uint8), n_train=n_train)


def visits_of(seed: int, n: int, steps: int, batch: int):
    rng = np.random.default_rng(seed)
    out = []
    for step in range(steps):
        rows = rng.choice(n, size=batch, replace=False)
        out.append((step, rows, rng.normal(0, 2, size=batch), rng.uniform(0, 1, size=batch)))
    return out


def test_statistics_match_a_per_row_reference():
    n, d = 12, dynamics.Dynamics(rows_of(12, 3))
    visits = visits_of(0, n, 20, 4)
    for step, rows, m, w in visits:
        d.add_train(step, rows, m, w)
    d.add_eval(10, np.array([1.0, -2.0, 0.5]))
    d.add_eval(20, np.array([3.0, -1.0, -0.5]))
    t = d.tensors()
    for i in range(n):
        ms = [m[list(rows).index(i)] for _, rows, m, _ in visits if i in rows]
        ws = [w[list(rows).index(i)] for _, rows, _, w in visits if i in rows]
        assert t["visits"][i] == len(ms)
        if not ms:
            assert math.isnan(t["aum"][i]) and math.isnan(t["confidence"][i]) and math.isnan(t["last_margin"][i])
            continue
        sig = 1 / (1 + np.exp(-np.array(ms)))
        assert t["aum"][i] == pytest.approx(np.mean(ms), rel=1e-6)
        assert t["confidence"][i] == pytest.approx(sig.mean(), rel=1e-6)
        assert t["variability"][i] == pytest.approx(sig.std(), abs=1e-6)
        assert t["correctness"][i] == pytest.approx(np.mean(np.array(ms) > 0))
        assert t["last_margin"][i] == pytest.approx(ms[-1], rel=1e-6)
        assert t["diag_weight"][i] == pytest.approx(np.mean(ws), rel=1e-6)
    assert list(t["split"]) == [0] * n + [1] * 3 and list(t["visits"][n:]) == [2, 2, 2]
    assert t["eval_margin"].shape == (2, 3) and list(t["eval_steps"]) == [10, 20]
    assert t["aum"][n:] == pytest.approx([2.0, -1.5, 0.0]) and t["last_margin"][n:] == pytest.approx([3.0, -1.0, -0.5])
    assert t["correctness"][n:] == pytest.approx([1.0, 0.0, 0.5])


def test_ranks_merge_into_what_one_process_records():
    n, visits = 10, visits_of(1, 10, 12, 4)
    one, ranks = dynamics.Dynamics(rows_of(n)), [dynamics.Dynamics(rows_of(n)) for _ in range(2)]
    for step, rows, m, w in visits:
        one.add_train(step, rows, m, w)
        ranks[0].add_train(step, rows[:2], m[:2], w[:2])  # each rank its slice of the global batch
        ranks[1].add_train(step, rows[2:], m[2:], w[2:])
        if step == 5:  # a checkpoint in between: rank 0 holds the totals, rank 1 starts again
            parts = np.stack([r.stacked() for r in ranks])
            ranks[0].set_merged(parts)
            ranks[1].set_merged(None)
    parts = np.stack([r.stacked() for r in ranks])
    ranks[0].set_merged(parts)
    a, b = one.tensors(), ranks[0].tensors()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-6, equal_nan=True, err_msg=k)


def test_restore_continues_from_a_written_file(tmp_path):
    n, visits = 10, visits_of(2, 10, 16, 3)
    full, first = dynamics.Dynamics(rows_of(n, 2)), dynamics.Dynamics(rows_of(n, 2))
    for step, rows, m, w in visits:
        full.add_train(step, rows, m, w)
        if step < 8:
            first.add_train(step, rows, m, w)
    full.add_eval(7, np.array([1.0, 2.0]))
    first.add_eval(7, np.array([1.0, 2.0]))
    path = tmp_path / dynamics.FILE_NAME
    dynamics.write(path, first.tensors(), dynamics.metadata(step=8, complete=False))
    tensors, meta = dynamics.read(path)
    assert meta["format"] == "rpo-dynamics" and meta["version"] == "1" and meta["complete"] == "false"
    resumed = dynamics.Dynamics(rows_of(n, 2))
    assert resumed.restore(tensors)
    for step, rows, m, w in visits[8:]:
        resumed.add_train(step, rows, m, w)
    a, b = full.tensors(), resumed.tensors()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=k)
    other = rows_of(n, 2)
    other.sides[3] = 1  # a label changed: not this run's rows
    assert not dynamics.Dynamics(other).restore(tensors)


def test_suspects_rank_by_ascending_aum_then_line():
    t = {"split": np.array([0, 0, 0, 0, 1], np.uint8), "visits": np.array([2, 0, 3, 1, 2], np.int32),
         "aum": np.array([0.5, np.nan, -1.0, 0.5, -9.0], np.float32), "line": np.array([9, 2, 4, 3, 1], np.int32)}
    assert list(dynamics.suspects(t)) == [2, 3, 0]


def read_file(path: Path):
    with safe_open(str(path), framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()


def test_a_run_writes_dynamics_at_checkpoints_and_at_the_end(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=20, method="rpo", max_steps=6, eval_split=0.2, eval_steps=3,
                           save_steps=3, learning_rate=1e-2)
    code, events, stderr = run_trainer(["train", "--config", str(config)])
    assert code == 0, stderr
    run_dir = Path(events[0]["run_dir"])
    t, meta = read_file(run_dir / "dynamics.safetensors")
    info = json.loads((run_dir / "run.json").read_text("utf-8"))
    assert meta["format"] == "rpo-dynamics" and meta["complete"] == "true" and meta["step"] == "6" and meta["method"] == "rpo"
    assert meta["labels_sha256"] == info["labels_sha256"] and meta["dataset_sha256"] == info["dataset_sha256"]
    assert list(t["split"]) == [0] * 16 + [1] * 4 and list(t["line"]) == list(range(1, 21))
    # 6 steps x batch 4 over 16 training rows: 24 visits, every row 1 or 2 times.
    assert t["visits"][:16].sum() == 24 and set(t["visits"][:16]) <= {1, 2}
    assert list(t["eval_steps"]) == [3, 6] and t["eval_margin"].shape == (2, 4) and list(t["visits"][16:]) == [2, 2, 2, 2]
    w = t["diag_weight"][:16]
    assert np.all((w > 0) & (w < 1)) and np.all(np.isnan(t["diag_weight"][16:]))
    # The toy preference is learnable: training margins end positive, eval margins grow.
    assert (t["last_margin"][:16] > 0).mean() > 0.8 and t["eval_margin"][1].mean() > t["eval_margin"][0].mean()
    ckpt, ckpt_meta = read_file(run_dir / "checkpoints" / "step-000003" / "dynamics.safetensors")
    assert ckpt_meta["complete"] == "false" and ckpt_meta["step"] == "3" and ckpt["visits"][:16].sum() == 12
    keys = {bytes(k) for k in t["key"]}
    assert len(keys) == 20


def test_margins_are_the_steps_own_pair_margins(tmp_path, tiny_model):
    """DPO, 8 pairs, batch 4, 2 steps: every pair once. Policy == reference before the first
    update, so step 1's pairs have margin exactly 0; step 2's margins average to the step's
    logged rewards/margins (the metric path, computed separately). DPO: diag_weight NaN."""
    config = toy_workspace(tmp_path, tiny_model, n=8, method="dpo", max_steps=2, learning_rate=1e-2, logging_steps=1)
    code, events, stderr = run_trainer(["train", "--config", str(config)])
    assert code == 0, stderr
    t, _ = read_file(Path(events[0]["run_dir"]) / "dynamics.safetensors")
    assert list(t["visits"]) == [1] * 8
    first = t["aum"] == 0
    assert first.sum() == 4 and np.all(t["confidence"][first] == 0.5) and np.all(t["correctness"][first] == 0)
    logged = [e["metrics"]["rewards/margins"] for e in events if e["type"] == "step"]
    assert logged[0] == 0 and t["aum"][~first].mean() == pytest.approx(logged[1], rel=1e-5) and logged[1] != 0
    assert np.all(t["last_margin"] == t["aum"]) and np.all(np.isnan(t["diag_weight"]))
