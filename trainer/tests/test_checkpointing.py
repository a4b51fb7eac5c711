"""Checkpoints: numeric order, atomic rewrite, resume after an interrupted save, files that load
with torch.load(weights_only=True), a full disk named as such."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import parse_events, subprocess_env
from rpo_trainer import checkpointing
from rpo_trainer.checkpointing import checkpoint_folders, commit, is_complete, latest_complete, rotate, tidy
from rpo_trainer.config import load_config
from rpo_trainer.errors import ConfigError
from rpo_trainer.events import EventWriter
from rpo_trainer.run_folder import resume_config
from rpo_trainer.testing.toy import toy_workspace
from rpo_trainer.train import Run, StopFlag


def fake_checkpoint(path: Path, step: int) -> Path:
    """The files is_complete looks for (contents do not matter to ordering and tidying)."""
    path.mkdir(parents=True)
    for name in ("trainable.safetensors", "optimizer.pt", "scheduler.json", "rng_0.pt"):
        (path / name).write_bytes(b"x")
    (path / "trainer_state.json").write_text(json.dumps({"step": step}))
    return path


def test_checkpoints_are_ordered_by_step_number_for_resume_and_rotation(tmp_path):
    ck = tmp_path / "checkpoints"
    for step in (999999, 1000000, 2, 10):
        fake_checkpoint(ck / f"step-{step:06d}", step)
    assert [p.name for p in checkpoint_folders(ck)] == ["step-000002", "step-000010", "step-999999", "step-1000000"]
    assert latest_complete(ck)[0].name == "step-1000000"
    deleted = rotate(ck, keep=2)
    assert [p.name for p in deleted] == ["step-000002", "step-000010"]
    assert [p.name for p in checkpoint_folders(ck)] == ["step-999999", "step-1000000"]


def test_resume_skips_an_incomplete_checkpoint(tmp_path):
    ck = tmp_path / "checkpoints"
    fake_checkpoint(ck / "step-000004", 4)
    broken = fake_checkpoint(ck / "step-000006", 6)
    (broken / "trainable.safetensors").unlink()  # a delete that was killed half way
    latest, skipped = latest_complete(ck)
    assert latest.name == "step-000004" and [p.name for p in skipped] == ["step-000006"]


def test_a_kill_between_the_renames_of_a_rewrite_leaves_a_complete_checkpoint(tmp_path, monkeypatch):
    """commit() renames the old folder aside, the new one in, then deletes the old. Kill it right
    before the new folder goes in: tidy() (run at resume) puts the old copy back."""
    ck = tmp_path / "checkpoints"
    fake_checkpoint(ck / "step-000008", 8)
    new = fake_checkpoint(ck / "step-000008.tmp", 8)
    real_rename = Path.rename

    def killed_before_the_new_one_goes_in(self, target):
        if self.name.endswith(".tmp"):
            raise KeyboardInterrupt("killed")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", killed_before_the_new_one_goes_in)
    with pytest.raises(KeyboardInterrupt):
        commit(new, ck / "step-000008")
    monkeypatch.setattr(Path, "rename", real_rename)
    done = tidy(ck)
    assert is_complete(ck / "step-000008"), f"no complete step-000008 after the interrupted rewrite ({done})"
    assert sorted(p.name for p in ck.iterdir()) == ["step-000008"], "leftover .old / .tmp folders are removed"


def test_tidy_removes_unfinished_tmp_folders_and_finished_old_ones(tmp_path):
    ck = tmp_path / "checkpoints"
    fake_checkpoint(ck / "step-000002", 2)
    fake_checkpoint(ck / "step-000002.old", 2)  # killed after the new one went in
    (ck / "step-000004.tmp").mkdir()  # killed while writing
    tidy(ck)
    assert sorted(p.name for p in ck.iterdir()) == ["step-000002"]


class WritesAFile:
    """A pickle that runs code when unpickled (creates `path`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def run_in_process(cfg, run_dir=None, resume=False) -> tuple[str, list[dict], Run]:
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    out = io.StringIO()
    run = Run(cfg, EventWriter(stream=out), StopFlag(), run_dir=run_dir, resume=resume)
    try:
        status = run.run()
    finally:
        run.events.close()
    return status, parse_events(out.getvalue()), run


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, tiny_model) -> Path:
    """A finished 6-step run with periodic checkpoints at steps 2 and 4."""
    root = tmp_path_factory.mktemp("saved")
    cfg = load_config(toy_workspace(root, tiny_model, n=8, method="dpo", max_steps=6, batch_size=2, save_steps=2,
                                    save_total_limit=2, learning_rate=1e-3))
    status, events, run = run_in_process(cfg)
    assert status == "completed"
    assert [e["step"] for e in events if e["type"] == "checkpoint" and e["reason"] == "periodic"] == [2, 4]
    return run.run_dir


def copy_run(saved: Path, tmp_path: Path) -> Path:
    run_dir = tmp_path / saved.name
    shutil.copytree(saved, run_dir)
    shutil.rmtree(run_dir / "final")
    return run_dir


