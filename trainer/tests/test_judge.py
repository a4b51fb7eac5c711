"""The automatic judge (rpo_trainer/judge.py) as a real process on a tiny sequence-classification
model made locally from the tiny model's config: votes named model:<name>, the higher score's
response chosen (scores recomputed here with transformers directly), every other byte kept, the
file replaced atomically, labeled / invalid / blank lines untouched."""

import json
import subprocess
import sys

import pytest

from conftest import subprocess_env

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

VOTE_KEYS = ["annotator", "time", "choice", "strength", "status", "note", "shown", "adjudicator"]


@pytest.fixture(scope="module")
def reward_model(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("rm") / "tiny-rm"
    config = transformers.AutoConfig.from_pretrained(tiny_model)
    config.num_labels = 1
    torch.manual_seed(0)
    model = transformers.AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(out)
    transformers.AutoTokenizer.from_pretrained(tiny_model).save_pretrained(out)
    return out


def scores(model_dir, prompt, responses):
    """Independent scoring: the chat template over [user prompt, assistant response], last-token logit."""
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    out = []
    for r in responses:
        msgs = ([{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt) + ([{"role": "assistant", "content": r}] if isinstance(r, str) else r)
        ids = tok(tok.apply_chat_template(msgs, tokenize=False), return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out.append(model(**ids).logits[0, 0].item())
    return out


def lines_of(data: bytes):
    return data.split(b"\n")


def test_judge_prefills_machine_votes_and_keeps_every_other_byte(reward_model, tmp_path):
    conv = [{"role": "user", "content": "Name a colour?"}]
    raw = [
        "\ufeff" + json.dumps({"prompt": "Say hi", "responses": ["hello there", "hi"]}) + "\r\n",  # BOM, CRLF, spaced
        json.dumps({"prompt": "2+2?", "responses": ["4", "four, of course"], "extra": 1.0}, separators=(",", ":")) + "\n",  # compact
        json.dumps({"prompt": conv, "responses": [[{"role": "assistant", "content": "blue"}], [{"role": "assistant", "content": "grün 🌿"}]]}, ensure_ascii=False) + "\n",
        "\n",  # blank
        '{"prompt": "broken", "responses": [\n',  # invalid
        json.dumps({"prompt": "p", "chosen": "a", "rejected": "b", "rpo_label": {"annotator": "ada", "time": "2026-12-01T00:00:00.000Z", "status": None, "strength": None, "note": None, "shown": None, "from_responses": [0, 1]}}) + "\n",
        json.dumps({"prompt": "last", "responses": ["x", "y"]}),  # no final newline
    ]
    f = tmp_path / "s.pref.jsonl"
    f.write_bytes("".join(raw).encode("utf-8"))
    before = f.read_bytes()
    r = subprocess.run([sys.executable, "-m", "rpo_trainer.judge", str(f), "--model", str(reward_model), "--batch-size", "2"],
                       capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["voted"] == 4 and result["labeled"] == 1 and result["invalid"] == 1 and result["annotator"] == "model:tiny-rm"
    after = f.read_bytes()
    old, new = lines_of(before), lines_of(after)
    assert len(old) == len(new)
    voted = {0, 1, 2, 6}
    for i, (a, b) in enumerate(zip(old, new)):
        if i not in voted:
            assert a == b, f"line {i + 1} changed"
            continue
        a_body, b_body = a.rstrip(b"\r"), b.rstrip(b"\r")
        assert a.endswith(b"\r") == b.endswith(b"\r")
        # every byte before the closing brace is kept; only the votes are added
        assert b_body.startswith(a_body[:-1]) and b_body.endswith(b"]}")
        rec = json.loads(b_body.decode("utf-8").lstrip("\ufeff"))
        orig = json.loads(a_body.decode("utf-8").lstrip("\ufeff"))
        assert list(rec) == list(orig) + ["rpo_votes"]
        (vote,) = rec["rpo_votes"]
        assert list(vote) == VOTE_KEYS
        assert vote["annotator"] == "model:tiny-rm" and vote["shown"] is None and vote["adjudicator"] is False and vote["strength"] is None
        s = scores(reward_model, orig["prompt"], orig["responses"])
        expected = "responses.0" if s[0] > s[1] else "responses.1"
        assert vote["choice"] == expected, (s, vote)
        assert vote["status"] is None
    # the separator style of each line is kept
    assert b'"extra":1.0,"rpo_votes":[{"annotator":"model:tiny-rm"' in new[1]
    assert b'"rpo_votes": [{"annotator": "model:tiny-rm"' in new[0]
    assert "grün 🌿".encode() in new[2]


def test_judge_refuses_a_person_name_and_writes_nothing(reward_model, tmp_path):
    f = tmp_path / "s.pref.jsonl"
    f.write_text(json.dumps({"prompt": "a", "responses": ["b", "c"]}) + "\n")
    before = f.read_bytes()
    r = subprocess.run([sys.executable, "-m", "rpo_trainer.judge", str(f), "--model", str(reward_model), "--annotator", "ada"],
                       capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert r.returncode == 1
    assert "must start with 'model:'" in r.stderr
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.pref.jsonl"]


def test_judge_out_leaves_the_input_alone(reward_model, tmp_path):
    f = tmp_path / "s.pref.jsonl"
    f.write_text(json.dumps({"prompt": "a", "responses": ["b", "c"]}) + "\n")
    before = f.read_bytes()
    out = tmp_path / "judged.pref.jsonl"
    # the trainer CLI's subcommand form
    r = subprocess.run([sys.executable, "-m", "rpo_trainer", "judge", str(f), "--model", str(reward_model), "--out", str(out), "--annotator", "model:rm-1"],
                       capture_output=True, text=True, env=subprocess_env(), timeout=300)
    assert r.returncode == 0, r.stderr
    assert f.read_bytes() == before
    assert json.loads(out.read_text())["rpo_votes"][0]["annotator"] == "model:rm-1"
