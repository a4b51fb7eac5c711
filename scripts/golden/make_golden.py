#!/usr/bin/env python3
"""Golden vectors shared by the TypeScript preview and the Python trainer (docs/contracts.md).

Pure Python, float64, no numpy: this file is the reference implementation both sides are checked
against, so it is written to be read. Run from the repository root:

    python3 scripts/golden/make_golden.py          # rewrites test/golden/{contrast,sampler}.json
    python3 scripts/golden/make_golden.py --check  # exits 1 if the committed files differ

Both files are deterministic (inputs come from mulberry32, below). Tolerance for floats: 1e-6
absolute. Integers (PRNG outputs, permutations, batches) must match exactly.

test/golden/contrast.json
-------------------------
{
  "version": 1, "tolerance": 1e-6,
  "prompt_keys": [ { "prompt": str | [{"role","content"}...],       contracts §1
                     "text": str,                                   promptText(prompt)
                     "sha256": hex str } ],                         SHA-256 of UTF-8 text
  "paired": [ {                                                     contracts §3, M x M
      "name": str,
      "embeddings": [[float]*D]*M,      prompt i's embedding, NOT normalised (scale varies)
      "tau": float, "beta": float, "diagonal_weight": float (a for rpo-diagonal, 0.8),
      "chosen_logratios":   [float]*M,  r_w,i = policy - reference logp of chosen i
      "rejected_logratios": [float]*M,  r_l,j
      "expected": {
        "cosine":  [[float]*M]*M,       cos_ij of the raw embeddings
        "weights": [[float]*M]*M,       softmax_j(cos_ij / tau), rows sum to 1
        "effective_beta": [float]*M,    beta * w_ii
        "off_diagonal_mass": float,     (sum of w_ij, i != j) / M  = 1 - mean_i w_ii
        "losses": { "rpo", "rpo-uniform", "rpo-diagonal" (a = diagonal_weight),
                    "rpo-diagonal-a1" (a = 1), "dpo", "ipo" : float } },
      "smoothed": { "eps": [float]*M,   label smoothing eps_i of row i (0 <= eps_i <= 0.5)
                    "losses": { same keys }  every term l(s) of row i becomes
                                             (1 - eps_i) l(s) + eps_i l(-s); ipo: (1 - eps_i)(s_ii - 1/(2 beta))^2
                                             + eps_i (s_ii + 1/(2 beta))^2 } } ],
  "unpaired": [ {                                                   Mc x Nr, softmax over j
      "name": str,
      "chosen_embeddings": [[float]*D]*Mc, "rejected_embeddings": [[float]*D]*Nr,
      "tau", "beta", "chosen_logratios": [float]*Mc, "rejected_logratios": [float]*Nr,
      "expected": { "cosine": [[float]*Nr]*Mc, "weights": [[float]*Nr]*Mc,
                    "loss": float,            mean over (i, j) of -log sigmoid(beta w_ij s_ij);
                                              0.0 when Mc = 0 or Nr = 0 (no terms, no NaN)
                    "terms": int },           Mc * Nr, the number of loss terms
      "smoothed": { "chosen_eps": [float]*Mc, "rejected_eps": [float]*Nr,
                    "loss": float } } ]       term (i, j) smoothed with (eps_i + eps_j) / 2
}

test/golden/sampler.json
------------------------
{
  "version": 1,
  "mulberry32": [ { "seed": int (may exceed 2^32: reduced mod 2^32),
                    "outputs": [uint32]*10 } ],          first ten next() values
  "shuffle": [ { "seed": int, "n": int, "permutation": [int]*n } ],   shuffle(range(n), mulberry32(seed))
  "epochs": [ {                                          contracts §5 without similarity batching
      "name": str, "n": int, "seed": int, "epoch": int, "batch_size": int, "num_processes": int,
      "expected": { "order": [int]*n,                    the epoch permutation
                    "batches": [[int]*G],                global batches after the drop rule
                    "ranks": [[[int]*B]*P],              per global batch, rank r's slice
                    "short_epoch": bool } } ],           n < G: one batch of everything
  "similarity": [ {                                      similarity-aware batching
      "name": str, "embeddings": [[float]*D]*n,          fp32-representable, L2-normalised
      "seed", "epoch", "batch_size", "num_processes",
      "expected": { "order": [int]*n,                    the epoch permutation p
                    "built": [[int]],                    batches as built, before the drop rule
                    "batch_order": [int],                shuffle of the kept batch indices
                    "batches": [[int]*G],                final global batches
                    "ranks": [[[int]*B]*P] } } ]
}
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- sampler (contracts §5)
#
# Written from the text of docs/contracts.md §5 alone, step by step as the contract states it,
# and deliberately not from trainer/rpo_trainer/sampler.py or src/core/sampler: the golden file
# checks those two implementations, so it must not be either of them.

TWO_32 = 2**32


def u32(x: int) -> int:
    """x mod 2^32 (every mulberry32 operation is mod 2^32)."""
    return x % TWO_32


def imul(a: int, b: int) -> int:
    """32-bit wrapping multiply."""
    return u32(a * b)


def mulberry32(seed: int):
    """The contract's generator as a closure: each call is one next(), an unsigned 32-bit int."""
    state = u32(seed)

    def next_u32() -> int:
        nonlocal state
        state = u32(state + 0x6D2B79F5)
        t = state
        t = imul(t ^ (t >> 15), t | 1)          # t >>> 15 on a value already in [0, 2^32)
        t = t ^ u32(t + imul(t ^ (t >> 7), t | 61))
        return u32(t ^ (t >> 14))

    return next_u32


