"""The training methods: schemas/methods.json, the table the extension reads too (no torch here).

`data` says which records train (docs/contracts.md section 4), `embeddings` whether the loss
weights pairs by prompt similarity and so reads the embedding cache.
"""

from __future__ import annotations

import json
from pathlib import Path

_TABLE: dict[str, dict] = json.loads((Path(__file__).resolve().parent / "schemas" / "methods.json").read_text("utf-8"))["methods"]

METHODS: tuple[str, ...] = tuple(_TABLE)
PAIRED_METHODS: tuple[str, ...] = tuple(m for m, t in _TABLE.items() if t["data"] == "paired")
UNPAIRED_METHODS: tuple[str, ...] = tuple(m for m, t in _TABLE.items() if t["data"] == "unpaired")
EMBEDDING_METHODS: tuple[str, ...] = tuple(m for m, t in _TABLE.items() if t["embeddings"])
