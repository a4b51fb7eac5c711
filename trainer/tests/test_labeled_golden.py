"""The labeling core (TypeScript) writes test/golden/labeled.pref.jsonl; the Python side must read
it the same way: the trainer's loader picks exactly the usable lines the TypeScript side expects
(docs/contracts.md section 4), and pandas / Hugging Face datasets load the `rpo_label` column
(one consistent shape, docs/formats.md). Regenerate with `UPDATE_GOLDEN=1 node --import tsx
--test test/unit/dataset/golden.test.ts`.
"""

import json

import pytest

from conftest import REPO
from rpo_trainer.data import load_dataset

GOLDEN = REPO / "test" / "golden" / "labeled.pref.jsonl"
EXPECTED = json.loads((REPO / "test" / "golden" / "labeled.expected.json").read_text())


def test_trainer_loader_agrees_with_the_labeling_core():
    paired = load_dataset(GOLDEN, paired=True)
    assert [r.line for r in paired.records] == EXPECTED["usable_paired_lines"]
    for r in paired.records:
        assert r.chosen == EXPECTED["chosen_by_line"][str(r.line)]
    for reason, n in EXPECTED["left_out"].items():
        assert paired.left_out[reason] == n, (reason, dict(paired.left_out))
    unpaired = load_dataset(GOLDEN, paired=False)
    assert [r.line for r in unpaired.records if r.chosen is None] == EXPECTED["usable_unpaired_lines"]


def test_pandas_and_datasets_read_the_label_column():
    pd = pytest.importorskip("pandas")
    df = pd.read_json(GOLDEN, lines=True)
    assert len(df) == 17
    labels = [x for x in df["rpo_label"] if isinstance(x, dict)]
    assert len(labels) == 12
    assert {tuple(list(x)[:6]) for x in labels} == {("annotator", "time", "status", "strength", "note", "shown")}

    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(GOLDEN), split="train")
    assert ds.num_rows == 17
    assert ds[1]["rpo_label"]["flipped"] is True
    assert ds[2]["rpo_label"]["status"] == "tie"
    assert ds[0]["rpo_label"] is None


VOTE_KEYS = ["annotator", "time", "choice", "strength", "status", "note", "shown", "adjudicator"]


def test_votes_load_as_one_list_of_struct_column(tmp_path):
    """rpo_votes (docs/formats.md, "Votes"): pyarrow, pandas and datasets read one list<struct> type."""
    pa_json = pytest.importorskip("pyarrow.json")
    pa = pytest.importorskip("pyarrow")
    # pyarrow's reader wants one type per column: the golden file's string-prompt paired records
    lines = GOLDEN.read_text().splitlines()
    p = tmp_path / "std.pref.jsonl"
    p.write_text("\n".join(lines[:7] + lines[14:]) + "\n")
    table = pa_json.read_json(p)
    t = table.schema.field("rpo_votes").type
    assert pa.types.is_list(t) and pa.types.is_struct(t.value_type)
    assert [f.name for f in t.value_type] == VOTE_KEYS
    assert t.value_type.field("adjudicator").type == pa.bool_()
    assert t.value_type.field("shown").type == pa.list_(pa.string())
    votes = table.column("rpo_votes").to_pylist()
    assert [len(v) if v else 0 for v in votes] == [0] * 8 + [2, 3]
    assert [v["choice"] for v in votes[9]] == ["rejected", "chosen", "chosen"]
    df = pytest.importorskip("pandas").read_json(p, lines=True)
    assert list(df["rpo_votes"][9][0]) == VOTE_KEYS

    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(GOLDEN), split="train")
    assert ds[15]["rpo_label"]["status"] == "disputed"
    assert [v["annotator"] for v in ds[16]["rpo_votes"]] == ["ada", "bo", "cy"]


def test_malformed_votes_stop_the_loader_naming_the_field(tmp_path):
    from rpo_trainer.errors import DataError

    lines = GOLDEN.read_text().splitlines()
    bad = json.loads(lines[16])
    bad["rpo_votes"][1]["choice"] = "responses.0"
    p = tmp_path / "bad.pref.jsonl"
    p.write_text(json.dumps(bad) + "\n")
    with pytest.raises(DataError, match=r'bad.pref.jsonl:1: field "rpo_votes\[1\].choice" must be one of chosen, rejected'):
        load_dataset(p, paired=True)
