"""`generate`: a run's model and a baseline answer held-out prompts on the tiny model (its text is
noise, the pipeline is real); the blind candidates file and its sidecar (docs/formats.md,
"Candidates from a run")."""

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import parse_events, run_trainer, subprocess_env, torchrun_two
from rpo_trainer import gen_files
from rpo_trainer.errors import ConfigError, DataError
from rpo_trainer.events import EventWriter
from rpo_trainer.generate import OutOfMemory, Request, Settings, run_generation
from rpo_trainer.testing.toy import toy_records, toy_workspace, write_jsonl

GOLDEN = Path(__file__).resolve().parents[2] / "test" / "golden"


# ---------------------------------------------------------------- helpers written from the spec

def text_of(turns) -> str:
    return turns if isinstance(turns, str) else "\n\n".join(f"{m['role']}: {m['content']}" for m in turns)


def spec_key(prompt, r0, r1) -> str:
    """docs/contracts.md §8 for candidates, written here from the text, not from gen_files."""
    def enc(s: str) -> bytes:
        b = s.encode("utf-8")
        return len(b).to_bytes(8, "little") + b
    a, b = sorted([text_of(r0).encode("utf-8"), text_of(r1).encode("utf-8")])
    return hashlib.sha256(enc(text_of(prompt)) + enc(a.decode("utf-8")) + enc(b.decode("utf-8"))).hexdigest()


def jsonl(path: Path) -> list[str]:
    """A JSONL file's lines, split at "\n" only: generated noise can hold U+0085 or U+2028, which
    str.splitlines() also splits at (json.dumps with ensure_ascii=False leaves them raw)."""
    return [x for x in path.read_text("utf-8").split("\n") if x]


def read_pair(out: Path) -> tuple[list[dict], dict, list[dict]]:
    records = [json.loads(x) for x in jsonl(out)]
    side = [json.loads(x) for x in jsonl(gen_files.sidecar_path(out))]
    return records, side[0], side[1:]


class Events(EventWriter):
    def __init__(self, stop_after_progress: int | None = None, stop=None) -> None:
        super().__init__(enabled=True, stream=open("/dev/null", "w"))  # noqa: SIM115
        self.seen: list[dict] = []
        self.stop_after, self.stop = stop_after_progress, stop

    def emit(self, type_, **fields):
        event = super().emit(type_, **fields)
        self.seen.append(event)
        if type_ == "generate_progress" and self.stop_after is not None and sum(e["type"] == "generate_progress" for e in self.seen) >= self.stop_after:
            self.stop.requested = True
        return event


class Stop:
    requested = False


def generate(run_dir, **kw):
    settings = Settings(**{k: kw.pop(k) for k in list(kw) if k in Settings.__dataclass_fields__})
    stop = kw.pop("stop", None) or Stop()
    events = kw.pop("events", None) or Events()
    end = run_generation(Request(run_dir=Path(run_dir), settings=settings, **kw), events, stop)
    return end, events.seen


