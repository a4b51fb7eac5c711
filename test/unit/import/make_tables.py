"""Writes the tables the import/export tests read, with pyarrow and datasets (the trainer's venv).

Usage: python make_tables.py OUT_DIR

Schemas follow the public datasets they imitate (HuggingFaceH4/ultrafeedback_binarized,
stanfordnlp/SHP, lvwerra/stack-exchange-paired, trl-lib KTO-style unpaired, an Argilla
preference export). For each table NAME it also writes NAME.expected.jsonl: the records
`rpo import` must write with the proposed mapping, as Python's json.dumps writes them (compact
separators, floats with a decimal point, integers exact), in the record's field order.
"""

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

MSG = pa.struct([("content", pa.string()), ("role", pa.string())])
MSGS = pa.list_(MSG)
LONG = "long answer " * 20000  # 240 kB of text in one cell


def conv(user, assistant):
    return [{"content": user, "role": "user"}, {"content": assistant, "role": "assistant"}]


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def expected(name, rows):
    (out / f"{name}.expected.jsonl").write_text("".join(dumps(r) + "\n" for r in rows), encoding="utf-8")


# ---- UltraFeedback binarized: string prompt, conversational chosen/rejected, float scores.
uf_rows = [
    {"prompt": "What is 2+2?", "prompt_id": "a1", "chosen": conv("What is 2+2?", "4"), "rejected": conv("What is 2+2?", "5"),
     "messages": conv("What is 2+2?", "4"), "score_chosen": 8.0, "score_rejected": 3.5},
    {"prompt": "Écris un haïku 🌸", "prompt_id": "b2", "chosen": conv("Écris un haïku 🌸", "Cerisiers en fleur\n…"), "rejected": conv("Écris un haïku 🌸", LONG),
     "messages": conv("Écris un haïku 🌸", "Cerisiers en fleur\n…"), "score_chosen": 9.25, "score_rejected": 1.0},
    {"prompt": "Quote \"this\"\tplease", "prompt_id": "c3", "chosen": conv("Quote \"this\"\tplease", "\"this\""), "rejected": conv("Quote \"this\"\tplease", "no"),
     "messages": None, "score_chosen": 7.0, "score_rejected": None},
]
uf = pa.table({
    "prompt": pa.array([r["prompt"] for r in uf_rows], pa.string()),
    "prompt_id": pa.array([r["prompt_id"] for r in uf_rows], pa.string()),
    "chosen": pa.array([r["chosen"] for r in uf_rows], MSGS),
    "rejected": pa.array([r["rejected"] for r in uf_rows], MSGS),
    "messages": pa.array([r["messages"] for r in uf_rows], MSGS),
    "score_chosen": pa.array([r["score_chosen"] for r in uf_rows], pa.float64()),
    "score_rejected": pa.array([r["score_rejected"] for r in uf_rows], pa.float64()),
})
pq.write_table(uf, out / "ultrafeedback.parquet", row_group_size=2)  # two row groups
pq.write_table(uf, out / "ultrafeedback-zstd.parquet", compression="zstd")
feather.write_feather(uf, out / "ultrafeedback.arrow", compression="uncompressed")  # Arrow IPC file format
feather.write_feather(uf, out / "ultrafeedback-lz4.arrow")  # pyarrow's default: LZ4-compressed batches
expected("ultrafeedback", [
    {"chosen": r["chosen"], "rejected": r["rejected"], "source_prompt": r["prompt"], "prompt_id": r["prompt_id"],
     "messages": r["messages"], "score_chosen": r["score_chosen"], "score_rejected": r["score_rejected"]}
    for r in uf_rows
])

# ---- SHP: history + two human references + labels (1: A preferred).
shp_rows = [
    {"post_id": "p1", "domain": "askscience", "upvote_ratio": 0.98, "history": "Why is the sky blue?", "c_root_id_A": "x1", "c_root_id_B": "y1",
     "created_at_utc_A": 1600000000, "created_at_utc_B": 1600000100, "score_A": 120, "score_B": 7,
     "human_ref_A": "Rayleigh scattering.", "human_ref_B": "Because it is.", "labels": 1, "seconds_difference": 100.0, "score_ratio": 17.142857142857142},
    {"post_id": "p2", "domain": "askscience", "upvote_ratio": 0.5, "history": "Is water wet?", "c_root_id_A": "x2", "c_root_id_B": "y2",
     "created_at_utc_A": 1600000200, "created_at_utc_B": 1600000300, "score_A": 2, "score_B": 40,
     "human_ref_A": "No.", "human_ref_B": "It depends on the definition of wet.", "labels": 0, "seconds_difference": 100.0, "score_ratio": 20.0},
]
shp = pa.Table.from_pylist(shp_rows)
pq.write_table(shp, out / "shp.parquet")
keep = ["post_id", "domain", "upvote_ratio", "c_root_id_A", "c_root_id_B", "created_at_utc_A", "created_at_utc_B", "score_A", "score_B", "seconds_difference", "score_ratio"]
expected("shp", [
    {"prompt": r["history"], "chosen": r["human_ref_A"] if r["labels"] == 1 else r["human_ref_B"], "rejected": r["human_ref_B"] if r["labels"] == 1 else r["human_ref_A"],
     **{k: r[k] for k in keep}}
    for r in shp_rows
])

