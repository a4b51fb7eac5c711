"""Two CPU processes (gloo, started by torchrun): the global contrast matrix is exact.

With global_contrast, 2 processes x batch 2 must give the same losses and gradient norms as
1 process x batch 4: the same global batches (contract section 5), local rows against
all-gathered columns, and gradients that reach every rank's rejected responses.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import parse_events, run_trainer, subprocess_env, torchrun_two
from rpo_trainer.testing.toy import toy_workspace


@pytest.mark.parametrize("method, extra", [("rpo", {}), ("rpo-unpaired", {"unpaired": True})])
def test_global_contrast_on_two_processes_equals_one_process(tmp_path, tiny_model, method, extra):
    common = dict(n=20, method=method, max_steps=3, learning_rate=1e-3, eval_split=0.2, eval_steps=2, **extra)
    two = toy_workspace(tmp_path / "two", tiny_model, batch_size=2, num_processes=2, global_contrast=True, **common)
    one = toy_workspace(tmp_path / "one", tiny_model, batch_size=4, **common)
    proc = subprocess.run(torchrun_two("-m", "rpo_trainer", "train", "--config", str(two)),
                          capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events_two = parse_events(proc.stdout)
    assert events_two[0]["num_processes"] == 2 and events_two[-1]["status"] == "completed"
    assert sum(1 for e in events_two if e["type"] == "start") == 1, "only rank 0 speaks"
    code, events_one, stderr = run_trainer(["train", "--config", str(one)])
    assert code == 0, stderr
    pick = lambda evs: [(e["metrics"]["loss"], e["metrics"]["rewards/accuracies"], e["grad_norm"])  # noqa: E731
                        for e in evs if e["type"] == "step"]
    a, b = pick(events_two), pick(events_one)
    assert len(a) == len(b) == 3
    for (la, aa, ga), (lb, ab, gb) in zip(a, b):
        assert la == pytest.approx(lb, abs=1e-5) and ga == pytest.approx(gb, rel=1e-4)
        if method == "rpo":
            assert aa == pytest.approx(ab, abs=1e-9)
    # Training dynamics: each rank records its rows, rank 0 writes them all (contracts section 8).
    from safetensors.numpy import load_file
    dyn_two, dyn_one = (load_file(str(Path(evs[0]["run_dir"]) / "dynamics.safetensors")) for evs in (events_two, events_one))
    assert list(dyn_two["visits"]) == list(dyn_one["visits"]) and dyn_two["visits"][:16].sum() == 3 * 4
    for k in ("aum", "confidence", "correctness", "last_margin", "diag_weight", "eval_margin"):
        assert dyn_two[k] == pytest.approx(dyn_one[k], abs=1e-5, nan_ok=True), k
    assert list(dyn_two["eval_steps"]) == [2, 3] and dyn_two["eval_margin"].shape == (2, 4) and np.all(dyn_two["eval_margin"][1] != 0)