class Mulberry32:
    """mulberry32 for making test inputs: next() and a float in [0, 1)."""

    def __init__(self, seed: int) -> None:
        self.next = mulberry32(seed)

    def uniform(self) -> float:
        return self.next() / TWO_32


def shuffle(items: list, next_u32) -> list:
    """Fisher-Yates from the end: for i = n-1 down to 1, j = floor(next() * (i + 1) / 2^32)."""
    a = list(items)
    i = len(a) - 1
    while i >= 1:
        j = (next_u32() * (i + 1)) // TWO_32
        a[i], a[j] = a[j], a[i]
        i -= 1
    return a


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """shuffle([0..n-1], mulberry32(seed + e))."""
    return shuffle(list(range(n)), mulberry32(seed + epoch))


def split_ranks(batch: list[int], batch_size: int, num_processes: int) -> list[list[int]]:
    """Rank r takes [r*B, (r+1)*B) of a global batch (short or empty for the last ranks of a
    batch smaller than G)."""
    out = []
    for r in range(num_processes):
        out.append(batch[r * batch_size:(r + 1) * batch_size])
    return out


def keep_by_drop_rule(batches: list[list[int]], n: int, g: int) -> list[list[int]]:
    """Drop a last batch smaller than G, unless the epoch has fewer than G records (then its one
    batch of all of them stays)."""
    if n < g:
        return batches
    return [b for b in batches if len(b) == g]


def epoch_batches(n: int, seed: int, epoch: int, batch_size: int, num_processes: int) -> dict:
    g = batch_size * num_processes
    order = epoch_order(n, seed, epoch)
    positions = [order[k:k + g] for k in range(0, n, g)]  # global batch k = positions [kG, (k+1)G)
    batches = keep_by_drop_rule(positions, n, g)
    return {
        "order": order,
        "batches": batches,
        "ranks": [split_ranks(b, batch_size, num_processes) for b in batches],
        "short_epoch": n < g,
    }


def cosine_f64(u: list[float], v: list[float]) -> float:
    """The float64 dot of two cached (already L2-normalised, fp32) vectors, summed in dimension order."""
    total = 0.0
    for k in range(len(u)):
        total = total + float(u[k]) * float(v[k])
    return total


def similarity_batches(emb: list[list[float]], seed: int, epoch: int, batch_size: int,
                       num_processes: int) -> dict:
    g = batch_size * num_processes
    n = len(emb)
    p = epoch_order(n, seed, epoch)
    position = {item: pos for pos, item in enumerate(p)}
    remaining = list(p)  # always in p order
    built: list[list[int]] = []
    while len(remaining) > 0:
        anchor = remaining[0]
        candidates = remaining[1:][:16 * g]
        # Highest cosine first; among equal cosines the earlier in p.
        best = sorted(candidates, key=lambda item: (-cosine_f64(emb[anchor], emb[item]), position[item]))
        batch = [anchor] + best[:g - 1]
        built.append(batch)
        remaining = [item for item in remaining if item not in batch]
    kept = keep_by_drop_rule(built, n, g)  # the drop rule comes BEFORE the batch-order shuffle
    batch_order = shuffle(list(range(len(kept))), mulberry32(u32(seed + epoch + 0x9E3779B9)))
    batches = [kept[k] for k in batch_order]
    return {
        "order": p,
        "built": built,
        "batch_order": batch_order,
        "batches": batches,
        "ranks": [split_ranks(b, batch_size, num_processes) for b in batches],
    }