# ---- stack-exchange-paired: question / response_j / response_k; a list<string> column and an int64 id
# beyond 2^53. Saved with datasets (Arrow streaming format), in two shards.
stack_rows = [
    {"qid": 2**60 + 1, "question": "How do I reverse a list in Python?", "date": "2020/01/01", "metadata": ["https://so/q/1", "https://so/q/2"],
     "response_j": "Use `lst[::-1]` or `reversed(lst)`.", "response_k": "You cannot."},
    {"qid": 7, "question": "What is a monad?", "date": "2020/01/02", "metadata": [],
     "response_j": "A monoid in the category of endofunctors.", "response_k": "A kind of salad."},
    {"qid": 8, "question": "Tabs or spaces?", "date": "2020/01/03", "metadata": ["https://so/q/3"],
     "response_j": "Spaces, per PEP 8.", "response_k": "Both at once."},
]
stack_schema = pa.schema([("qid", pa.int64()), ("question", pa.string()), ("date", pa.string()), ("metadata", pa.list_(pa.string())),
                          ("response_j", pa.string()), ("response_k", pa.string())])
stack = pa.Table.from_pylist(stack_rows, schema=stack_schema)
pq.write_table(stack, out / "stack.parquet")
expected("stack", [
    {"prompt": r["question"], "chosen": r["response_j"], "rejected": r["response_k"], "qid": r["qid"], "date": r["date"], "metadata": r["metadata"]}
    for r in stack_rows
])
import datasets  # noqa: E402  (slow import: only here)

ds = datasets.Dataset(stack)
ds.save_to_disk(str(out / "stack-ds"), num_shards=2)

# ---- Unpaired (KTO-style): prompt / completion / label with a null label (awaiting a thumbs).
kto_rows = [
    {"prompt": "Say hi", "completion": "Hi!", "label": True},
    {"prompt": "Say hi", "completion": "Go away.", "label": False},
    {"prompt": "Say bye", "completion": "Bye!", "label": None},
]
pq.write_table(pa.Table.from_pylist(kto_rows), out / "kto.parquet")
expected("kto", kto_rows)

# ---- Argilla preference export: instruction / chosen_response / rejected_response with ratings.
arg_rows = [
    {"instruction": "Name a colour", "chosen_response": "Blue", "chosen_rating": 5, "rejected_response": "Seven", "rejected_rating": 1, "status": "submitted"},
]
pq.write_table(pa.Table.from_pylist(arg_rows), out / "argilla.parquet")
expected("argilla", [
    {"prompt": "Name a colour", "chosen": "Blue", "rejected": "Seven", "chosen_rating": 5, "rejected_rating": 1, "status": "submitted"},
])

# ---- Nulls in mapped fields: rows 2 (response_k) and 3 (question) are not importable.
nulls = pa.table({
    "question": pa.array(["q1", "q2", None, "q4"]),
    "response_j": pa.array(["a1", "a2", "a3", "a4"]),
    "response_k": pa.array(["b1", None, "b3", "b4"]),
})
pq.write_table(nulls, out / "nulls.parquet")

# ---- A column of a type JSON cannot hold (binary) and one it could not round-trip (timestamp).
unsupported = pa.table({
    "prompt": pa.array(["p"]), "chosen": pa.array(["c"]), "rejected": pa.array(["r"]),
    "blob": pa.array([b"\x00\x01"], pa.binary()),
    "when": pa.array([0], pa.timestamp("ms")),
})
pq.write_table(unsupported, out / "unsupported.parquet")

# ---- Bad files.
(out / "not-parquet.parquet").write_text("prompt,chosen,rejected\np,c,r\n")
data = (out / "ultrafeedback.parquet").read_bytes()
(out / "truncated.parquet").write_bytes(data[: len(data) // 2])


# ---- A file whose footer reads but whose second row group is damaged (fails mid-import).
meta = pq.ParquetFile(out / "ultrafeedback.parquet").metadata
col = meta.row_group(1).column(0)
start = col.dictionary_page_offset or col.data_page_offset
damaged = bytearray(data)
damaged[start:start + col.total_compressed_size] = b"\xff" * col.total_compressed_size
(out / "damaged.parquet").write_bytes(bytes(damaged))
print("ok")