def test_checkpoint_files_load_with_weights_only(saved_run):
    ckpt = saved_run / "checkpoints" / "step-000004"
    for name in ("optimizer.pt", "rng_0.pt"):
        torch.load(ckpt / name, map_location="cpu", weights_only=True)  # raises on anything but plain data
    assert json.loads((ckpt / "scheduler.json").read_text())["last_epoch"] == 4


def test_resume_does_not_run_code_from_a_checkpoint(saved_run, tmp_path):
    run_dir = copy_run(saved_run, tmp_path)
    ckpt = run_dir / "checkpoints" / "step-000004"
    marker = tmp_path / "ran-code"
    torch.save({"state": WritesAFile(marker), "param_groups": []}, ckpt / "optimizer.pt")
    with pytest.raises(ConfigError) as err:
        run_in_process(resume_config(run_dir), run_dir, resume=True)
    assert not marker.exists(), "resume unpickled code from optimizer.pt"
    assert "optimizer.pt holds more than tensors and plain data" in err.value.message

    torch.save({"python": WritesAFile(marker)}, ckpt / "rng_0.pt")
    shutil.copy(saved_run / "checkpoints" / "step-000004" / "optimizer.pt", ckpt / "optimizer.pt")
    status, events, _ = run_in_process(resume_config(run_dir), run_dir, resume=True)
    assert not marker.exists(), "resume unpickled code from rng_0.pt"
    assert status == "completed"
    warnings = [e["message"] for e in events if e["type"] == "log" and e["level"] == "warning"]
    assert any("rng_0.pt is not plain data" in w for w in warnings), warnings


def test_resume_after_a_kill_during_a_checkpoint_rewrite(saved_run, tmp_path):
    """The crash window of a rewrite of step-4 (the stop checkpoint of a step just saved
    periodically): step-4 moved aside, the new one complete but not yet in place."""
    run_dir = copy_run(saved_run, tmp_path)
    ck = run_dir / "checkpoints"
    (ck / "step-000004").rename(ck / "step-000004.old")
    shutil.copytree(ck / "step-000004.old", ck / "step-000004.tmp")
    status, events, _ = run_in_process(resume_config(run_dir), run_dir, resume=True)
    start = next(e for e in events if e["type"] == "start")
    assert status == "completed" and start["step"] == 4
    assert start["resumed"].endswith("step-000004")
    assert not list(ck.glob("*.tmp")) and not list(ck.glob("*.old"))


def test_resume_falls_back_past_a_checkpoint_left_incomplete(saved_run, tmp_path):
    """What an older trainer left after a kill between deleting step-4 and renaming its
    replacement in: step-4 without its weights beside a complete step-4.tmp."""
    run_dir = copy_run(saved_run, tmp_path)
    ck = run_dir / "checkpoints"
    shutil.copytree(ck / "step-000004", ck / "step-000004.tmp")
    (ck / "step-000004" / "trainable.safetensors").unlink()
    status, events, _ = run_in_process(resume_config(run_dir), run_dir, resume=True)
    start = next(e for e in events if e["type"] == "start")
    assert status == "completed" and start["step"] == 2
    assert any(e["type"] == "log" and "incomplete checkpoint step-000004" in e["message"] for e in events)
    assert not list(ck.glob("*.tmp")), "the leftover .tmp folder is removed"
    # events.jsonl now holds both runs; readers take the steps after the latest start.
    lines = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    starts = [i for i, e in enumerate(lines) if e["type"] == "start"]
    assert len(starts) == 2 and lines[starts[-1]]["resumed"]
    assert [e["step"] for e in lines[starts[-1]:] if e["type"] == "step"] == [3, 4, 5, 6]


def test_a_really_full_disk_during_a_save(tmp_path, tiny_model):
    """A 200 KB tmpfs as output_dir (needs a private mount namespace: root or user namespaces):
    the run folder fits, the checkpoint does not."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=200k tmpfs {mnt}"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (unshare -m / mount not permitted)")
    config = toy_workspace(tmp_path, tiny_model, n=8, method="dpo", max_steps=3, batch_size=2, save_steps=1,
                           output_dir=str(mnt / "runs"))
    script = f"mount -t tmpfs -o size=200k tmpfs {mnt} && exec {sys.executable} -m rpo_trainer train --config {config}"
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=subprocess_env(),
                          timeout=240)
    events = parse_events(proc.stdout)
    assert proc.returncode == 1, proc.stderr
    error = events[-2]
    assert error["type"] == "error" and error["error_type"] == "environment", error
    assert "no space left on the disk holding" in error["message"] and str(mnt / "runs") in error["message"]


def test_checkpoint_rng_state_round_trips():
    import random

    import numpy as np

    state = checkpointing.rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    checkpointing.set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    checkpointing.set_rng_state(torch.load(buf, weights_only=True))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_resume_without_a_complete_checkpoint_says_so(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")
    with pytest.raises(ConfigError) as err:
        resume_config(run_dir)
    assert "has no checkpoint to resume from" in err.value.message