def dot(a: list[float], b: list[float]) -> float:
    s = 0.0
    for x, y in zip(a, b):
        s += x * y
    return s


# ---------------------------------------------------------------- contrast math (contracts §3)

def cosine_matrix(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
    na = [math.sqrt(dot(x, x)) for x in a]
    nb = [math.sqrt(dot(y, y)) for y in b]
    return [[dot(x, y) / (na[i] * nb[j]) for j, y in enumerate(b)] for i, x in enumerate(a)]


def softmax_rows(cos: list[list[float]], tau: float) -> list[list[float]]:
    out = []
    for row in cos:
        if not row:
            out.append([])
            continue
        m = max(row)
        e = [math.exp((c - m) / tau) for c in row]
        s = sum(e)
        out.append([x / s for x in e])
    return out


def neg_log_sigmoid(x: float) -> float:
    """-log(sigmoid(x)) = softplus(-x), stable for large |x|."""
    if x >= 0:
        return math.log1p(math.exp(-x))
    return -x + math.log1p(math.exp(x))


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def smoothed(x: float, eps: float) -> float:
    """Conservative DPO (Mitchell 2023): (1 - eps) * -log sigmoid(x) + eps * -log sigmoid(-x)."""
    return (1 - eps) * neg_log_sigmoid(x) + eps * neg_log_sigmoid(-x)


def paired_expected(emb, tau, beta, a, rw, rl, eps=None) -> dict:
    m = len(emb)
    e = eps if eps is not None else [0.0] * m
    cos = cosine_matrix(emb, emb)
    w = softmax_rows(cos, tau)
    s = [[rw[i] - rl[j] for j in range(m)] for i in range(m)]
    l_plain = [[smoothed(beta * s[i][j], e[i]) for j in range(m)] for i in range(m)]
    h = 1 / (2 * beta)

    def diagonal_loss(a_: float) -> float:
        per_row = []
        for i in range(m):
            off = [l_plain[i][j] for j in range(m) if j != i]
            # With M = 1 there is no off-diagonal pair: the row is its diagonal term alone.
            per_row.append(a_ * l_plain[i][i] + (1 - a_) * mean(off) if off else l_plain[i][i])
        return mean(per_row)

    return {
        "cosine": cos,
        "weights": w,
        "effective_beta": [beta * w[i][i] for i in range(m)],
        "off_diagonal_mass": 1.0 - mean([w[i][i] for i in range(m)]),
        "losses": {
            "rpo": mean([smoothed(beta * w[i][j] * s[i][j], e[i]) for i in range(m) for j in range(m)]),
            "rpo-uniform": mean([l_plain[i][j] for i in range(m) for j in range(m)]),
            "rpo-diagonal": diagonal_loss(a),
            "rpo-diagonal-a1": diagonal_loss(1.0),
            "dpo": mean([l_plain[i][i] for i in range(m)]),
            "ipo": mean([(1 - e[i]) * (s[i][i] - h) ** 2 + e[i] * (s[i][i] + h) ** 2 for i in range(m)]),
        },
    }


def unpaired_expected(ce, re_, tau, beta, rw, rl, ceps=None, reps=None) -> dict:
    cos = cosine_matrix(ce, re_)
    w = softmax_rows(cos, tau)
    ce_e = ceps if ceps is not None else [0.0] * len(ce)
    re_e = reps if reps is not None else [0.0] * len(re_)
    terms = [smoothed(beta * w[i][j] * (rw[i] - rl[j]), (ce_e[i] + re_e[j]) / 2) for i in range(len(ce)) for j in range(len(re_))]
    return {"cosine": cos, "weights": w, "loss": mean(terms), "terms": len(terms)}


# ---------------------------------------------------------------- inputs

def rand_vectors(rng: Mulberry32, n: int, d: int, scale_spread: bool = True) -> list[list[float]]:
    out = []
    for _ in range(n):
        v = [round(rng.uniform() * 2 - 1, 6) for _ in range(d)]
        scale = round(0.25 + 4 * rng.uniform(), 3) if scale_spread else 1.0
        out.append([round(x * scale, 6) for x in v])
    return out


def rand_values(rng: Mulberry32, n: int, lo: float, hi: float) -> list[float]:
    return [round(lo + (hi - lo) * rng.uniform(), 6) for _ in range(n)]


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def normalised_f32(v: list[float]) -> list[float]:
    n = math.sqrt(dot(v, v))
    return [f32(x / n) for x in v]


def doc_example_embeddings() -> list[list[float]]:
    """M = 8 prompts whose pairwise cosine is exactly 0.2 (rpo-method.md: w_ii ~ 0.41)."""
    m, d = 8, 9
    out = []
    for i in range(m):
        v = [0.0] * d
        v[i] = math.sqrt(0.8)
        v[8] = math.sqrt(0.2)
        out.append([x * (1 + i) for x in v])  # unequal norms on purpose
    return out


def build_contrast() -> dict:
    rng = Mulberry32(20240214)
    paired = []
    specs = [
        ("m1", 1, 4, 0.5, 0.1),
        ("m3-tau0.25", 3, 5, 0.25, 0.1),
        ("m3-tau0.5", 3, 5, 0.5, 0.1),
        ("m3-tau1", 3, 5, 1.0, 0.1),
        ("m8-tau0.75-beta0.5", 8, 6, 0.75, 0.5),
        ("m16-tau0.5", 16, 8, 0.5, 0.1),
    ]
    for name, m, d, tau, beta in specs:
        emb = rand_vectors(rng, m, d)
        rw, rl = rand_values(rng, m, -3, 3), rand_values(rng, m, -3, 3)
        paired.append((name, emb, tau, beta, rw, rl))
    emb = doc_example_embeddings()
    paired.append(("doc-example-m8-cos0.2", emb, 0.5, 0.1, rand_values(rng, 8, -2, 2), rand_values(rng, 8, -2, 2)))
    # Large log-ratios: a naive log(sigmoid(x)) gives -inf or 0 here.
    emb = rand_vectors(rng, 4, 5)
    paired.append(("extreme-logratios", emb, 0.5, 2.0, [400.0, -350.0, 0.0, 75.5], [-420.0, 390.0, 1e-3, -80.25]))
    # Identical prompts in a batch: the softmax splits the weight evenly between them.
    base = rand_vectors(rng, 1, 5)[0]
    emb = [base, [x * 3 for x in base], rand_vectors(rng, 1, 5)[0]]
    paired.append(("duplicate-prompts", emb, 0.5, 0.1, rand_values(rng, 3, -1, 1), rand_values(rng, 3, -1, 1)))

    # Label smoothing from the votes: a separate generator, so the cases above keep their values.
    # Every third eps is 0 (a record without dissent); the others are shares like 1/3, 1/4, 0.5.
    erng = Mulberry32(20231214)

    def eps_list(n: int) -> list[float]:
        return [0.0 if k % 3 == 0 else round(0.5 * erng.uniform(), 6) for k in range(n)]

    paired_cases = []
    for name, emb, tau, beta, rw, rl in paired:
        eps = eps_list(len(emb))
        paired_cases.append({
            "name": name, "embeddings": emb, "tau": tau, "beta": beta, "diagonal_weight": 0.8,
            "chosen_logratios": rw, "rejected_logratios": rl,
            "expected": paired_expected(emb, tau, beta, 0.8, rw, rl),
            "smoothed": {"eps": eps, "losses": paired_expected(emb, tau, beta, 0.8, rw, rl, eps)["losses"]},
        })

    unpaired_cases = []
    for name, mc, nr, d, tau, beta in [
        ("3x2", 3, 2, 5, 0.5, 0.1),
        ("1x4-tau0.25", 1, 4, 5, 0.25, 0.1),
        ("5x3-tau1-beta0.3", 5, 3, 6, 1.0, 0.3),
        ("no-rejected-2x0", 2, 0, 5, 0.5, 0.1),
        ("no-chosen-0x3", 0, 3, 5, 0.5, 0.1),
    ]:
        ce, re_ = rand_vectors(rng, mc, d), rand_vectors(rng, nr, d)
        rw, rl = rand_values(rng, mc, -3, 3), rand_values(rng, nr, -3, 3)
        unpaired_cases.append({
            "name": name, "chosen_embeddings": ce, "rejected_embeddings": re_, "tau": tau, "beta": beta,
            "chosen_logratios": rw, "rejected_logratios": rl,
            "expected": unpaired_expected(ce, re_, tau, beta, rw, rl),
        })
    for c in unpaired_cases:
        ceps, reps = eps_list(len(c["chosen_logratios"])), eps_list(len(c["rejected_logratios"]))
        loss = unpaired_expected(c["chosen_embeddings"], c["rejected_embeddings"], c["tau"], c["beta"],
                                 c["chosen_logratios"], c["rejected_logratios"], ceps, reps)["loss"]
        c["smoothed"] = {"chosen_eps": ceps, "rejected_eps": reps, "loss": loss}

    prompts = [
        "What is the capital of France?",
        "",
        "Ünïcödé prompt: 東京 🚀",
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
         {"role": "user", "content": "Tell me a joke.\nA short one."}],
        [{"role": "system", "content": ""}, {"role": "user", "content": "x"}],
    ]
    keys = []
    for p in prompts:
        text = p if isinstance(p, str) else "\n\n".join(f"{m['role']}: {m['content']}" for m in p)
        keys.append({"prompt": p, "text": text, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})

    return {"version": 1, "tolerance": 1e-6, "prompt_keys": keys, "paired": paired_cases, "unpaired": unpaired_cases}


