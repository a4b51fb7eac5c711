#!/usr/bin/env python3
"""Golden win-rate figures, computed by the reference packages (docs/evaluate.md, "How the win
rate is computed"). Written from that spec, not from src/core/winrate.

Generated judged candidates files: each record is a prompt with two responses written by model
"A" or "B" (the order per record random, kept in the sidecar, docs/formats.md "Candidates from a
run"), judged by a label (A's or B's response chosen, tie, both_bad, skip, excluded, none yet,
identical responses) written as the preference editor writes it (`rpo_label` with
`from_responses` and `shown`), and in the "votes" table by several annotators (`rpo_votes`, one
of them an automatic judge `model:...`). Expected figures:

- counts: win = A's response chosen (1), loss = B's (0), tie and both_bad = 1/2 (both_bad also
  counted apart), skip / excluded / disputed / pending / identical left out;
- win rate = (wins + ties/2) / judged; Wilson 95%: statsmodels
  `proportion_confint(wins + ties/2, judged, method="wilson")`;
- bootstrap 95%: mulberry32 (docs/contracts.md section 5) from the seed, record
  floor(next() * n / 2^32), n draws per resample, numpy's linear percentiles 2.5 / 97.5;
- length-controlled: statsmodels GLM Binomial on [1, tanh(d / sd)] (d = len(A's answer) -
  len(B's) in code points, sd = numpy.std(d), ddof 0), a win y=1 weight 1, a loss y=0 weight 1,
  a tie y=1 and y=0 weight 1/2 each (freq_weights); value sigmoid(b0), ci sigmoid(b0 -/+ 1.96
  se(b0)); cross-checked against scikit-learn's unpenalised LogisticRegression (C=inf) with
  sample_weight;
- position: preferences with `shown`, share with the left side picked, scipy `binomtest(k, n)`;
- a record with an automatic judge's vote (annotator `model:...`) counts by the people's votes
  (majority), or by the judge's when no person voted (machineOnly).

    $(cat .rpo-test/python) scripts/golden/make_winrate.py          # writes test/golden/winrate.json
    $(cat .rpo-test/python) scripts/golden/make_winrate.py --check  # exits 1 if it differs

test/golden/winrate.json: {"version": 1, "tolerance": 1e-6, "cases": [{"name", "seed",
"resamples", "lines": [str], "sidecar": [str], "expected": {...counts, "winRate", "wilson",
"bootstrap", "lengthControlled": {"value", "ci", "intercept", "slope", "scale"}, "position":
{"picks", "left", "leftShare", "pValue"}, "perAnnotator": [{"annotator", "machine", ...counts,
"position"}]}}]}
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import sys
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from statsmodels.stats.proportion import proportion_confint

from make_golden import mulberry32  # the contract's generator (docs/contracts.md section 5), written from the spec there

OUT = Path(__file__).resolve().parents[2] / "test" / "golden" / "winrate.json"
Z = 1.959963984540054
TIME = "2026-12-01T10:00:00.000Z"
WORDS = "the a model answer long short cat dog tree river seven blue é ü 😀 日本".split()


def text(turns) -> str:
    if isinstance(turns, str):
        return turns
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in turns)


def enc(b: bytes) -> bytes:
    return struct.pack("<Q", len(b)) + b


def pair_key(prompt, r0, r1) -> str:
    x, y = text(r0).encode(), text(r1).encode()
    a, b = (x, y) if x <= y else (y, x)
    return hashlib.sha256(enc(text(prompt).encode()) + enc(a) + enc(b)).hexdigest()


def label(annotator, status=None, shown=None, from_responses=None, strength=None):
    out = {"annotator": annotator, "time": TIME, "status": status, "strength": strength, "note": None, "shown": shown}
    if from_responses is not None:
        out["from_responses"] = from_responses
    return out


def vote(annotator, choice=None, status=None, shown=None):
    return {"annotator": annotator, "time": TIME, "choice": choice, "strength": None, "status": status, "note": None, "shown": shown, "adjudicator": False}


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_case(name: str, seed: int, n: int, conversational: bool, annotators: list[str] | None):
    """Records with their truth: (line, sources, outcome, d, left, votes) per record."""
    rng = random.Random(seed)
    lines, sidecar, truth = [], [], []
    for i in range(n):
        prompt_s = f"prompt {i}: " + sentence(rng, rng.randint(2, 6))
        len_a, len_b = rng.randint(1, 30), rng.randint(1, 30)
        ans = {"A": sentence(rng, len_a), "B": sentence(rng, len_b)}
        kind = rng.random()
        identical = kind < 0.05
        if identical:
            ans["B"] = ans["A"]
        # longer answers win more often, so the length term matters
        p_a = 1 / (1 + math.exp(-0.12 * (len_a - len_b) - 0.3))
        sources = ["A", "B"] if rng.random() < 0.5 else ["B", "A"]
        wrap = (lambda s: [{"role": "assistant", "content": s}]) if conversational else (lambda s: s)
        prompt = [{"role": "user", "content": prompt_s}] if conversational else prompt_s
        r = [wrap(ans[sources[0]]), wrap(ans[sources[1]])]
        key = pair_key(prompt, r[0], r[1])
        shown_left = rng.randrange(2)  # which response index is shown on the left
        if annotators is None:
            u = rng.random()
            if u < 0.08:
                judgement = None  # pending
            elif u < 0.14:
                judgement = "tie"
            elif u < 0.19:
                judgement = "both_bad"
            elif u < 0.23:
                judgement = "skip"
            elif u < 0.26:
                judgement = "excluded"
            else:
                judgement = "A" if rng.random() < p_a else "B"
            votes = None
        else:
            votes = {}
            for a in annotators:
                u = rng.random()
                if u < 0.1:
                    continue
                if u < 0.2:
                    votes[a] = "tie"
                elif u < 0.25:
                    votes[a] = "skip"
                elif u < 0.3:
                    votes[a] = "both_bad"
                else:
                    votes[a] = "A" if rng.random() < p_a else "B"
            judgement = resolve(list(votes.values())) if votes else None
        rec: dict = {"prompt": prompt}
        if judgement in ("A", "B"):
            win = sources.index(judgement)
            rec["chosen"], rec["rejected"] = r[win], r[1 - win]
            fr = [win, 1 - win]
            cur = {win: "chosen", 1 - win: "rejected"}
            shown = [cur[shown_left], cur[1 - shown_left]]
        else:
            rec["responses"] = r
            fr = None
            cur = {0: "responses.0", 1: "responses.1"}
            shown = [cur[shown_left], cur[1 - shown_left]]
        left = None
        rec_votes = []
        if votes:
            for a, v in votes.items():
                if v in ("A", "B"):
                    idx = sources.index(v)
                    rec_votes.append(vote(a, choice=cur[idx], shown=shown))
                else:
                    rec_votes.append(vote(a, status=v, shown=shown))
        if judgement is not None:
            status = None if judgement in ("A", "B") else judgement
            annot = annotators[-1] if annotators else "ada"
            rec["rpo_label"] = label(annot, status=status, shown=shown, from_responses=fr)
            if judgement in ("A", "B"):
                left = shown[0] == "chosen"
        if len(rec_votes) >= 2:
            rec["rpo_votes"] = rec_votes
        elif len(rec_votes) == 1 and rec_votes[0]["annotator"].startswith("model:"):
            # only the automatic judge voted, as rpo_trainer.judge writes it: the candidates record
            # with its vote in rpo_votes and no rpo_label (shown null: it saw no screen)
            (a, v), = votes.items()
            jv = vote(a, choice=f"responses.{sources.index(v)}", shown=None) if v in ("A", "B") else vote(a, status=v)
            rec = {"prompt": prompt, "responses": r, "rpo_votes": [jv]}
            shown = [None, None]
        elif len(rec_votes) == 1:
            # one annotator: the label is their vote
            v = rec_votes[0]
            rec["rpo_label"]["annotator"] = v["annotator"]
        outcome = "identical" if identical else ("pending" if judgement is None else judgement)
        if not identical and votes and any(a.startswith("model:") for a in votes):
            # an automatic judge's vote never outvotes a person: the people's votes decide, else the judge's
            people = [v for a, v in votes.items() if not a.startswith("model:")]
            outcome = resolve(people if people else list(votes.values()))
            left = shown[0] == cur[sources.index(outcome)] if outcome in ("A", "B") and shown[0] is not None else None
        d = len(ans["A"]) - len(ans["B"])
        if identical:
            left = None
        # per annotator votes as the spec reads them
        vt = []
        if not identical:
            if len(rec_votes) >= 2 or (len(rec_votes) == 1):
                vt = [(a, v, None if v not in ("A", "B") or shown[0] is None else (shown[0] == cur[sources.index(v)])) for a, v in votes.items()]
            elif judgement is not None and judgement != "disputed" and annotators is None:
                vt = [("ada", judgement, left if judgement in ("A", "B") else None)]
        lines.append(json.dumps(rec, ensure_ascii=False))
        sidecar.append(json.dumps({"line": i, "key": key, "sources": sources}))
        truth.append({"outcome": outcome, "d": d, "left": left, "votes": vt})
    header = json.dumps({"format": "rpo-candidates-sources", "version": 1, "models": {"A": {"name": "run-a"}, "B": {"name": "run-b"}}, "prompts": {"file": "eval.pref.jsonl"}, "settings": {"seed": seed}})
    return lines, [header] + sidecar, truth


def resolve(judgements: list[str]) -> str:
    """Majority (docs/formats.md, Votes): skips abstain; a tie in the count is disputed."""
    counting = [j for j in judgements if j != "skip"]
    if not counting:
        return "skip"
    counts: dict[str, int] = {}
    for j in counting:
        counts[j] = counts.get(j, 0) + 1
    best = max(counts.values())
    winners = [j for j, c in counts.items() if c == best]
    return winners[0] if len(winners) == 1 else "disputed"


def counts(outcomes: list[str]) -> dict:
    w = outcomes.count("A")
    l = outcomes.count("B")
    bb = outcomes.count("both_bad")
    t = outcomes.count("tie") + bb
    n = w + l + t
    out = {"wins": w, "losses": l, "ties": t, "bothBad": bb, "skipped": outcomes.count("skip"), "excluded": outcomes.count("excluded"), "judged": n}
    if n:
        lo, hi = proportion_confint(w + t / 2, n, alpha=0.05, method="wilson")
        out["winRate"] = (w + t / 2) / n
        out["wilson"] = [float(lo), float(hi)]
    else:
        out["winRate"] = None
        out["wilson"] = None
    return out


def score(o: str) -> float | None:
    return {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": 0.5}.get(o)


def bootstrap(ys: list[float], resamples: int, seed: int):
    n = len(ys)
    if not n or not resamples:
        return None
    nxt = mulberry32(seed)
    vals = []
    for _ in range(resamples):
        vals.append(sum(ys[(nxt() * n) // 2**32] for _ in range(n)) / n)
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def length_controlled(ys: list[float], ds: list[int]) -> dict:
    d = np.array(ds, dtype=float)
    sd = float(np.std(d))
    x, y, w = [], [], []
    for yi, di in zip(ys, d):
        xi = math.tanh(di / sd)
        if yi > 0:
            x.append(xi); y.append(1.0); w.append(yi)
        if yi < 1:
            x.append(xi); y.append(0.0); w.append(1 - yi)
    X = sm.add_constant(np.array(x), has_constant="add")
    res = sm.GLM(np.array(y), X, family=sm.families.Binomial(), freq_weights=np.array(w)).fit(tol=1e-14, maxiter=200)
    b0, b1 = (float(v) for v in res.params)
    se0 = float(res.bse[0])
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(np.array(x).reshape(-1, 1), np.array(y), sample_weight=np.array(w))
    assert abs(sk.intercept_[0] - b0) < 1e-6 and abs(sk.coef_[0][0] - b1) < 1e-6, (sk.intercept_, sk.coef_, b0, b1)
    sig = lambda t: 1 / (1 + math.exp(-t))
    return {"value": sig(b0), "ci": [sig(b0 - Z * se0), sig(b0 + Z * se0)], "intercept": b0, "slope": b1, "scale": sd}


def position(lefts: list[bool]) -> dict:
    n, k = len(lefts), sum(lefts)
    return {"picks": n, "left": k, "leftShare": k / n if n else None, "pValue": float(binomtest(k, n).pvalue) if n else None}


def expected(truth: list[dict], resamples: int, seed: int) -> dict:
    outs = [t["outcome"] for t in truth]
    exp = counts(outs)
    judged = [t for t in truth if score(t["outcome"]) is not None]
    ys = [score(t["outcome"]) for t in judged]
    ds = [t["d"] for t in judged]
    exp["records"] = len(truth)
    exp["disputed"] = outs.count("disputed")
    exp["pending"] = outs.count("pending")
    exp["identical"] = outs.count("identical")
    exp["machineOnly"] = sum(1 for t in judged if t["votes"] and all(a.startswith("model:") for a, _, _ in t["votes"]))
    exp["bootstrap"] = {"resamples": resamples, "seed": seed, "ci": bootstrap(ys, resamples, seed)}
    exp["lengthControlled"] = length_controlled(ys, ds)
    exp["position"] = position([t["left"] for t in truth if t["left"] is not None])
    per: dict[str, list] = {}
    for t in truth:
        for a, v, left in t["votes"]:
            per.setdefault(a, []).append((v, left))
    exp["perAnnotator"] = []
    for a, vs in per.items():
        row = {"annotator": a, "machine": a.startswith("model:")}
        row.update(counts([v for v, _ in vs]))
        row["position"] = position([l for _, l in vs if l is not None])
        exp["perAnnotator"].append(row)
    return exp


CASES = [
    ("one-annotator", 11, 80, False, None, 300),
    ("conversational-unicode", 5, 40, True, None, 200),
    ("votes-with-an-automatic-judge", 23, 60, False, ["ada", "bo", "model:tiny-rm"], 250),
]


def build() -> dict:
    cases = []
    for name, seed, n, conv, annotators, resamples in CASES:
        lines, sidecar, truth = make_case(name, seed, n, conv, annotators)
        cases.append({"name": name, "seed": seed, "resamples": resamples, "lines": lines, "sidecar": sidecar, "expected": expected(truth, resamples, seed)})
    return {"version": 1, "tolerance": 1e-6, "cases": cases}


def main(argv: list[str]) -> int:
    text_out = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text_out:
            print(f"{OUT} is out of date: rerun scripts/golden/make_winrate.py", file=sys.stderr)
            return 1
        print(f"{OUT} is current")
        return 0
    OUT.write_text(text_out, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