def train(root: Path, tiny_model: Path, **config) -> Path:
    cfg = toy_workspace(root, tiny_model, **config)
    code, events, stderr = run_trainer(["train", "--config", str(cfg)])
    assert code == 0, stderr
    return Path(events[-1]["run_dir"])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, tiny_model) -> Path:
    return train(tmp_path_factory.mktemp("full"), tiny_model, n=16, method="dpo", max_steps=2, eval_split=0.25)


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory, tiny_model) -> Path:
    return train(tmp_path_factory.mktemp("lora"), tiny_model, n=16, method="rpo", max_steps=4, save_steps=2, eval_split=0.25,
                 learning_rate=0.05, lora={"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0})


def plain_greedy(model_dir: Path, prompt: str, max_new_tokens: int) -> str:
    """The baseline of the batching: plain `model.generate` on one prompt, no padding."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ids = tok(prompt, return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
    row = out[0, ids["input_ids"].shape[1]:].tolist()
    if tok.eos_token_id in row:
        row = row[:row.index(tok.eos_token_id)]
    return tok.decode(row, skip_special_tokens=True)


# ---------------------------------------------------------------- the files

def test_eval_split_sampled_into_a_blind_candidates_file_with_a_consistent_sidecar(full_run, tiny_model, tmp_path):
    out = tmp_path / "s.pref.jsonl"
    end, events = generate(full_run, out=str(out), max_new_tokens=12, batch_size=3, greedy=True)
    assert end["status"] == "completed" and end["done"] == end["total"] == 4
    records, head, lines = read_pair(out)
    # The eval split: the last ceil(0.25 * 16) = 4 records of the run's dataset, in file order.
    data = [json.loads(x) for x in jsonl(full_run.parents[2] / "data" / "toy.pref.jsonl")]
    assert [r["prompt"] for r in records] == [d["prompt"] for d in data[-math.ceil(0.25 * 16):]]
    # Blind: the candidates shape only, nothing naming a model, a run or a side.
    banned = [full_run.name, str(tiny_model), "final", "reference", "checkpoint", "model", "sources"]
    for r in records:
        assert list(r) == ["prompt", "responses"] and len(r["responses"]) == 2
        assert all(isinstance(x, str) for x in r["responses"])
        assert not any(b in json.dumps(r) for b in banned)
    # Sidecar: header, then one line per record whose key is §8 over the record as written.
    assert head["format"] == "rpo-candidates-sources" and head["version"] == 1
    assert head["models"]["A"] == {"kind": "run", "run_dir": str(full_run), "checkpoint": None, "model": str(full_run / "final"),
                                   "base_model": None, "lora": False}
    assert head["models"]["B"]["kind"] == "reference" and head["models"]["B"]["model"] == str(tiny_model)
    assert head["prompts"]["split"] == "eval" and head["prompts"]["count"] == 4 and head["prompts"]["skipped"] == 0
    assert head["prompts"]["sha256"] == hashlib.sha256((full_run.parents[2] / "data" / "toy.pref.jsonl").read_bytes()).hexdigest()
    assert head["settings"] == {"max_new_tokens": 12, "temperature": 0.7, "top_p": 0.9, "greedy": True, "seed": 0, "batch_size": 3}
    assert [x["line"] for x in lines] == [1, 2, 3, 4]
    for r, x in zip(records, lines):
        assert x["key"] == spec_key(r["prompt"], *r["responses"])
        assert sorted(x["sources"]) == ["A", "B"]
    # The order is randomised per record (seed 0 puts B first in some records, not all).
    assert {tuple(x["sources"]) for x in lines} == {("A", "B"), ("B", "A")}
    # The sources are right: B is the reference model, whose answer plain model.generate on one
    # prompt at a time reproduces (greedy; the batched run left-pads, the plain one does not).
    for r, x in zip(records, lines):
        b = r["responses"][x["sources"].index("B")]
        assert b == plain_greedy(tiny_model, r["prompt"], 12)
        a = r["responses"][x["sources"].index("A")]
        assert a == plain_greedy(full_run / "final", r["prompt"], 12)
    types = [e["type"] for e in events]
    assert types[0] == "generate_start" and types.count("generate_progress") == 2  # batches of 3 + 1
    assert events[-1]["done"] == 4 and events[-1]["tokens"] > 0 and events[-1]["eta_seconds"] == 0


def test_stop_then_resume_gives_the_file_of_one_uninterrupted_generation(full_run, tmp_path):
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"Tell me about item {i}."} for i in range(9)])
    common = dict(prompts=str(prompts), max_new_tokens=10, batch_size=2, seed=3)  # sampled, not greedy
    whole = tmp_path / "whole.pref.jsonl"
    assert generate(full_run, out=str(whole), **common)[0]["status"] == "completed"

    parts = tmp_path / "parts.pref.jsonl"
    stop = Stop()
    end, _ = generate(full_run, out=str(parts), stop=stop, events=Events(stop_after_progress=2, stop=stop), **common)
    assert end["status"] == "stopped" and end["done"] == 4 and "run the same command again" in end["message"]
    assert len(jsonl(parts)) == 4 and len(jsonl(gen_files.sidecar_path(parts))) == 5
    # A kill between the two appends, and one in the middle of a line: both cut back on resume.
    with parts.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"prompt": "x", "responses": ["a", "b"]}) + "\n" + '{"prompt": "half')
    end, events = generate(full_run, out=str(parts), **common)
    assert events[0]["done"] == 4 and end["status"] == "completed" and end["done"] == 9
    assert parts.read_bytes() == whole.read_bytes()
    assert gen_files.sidecar_path(parts).read_bytes() == gen_files.sidecar_path(whole).read_bytes()
    # Run again: complete already, nothing changes.
    end, _ = generate(full_run, out=str(parts), **common)
    assert end["message"].startswith("already complete") and parts.read_bytes() == whole.read_bytes()


def test_other_settings_refuse_to_continue_and_keep_the_files(full_run, tmp_path):
    out = tmp_path / "s.pref.jsonl"
    generate(full_run, out=str(out), max_new_tokens=4, batch_size=4, greedy=True)
    before = (out.read_bytes(), gen_files.sidecar_path(out).read_bytes())
    with pytest.raises(ConfigError, match=r"other settings.*settings\.max_new_tokens \(4 in the file, 5 now\)"):
        generate(full_run, out=str(out), max_new_tokens=5, batch_size=4, greedy=True)
    assert (out.read_bytes(), gen_files.sidecar_path(out).read_bytes()) == before
    end, _ = generate(full_run, out=str(out), max_new_tokens=5, batch_size=4, greedy=True, overwrite=True)
    assert end["done"] == 4 and read_pair(out)[1]["settings"]["max_new_tokens"] == 5
    stranger = tmp_path / "mine.pref.jsonl"
    stranger.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    with pytest.raises(ConfigError, match="has no sidecar"):
        generate(full_run, out=str(stranger), max_new_tokens=4, greedy=True)
    assert stranger.read_text() == '{"prompt": "p", "chosen": "a", "rejected": "b"}\n'


def test_out_of_memory_keeps_what_was_written_and_continues_with_a_smaller_batch(full_run, tmp_path, monkeypatch):
    from transformers import GenerationMixin

    real, calls = GenerationMixin.generate, []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # the second batch's first model
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(GenerationMixin, "generate", flaky)
    out = tmp_path / "s.pref.jsonl"
    with pytest.raises(OutOfMemory, match=r"the 2 records written so far are kept") as e:
        generate(full_run, out=str(out), max_new_tokens=6, batch_size=2, greedy=True)
    assert "--batch-size" in e.value.hint
    assert len(jsonl(out)) == 2 and len(jsonl(gen_files.sidecar_path(out))) == 3
    monkeypatch.setattr(GenerationMixin, "generate", real)
    end, events = generate(full_run, out=str(out), max_new_tokens=6, batch_size=1, greedy=True)
    assert events[0]["done"] == 2 and end["done"] == 4
    records, head, lines = read_pair(out)
    assert head["settings"]["batch_size"] == 1 and len(records) == 4 and [x["line"] for x in lines] == [1, 2, 3, 4]


def test_prompt_file_with_invalid_lines_and_the_dataset_baseline(full_run, tmp_path):
    good = toy_records(6, conversational=True)
    lines = [json.dumps(good[0]), "not json", json.dumps({"chosen": "only"}), json.dumps(good[1]),
             json.dumps({"prompt": [{"role": "user", "content": "no chosen here"}]}), "", json.dumps([1, 2]), json.dumps(good[2])]
    src = tmp_path / "mixed.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "d.pref.jsonl"
    end, events = generate(full_run, prompts=str(src), baseline="dataset", out=str(out), max_new_tokens=8, greedy=True)
    assert events[0]["skipped"] == {"json": 1, "no_prompt": 2, "no_chosen": 1}
    records, head, side = read_pair(out)
    assert head["models"]["B"] == {"kind": "dataset", "run_dir": None, "checkpoint": None, "model": None, "base_model": None, "lora": False}
    assert head["prompts"] == {"file": str(src), "sha256": hashlib.sha256(src.read_bytes()).hexdigest(), "split": "all", "count": 3, "skipped": 4}
    assert [r["prompt"] for r in records] == [good[k]["prompt"] for k in (0, 1, 2)]
    for r, x, g in zip(records, side, [good[0], good[1], good[2]]):
        # Messages in, messages out (one assistant message); B is the record's own chosen.
        assert r["responses"][x["sources"].index("B")] == g["chosen"]
        a = r["responses"][x["sources"].index("A")]
        assert isinstance(a, list) and len(a) == 1 and a[0]["role"] == "assistant"
        assert x["key"] == spec_key(r["prompt"], *r["responses"])


def test_num_prompts_draws_a_seeded_subset_in_file_order(full_run, tmp_path):
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"p{i}"} for i in range(20)])
    picks = []
    for seed in (1, 1, 2):
        out = tmp_path / f"n{len(picks)}.pref.jsonl"
        generate(full_run, prompts=str(src), num_prompts=5, seed=seed, out=str(out), max_new_tokens=2, greedy=True)
        picks.append([r["prompt"] for r in read_pair(out)[0]])
    assert len(picks[0]) == 5 and picks[0] == picks[1] != picks[2]
    assert picks[0] == sorted(picks[0], key=lambda p: int(p[1:]))


# ---------------------------------------------------------------- LoRA

def test_lora_run_final_adapter_and_a_checkpoint_against_the_reference(lora_run, tiny_model, tmp_path):
    final, ckpt = tmp_path / "final.pref.jsonl", tmp_path / "ckpt.pref.jsonl"
    generate(lora_run, out=str(final), max_new_tokens=16, greedy=True)
    generate(lora_run, checkpoint="2", out=str(ckpt), max_new_tokens=16, greedy=True)
    (rf, hf, sf), (rc, hc, sc) = read_pair(final), read_pair(ckpt)
    assert hf["models"]["A"] == {"kind": "run", "run_dir": str(lora_run), "checkpoint": None, "model": str(lora_run / "final"),
                                 "base_model": str(tiny_model), "lora": True}
    assert hc["models"]["A"]["checkpoint"] == str(lora_run / "checkpoints" / "step-000002") and hc["models"]["A"]["lora"]
    by_source = lambda recs, side, who: [r["responses"][x["sources"].index(who)] for r, x in zip(recs, side)]  # noqa: E731
    # B, the reference, is the LoRA model with its adapter switched off: the base model's answers.
    expected_b = [plain_greedy(tiny_model, r["prompt"], 16) for r in rf]
    assert by_source(rf, sf, "B") == by_source(rc, sc, "B") == expected_b
    # A is the adapter's model: the final adapter (PeftModel) and the step-2 checkpoint (base +
    # LoRA + trainable weights) both answer otherwise than the base (weights not applied = equal).
    assert by_source(rf, sf, "A") != expected_b and by_source(rc, sc, "A") != expected_b
    assert by_source(rf, sf, "A") != by_source(rc, sc, "A")


# ---------------------------------------------------------------- bad input

def test_a_run_without_model_or_eval_split_is_refused_clearly(full_run, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(full_run / "config.json", bare / "config.json")
    with pytest.raises(ConfigError, match="has no final model and no checkpoint"):
        generate(bare, greedy=True)
    with pytest.raises(ConfigError, match="not a run folder"):
        generate(tmp_path, greedy=True)
    with pytest.raises(ConfigError, match="no checkpoint 'step-9'"):
        generate(full_run, checkpoint="step-9", greedy=True)
    cfg = json.loads((full_run / "config.json").read_text())
    no_eval = tmp_path / "no-eval"
    shutil.copytree(full_run, no_eval)
    (no_eval / "config.json").write_text(json.dumps({**cfg, "eval_split": 0.0}))
    with pytest.raises(DataError, match="no eval split") as e:
        generate(no_eval, greedy=True)
    assert "--prompts" in e.value.hint
    empty = tmp_path / "empty.jsonl"
    empty.write_text("nope\n{}\n")
    with pytest.raises(DataError, match=r"empty\.jsonl: no prompts to sample \(1 json, 1 no_prompt\)"):
        generate(full_run, prompts=str(empty), greedy=True)
    with pytest.raises(ConfigError, match="--out must end in .pref.jsonl"):
        generate(full_run, out=str(tmp_path / "x.jsonl"), greedy=True)
    with pytest.raises(ConfigError, match="--batch-size must be at least 1"):
        generate(full_run, batch_size=0)


def test_the_cli_process_writes_schema_valid_events(full_run, tmp_path):
    out = tmp_path / "cli.pref.jsonl"
    code, events, stderr = run_trainer(["generate", str(full_run), "--out", str(out), "--max-new-tokens", "4", "--greedy", "--num-prompts", "2"])
    assert code == 0, stderr
    assert [e["type"] for e in events] == ["generate_start", "generate_progress", "generate_end"]
    assert events[-1]["status"] == "completed" and len(jsonl(out)) == 2
    code, events, stderr = run_trainer(["generate", str(tmp_path)])
    assert code == 1 and [e["type"] for e in events] == ["error", "generate_end"]
    assert events[0]["error_type"] == "config" and "not a run folder" in events[0]["message"]


def test_two_processes_split_the_prompts_and_write_what_one_writes(full_run, tmp_path):
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"Question {i}?"} for i in range(7)])
    one, two = tmp_path / "one.pref.jsonl", tmp_path / "two.pref.jsonl"
    args = ["--prompts", str(src), "--max-new-tokens", "6", "--greedy", "--batch-size", "2"]
    proc = subprocess.run(torchrun_two("-m", "rpo_trainer", "generate", str(full_run), "--out", str(two), *args),
                          capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = parse_events(proc.stdout)
    assert events[0]["num_processes"] == 2 and sum(e["type"] == "generate_start" for e in events) == 1
    code, _, stderr = run_trainer(["generate", str(full_run), "--out", str(one), *args])
    assert code == 0, stderr
    # Greedy: rank r of a global batch of 4 answers the same 2 prompts as one process's batch.
    assert two.read_bytes() == one.read_bytes()
    assert gen_files.sidecar_path(two).read_bytes() == gen_files.sidecar_path(one).read_bytes()


def test_candidates_pair_key_is_the_golden_pair_key_in_either_order():
    cases = [c for c in json.loads((GOLDEN / "pair-keys.json").read_text("utf-8"))["cases"]
             if "prompt" in c["record"] and "chosen" in c["record"]]
    assert len(cases) >= 3
    for c in cases:
        r = c["record"]
        assert gen_files.candidates_pair_key(r["prompt"], r["chosen"], r["rejected"]).hex() == c["key"]
        assert gen_files.candidates_pair_key(r["prompt"], r["rejected"], r["chosen"]).hex() == c["key"]
        assert spec_key(r["prompt"], r["chosen"], r["rejected"]) == c["key"]  # the test's own reading of §8


# ---------------------------------------------------------------- one generator per output (<out>.lock)

def test_a_second_generator_on_the_same_output_refuses_naming_the_running_pid(full_run, tmp_path):
    """A generation still running (another terminal) holds <out>.lock; a second process on
    the same output refuses and writes nothing; once the first ends the lock is gone."""
    import time

    from rpo_trainer import gen_lock

    out = tmp_path / "not-yet" / "locked.pref.jsonl"  # the folder is made by the generator
    argv = ["generate", str(full_run), "--out", str(out), "--max-new-tokens", "4", "--greedy", "--num-prompts", "2"]
    first = subprocess.Popen([sys.executable, "-m", "rpo_trainer", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=subprocess_env())
    lock = gen_lock.lock_path(out)
    try:
        deadline = time.monotonic() + 120
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert lock.exists(), f"no {lock.name} while the first generator ran"
        # The lock is taken before the models load: the first generator is still running here. Hold it there.
        os.kill(first.pid, signal.SIGSTOP)
        record = json.loads(lock.read_text())
        assert record["pid"] == first.pid and record["argv"][1:] == ["-m", "rpo_trainer", *argv]
        before = out.read_bytes() if out.exists() else None
        code, events, stderr = run_trainer(argv)
        assert code == 1, stderr
        assert events[0]["type"] == "error" and events[0]["error_type"] == "config"
        assert f"pid {first.pid}" in events[0]["message"] and "another generation" in events[0]["message"]
        assert (out.read_bytes() if out.exists() else None) == before
        assert json.loads(lock.read_text()) == record
    finally:
        if first.poll() is None:
            os.kill(first.pid, signal.SIGCONT)
    stdout, stderr = first.communicate(timeout=240)
    assert first.returncode == 0, stderr
    assert parse_events(stdout)[-1]["status"] == "completed"
    assert len(jsonl(out)) == 2 and not lock.exists()


def test_a_stale_lock_is_taken_over(full_run, tmp_path):
    """A lock whose pid has ended, or whose pid now runs another program, does not block."""
    from rpo_trainer import gen_lock

    out = tmp_path / "stale.pref.jsonl"
    argv = ["generate", str(full_run), "--out", str(out), "--max-new-tokens", "4", "--greedy", "--num-prompts", "2"]
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = gen_lock.lock_path(out)
    lock.write_text(json.dumps({"pid": dead.pid, "argv": [sys.executable, "-m", "rpo_trainer", *argv], "startedAt": "2026-01-01T00:00:00+00:00"}))
    code, events, stderr = run_trainer(argv)
    assert code == 0, stderr
    assert events[-1]["status"] == "completed" and not lock.exists()
    # A live pid with another command line (a pid reused since): stale too.
    me = gen_lock.own_record()
    assert gen_lock.holder_alive(me)
    assert not gen_lock.holder_alive({**me, "argv": [me["argv"][0], "-m", "rpo_trainer", *argv]})
    assert not gen_lock.holder_alive({**me, "startedAt": "2026-01-01T00:00:00+00:00"})
    assert not gen_lock.holder_alive({"pid": dead.pid, "argv": me["argv"], "startedAt": me["startedAt"]})


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_asks_generation_to_stop_and_says_the_records_written_are_kept(sig, capfd):
    from rpo_trainer.generate import stop_flag

    flag = stop_flag()
    flag.install()
    try:
        os.kill(os.getpid(), getattr(signal, sig))
        os.kill(os.getpid(), getattr(signal, sig))  # a second one is not told twice
    finally:
        flag.uninstall()
    assert flag.requested and flag.reason == sig
    err = capfd.readouterr().err
    assert err.count(f"{sig}: stopping; the records written are kept (run the same command again to continue)") == 1, err
    assert "checkpoint" not in err


# ---------------------------------------------------------------- the launcher gone

def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def _wait_for(flag, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while not flag.requested and time.monotonic() < deadline:
        time.sleep(0.02)
    return flag.requested


@pytest.mark.parametrize("reaped", [True, False], ids=["reaped", "zombie"])
def test_the_launcher_watch_asks_to_stop_once_the_launcher_has_exited(reaped, capfd):
    from rpo_trainer import gen_launcher
    from rpo_trainer.generate import stop_flag

    launcher = _sleeper()
    flag = stop_flag()
    try:
        assert gen_launcher.watch(flag, {gen_launcher.ENV: str(launcher.pid)}, interval=0.05) is not None
        assert not _wait_for(flag, 0.5), "stopped while its launcher runs"
        launcher.kill()
        if reaped:
            launcher.wait()  # gone; not reaped, it stays a zombie until wait() below
        assert _wait_for(flag, 3.0)
    finally:
        launcher.kill()
        launcher.wait()
    reason = f"the process that launched this generation (pid {launcher.pid}) has exited"
    assert flag.reason == reason
    assert f"{reason}: stopping; the records written are kept" in capfd.readouterr().err


def test_the_launcher_watch_without_a_launcher_or_with_one_already_gone():
    from rpo_trainer import gen_launcher
    from rpo_trainer.generate import stop_flag

    for environ in ({}, {gen_launcher.ENV: ""}, {gen_launcher.ENV: "not-a-pid"}):
        flag = stop_flag()
        assert gen_launcher.watch(flag, environ, interval=0.01) is None
        assert not _wait_for(flag, 0.1), environ
    gone = _sleeper()
    gone.kill()
    gone.wait()
    flag = stop_flag()
    assert gen_launcher.watch(flag, {gen_launcher.ENV: str(gone.pid)}) is None and flag.requested


def test_two_processes_both_stop_when_the_launcher_exits_and_the_file_continues(full_run, tmp_path):
    """Each rank watches the launcher on its own clock; the ranks agree on the stop through the
    batch's gather, so neither waits forever in a gather the other never reaches."""
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"Question {i}?"} for i in range(400)])
    out = tmp_path / "two.pref.jsonl"
    args = ["--prompts", str(src), "--out", str(out), "--max-new-tokens", "24"]
    command = torchrun_two("-m", "rpo_trainer", "generate", str(full_run), *args, "--batch-size", "1")
    launcher = _sleeper()
    env = {**subprocess_env(), "RPO_LAUNCHER_PID": str(launcher.pid)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for line in proc.stdout:
            if '"generate_progress"' in line:
                break
        launcher.kill()
        launcher.wait()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        launcher.kill()
        launcher.wait()
        proc.kill()
    assert proc.returncode == 0, stderr[-3000:]
    end = parse_events(stdout)[-1]
    assert end["type"] == "generate_end" and end["status"] == "stopped", end
    assert 2 <= end["done"] < 400 and end["done"] % 2 == 0
    # One rank's watch may see it first; the other stops on the gathered flag.
    assert "the process that launched this generation" in stderr
    assert f"rank 0] stopped: {end['done']} of 400" in stderr and f"rank 1] stopped: {end['done']} of 400" in stderr
    records, _, rows = read_pair(out)
    assert len(records) == len(rows) == end["done"]
    # Only the batch size may change when continuing.
    code, events, stderr = run_trainer(["generate", str(full_run), *args, "--batch-size", "32"], timeout=600)
    assert code == 0 and events[-1]["status"] == "completed", stderr[-3000:]
    assert len(read_pair(out)[0]) == 400


RANK0_STOPS_BETWEEN_BATCHES = """
import json, os, sys
from pathlib import Path
from rpo_trainer.events import EventWriter
from rpo_trainer.generate import Request, Settings, run_generation, stop_flag

class Events(EventWriter):
    # Only rank 0 emits: its stop comes after a batch's gather, where rank 1 cannot see it.
    def emit(self, type_, **fields):
        event = super().emit(type_, **fields)
        if type_ == "generate_progress":
            stop.requested = True
        return event

stop = stop_flag()
run_dir, src, out = sys.argv[1:4]
settings = Settings(max_new_tokens=4, greedy=True, batch_size=1)
end = run_generation(Request(run_dir=Path(run_dir), prompts=src, out=out, settings=settings), Events(enabled=True), stop)
Path(out).with_name(f"end-{os.environ['RANK']}.json").write_text(json.dumps(end))
"""


def test_two_processes_agree_on_a_stop_only_one_rank_has_seen(full_run, tmp_path):
    """A stop one rank sees after a batch's gather (a signal, the launcher watch) must stop the
    other rank too, at the next batch's gather; acting on it alone left the other waiting there."""
    script = tmp_path / "two_ranks.py"
    script.write_text(RANK0_STOPS_BETWEEN_BATCHES, encoding="utf-8")
    src = write_jsonl(tmp_path / "p.jsonl", [{"prompt": f"Question {i}?"} for i in range(40)])
    out = tmp_path / "two.pref.jsonl"
    proc = subprocess.Popen(torchrun_two(str(script), str(full_run), str(src), str(out)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(), start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its ranks
        proc.communicate()
        pytest.fail("the ranks did not agree on the stop: one waits in a gather the other never reaches")
    assert proc.returncode == 0, stderr[-3000:]
    ends = [json.loads((tmp_path / f"end-{rank}.json").read_text()) for rank in (0, 1)]
    assert len(ends) == 2 and all(e["status"] == "stopped" and e["done"] == 2 for e in ends), ends
    assert len(read_pair(out)[0]) == 2