def build_sampler() -> dict:
    seeds = [0, 1, 42, 123456789, 2**32 - 1, 2**32 + 5, 0x9E3779B9]
    mul = []
    for s in seeds:
        r = mulberry32(s)
        mul.append({"seed": s, "outputs": [r() for _ in range(10)]})
    shuf = [{"seed": s, "n": n, "permutation": shuffle(list(range(n)), mulberry32(s))}
            for s, n in [(0, 0), (0, 1), (1, 2), (42, 10), (7, 37), (2**32 + 3, 16)]]
    epochs = []
    for name, n, seed, epoch, b, p in [
        ("n10-b2-p2-drop", 10, 42, 0, 2, 2),
        ("n10-b2-p2-epoch1", 10, 42, 1, 2, 2),
        ("n8-b4-p1-exact", 8, 7, 0, 4, 1),
        ("n3-b4-p1-short", 3, 7, 0, 4, 1),
        ("n3-b2-p2-short-ranks", 3, 5, 2, 2, 2),
        ("n25-b3-p2", 25, 1234, 3, 3, 2),
        ("n0", 0, 1, 0, 2, 1),
    ]:
        epochs.append({"name": name, "n": n, "seed": seed, "epoch": epoch, "batch_size": b,
                       "num_processes": p, "expected": epoch_batches(n, seed, epoch, b, p)})

    rng = Mulberry32(99)
    # 60 unit vectors in 4 dims around 3 topics, plus exact duplicates to exercise the tie rule.
    centres = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0.3]]
    emb = []
    for i in range(57):
        c = centres[i % 3]
        emb.append(normalised_f32([c[k] + 0.35 * (rng.uniform() * 2 - 1) for k in range(4)]))
    emb += [list(emb[0]), list(emb[1]), list(emb[0])]
    small = emb[:5]
    sim = []
    for name, vectors, seed, epoch, b, p in [
        ("n30-b4-p1", emb[27:], 3, 0, 4, 1),
        ("n60-b2-p2-epoch2", emb, 3, 2, 2, 2),
        ("n60-b1-p1", emb, 11, 0, 1, 1),
        ("n60-b2-p1-window32", emb, 5, 1, 2, 1),
        ("n60-b8-p1-drop", emb, 6, 0, 8, 1),
        ("n5-b4-p2-short", small, 8, 0, 4, 2),
    ]:
        sim.append({"name": name, "embeddings": vectors, "seed": seed, "epoch": epoch, "batch_size": b,
                    "num_processes": p, "expected": similarity_batches(vectors, seed, epoch, b, p)})
    return {"version": 1, "mulberry32": mul, "shuffle": shuf, "epochs": epochs, "similarity": sim}


def dump(obj: dict) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    out = ROOT / "test" / "golden"
    files = {"contrast.json": dump(build_contrast()), "sampler.json": dump(build_sampler())}
    if "--check" in argv:
        stale = [n for n, text in files.items() if not (out / n).exists() or (out / n).read_text("utf-8") != text]
        for n in stale:
            print(f"test/golden/{n} is out of date: run python3 scripts/golden/make_golden.py", file=sys.stderr)
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for n, text in files.items():
        (out / n).write_text(text, "utf-8")
        print(f"wrote test/golden/{n} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
