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
    assert len(df) == 15
    labels = [x for x in df["rpo_label"] if isinstance(x, dict)]
    assert len(labels) == 10
    assert {tuple(list(x)[:6]) for x in labels} == {("annotator", "time", "status", "strength", "note", "shown")}

    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("json", data_files=str(GOLDEN), split="train")
    assert ds.num_rows == 15
    assert ds[1]["rpo_label"]["flipped"] is True
    assert ds[2]["rpo_label"]["status"] == "tie"
    assert ds[0]["rpo_label"] is None
