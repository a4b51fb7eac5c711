#!/usr/bin/env python3
"""Golden agreement figures, computed by the reference packages (docs/agreement.md).

Generated vote tables (several annotators, missing votes, flipped records, candidates, skips)
are written as preference records with `rpo_votes`; the figures come from scikit-learn
(`cohen_kappa_score`), statsmodels (`fleiss_kappa`, `aggregate_raters`), the `krippendorff`
package and scipy (`binomtest`); the bootstrap intervals replay the same resampling as
src/core/agreement for tables with more than n / 16 distinct vote patterns, as these (mulberry32
of docs/contracts.md section 5, item j = floor(next() * n / 2^32), every measure on each resample, numpy's linear percentiles 2.5 and 97.5). Needs the trainer venv
with requirements-test.txt:

    $(cat .rpo-test/python) scripts/golden/make_agreement.py          # writes test/golden/agreement.json
    $(cat .rpo-test/python) scripts/golden/make_agreement.py --check  # exits 1 if it differs

Missing votes, as the packages take them: Cohen's kappa per pair over the items both rated
(scikit-learn has no missing value); Fleiss' kappa over the items with the most common number
of ratings m (statsmodels asserts equal counts); Krippendorff's alpha with NaN for a missing
rating (units with fewer than two ratings are not pairable).

test/golden/agreement.json: {"version": 1, "tolerance": 1e-9, "tables": [{"name", "seed",
"resamples", "lines": [str], "expected": {"items", "percentAgreement": {"value", "ci"},
"fleiss": {"raters", "items", "kappa": {"value", "ci"}}, "alphaNominal", "alphaOrdinal",
"cohen": [{"a", "b", "items", "kappa"}], "perAnnotator": [{"annotator", "votes", "ties", "skips",
"picks", "leftPicks", "leftShare", "leftPValue", "agreeWithResolved", "resolvedCompared",
"medianSeconds"}]}}]}
"""

from __future__ import annotations

import json
import math
import random
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import krippendorff
import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from make_golden import mulberry32  # the contract's generator (docs/contracts.md section 5), written from the spec there

OUT = Path(__file__).resolve().parents[2] / "test" / "golden" / "agreement.json"
NOM_OF = [0, 0, 2, 1, 1, 0, 1]  # code -> first 0 / second 1 / tie 2 (see src/core/agreement)
ORD_OF = [0, 1, 2, 3, 4, None, None]
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def vote(annotator, time, choice=None, strength=None, status=None, shown=None):
    return {"annotator": annotator, "time": time, "choice": choice, "strength": strength, "status": status,
            "note": None, "shown": shown, "adjudicator": False}


def make_table(name: str, seed: int, n_items: int, annotators: list[str], p_rate: float, p_copy: float):
    rnd = random.Random(seed)
    clock = {a: datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc) for a in annotators}
    lines, ratings = [], []  # ratings[i] = {annotator: code or None (a vote that is missing from the measures)}
    for i in range(n_items):
        truth = rnd.randrange(7)
        shape = rnd.choice(["paired", "paired", "flipped", "candidates"])
        rated = {}
        for a in annotators:
            if rnd.random() > p_rate:
                continue
            u = rnd.random()
            if u < 0.05:
                rated[a] = ("status", "skip")
            elif u < 0.08:
                rated[a] = ("status", "both_bad")
            else:
                rated[a] = ("code", truth if rnd.random() < p_copy else rnd.randrange(7))
        # resolution by majority over judgements (side or status), skips abstain
        def judgement(r):
            if r[0] == "status":
                return None if r[1] == "skip" else r[1]
            return {0: "first", 1: "second", 2: "tie"}[NOM_OF[r[1]]]
        js = [judgement(r) for r in rated.values() if judgement(r) is not None]
        counts = {j: js.count(j) for j in js}
        top = max(counts.values()) if counts else 0
        winners = [j for j, c in counts.items() if c == top]
        winner = None if not js else winners[0] if len(winners) == 1 else "disputed"
        if len(rated) >= 2 and winner is None and len(rated) == sum(1 for r in rated.values() if r == ("status", "skip")):
            winner = "skip"
        rec = {"prompt": f"Question {i}?"}
        # the current field of the original first / second response
        if shape == "candidates" and winner in ("first", "second"):
            c = 0 if winner == "first" else 1
            rec["chosen"], rec["rejected"] = (f"r0 {i}", f"r1 {i}") if c == 0 else (f"r1 {i}", f"r0 {i}")
            name_of = {0: "chosen" if c == 0 else "rejected", 1: "rejected" if c == 0 else "chosen"}
            extra = {"from_responses": [c, 1 - c]}
        elif shape == "candidates":
            rec["responses"] = [f"r0 {i}", f"r1 {i}"]
            name_of = {0: "responses.0", 1: "responses.1"}
            extra = {}
        else:
            flipped = shape == "flipped" or winner == "second"
            if shape == "flipped" and winner == "first":
                flipped = False
            rec["chosen"], rec["rejected"] = (f"B {i}", f"A {i}") if flipped else (f"A {i}", f"B {i}")
            name_of = {0: "rejected" if flipped else "chosen", 1: "chosen" if flipped else "rejected"}
            extra = {"flipped": flipped}
        votes = []
        for a, r in rated.items():
            clock[a] += timedelta(seconds=rnd.randrange(1, 120), milliseconds=rnd.randrange(1000))
            t = clock[a].isoformat(timespec="milliseconds").replace("+00:00", "Z")
            pair = [name_of[0], name_of[1]]
            shown = pair if rnd.random() < 0.5 else pair[::-1]
            if r[0] == "status":
                votes.append(vote(a, t, status=r[1], shown=shown))
            elif r[1] == 2:
                votes.append(vote(a, t, status="tie", shown=shown))
            else:
                side = 0 if r[1] in (0, 1, 5) else 1
                strength = {0: "clearly", 4: "clearly", 1: "slightly", 3: "slightly"}.get(r[1])
                votes.append(vote(a, t, choice=name_of[side], strength=strength, shown=shown))
        if votes:
            last = votes[-1]
            status = {"first": None, "second": None, "tie": "tie", "both_bad": "both_bad", "disputed": "disputed", "skip": "skip", None: "skip"}[winner]
            if winner in ("first", "second"):
                last = [v for v, r in zip(votes, rated.values()) if judgement(r) == winner][-1]
            rec["rpo_label"] = {"annotator": last["annotator"], "time": last["time"], "status": status, "strength": None,
                                "note": None, "shown": last["shown"], **extra}
            if len(votes) >= 2:
                rec["rpo_votes"] = votes
        lines.append(json.dumps(rec))
        ratings.append({a: r for a, r in rated.items()})
    return lines, ratings


def codes_of(rating: dict) -> dict:
    return {a: r[1] for a, r in rating.items() if r[0] == "code"}


def measures(items: list[dict], annotators: list[str], pairs, m: int) -> list:
    """Every measure on one list of items (dicts annotator -> code), None where undefined."""
    out = []
    # percent agreement: mean over items of the share of agreeing rater pairs
    shares = []
    for it in items:
        c = [0, 0, 0]
        for code in it.values():
            c[NOM_OF[code]] += 1
        k = len(it)
        shares.append(sum(x * (x - 1) for x in c) / (k * (k - 1)))
    out.append(float(np.mean(shares)) if shares else None)
    # Fleiss: items with exactly m ratings
    full = [[NOM_OF[code] for code in it.values()] for it in items if len(it) == m]
    if full:
        table, _ = aggregate_raters(np.array(full), n_cat=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            k = fleiss_kappa(table, method="fleiss")
        out.append(None if not np.isfinite(k) else float(k))
    else:
        out.append(None)
    for level, of in (("nominal", NOM_OF), ("ordinal", ORD_OF)):
        data = np.array([[np.nan if it.get(a) is None or of[it[a]] is None else of[it[a]] for it in items] for a in annotators], dtype=float)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
            out.append(None if not np.isfinite(v) else float(v))
        except ValueError:
            out.append(None)
    for a, b in pairs:
        both = [(NOM_OF[it[a]], NOM_OF[it[b]]) for it in items if a in it and b in it]
        if not both:
            out.append(None)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            k = cohen_kappa_score([x for x, _ in both], [y for _, y in both])
        out.append(None if not np.isfinite(k) else float(k))
    return out


def expected_for(lines, ratings, annotators, seed, resamples):
    items = [codes_of(r) for r in ratings]
    items = [it for it in items if len(it) >= 2]
    present = [a for a in annotators if any(a in it for it in items) or any(a in r for r in ratings)]
    counts = {}
    for it in items:
        counts[len(it)] = counts.get(len(it), 0) + 1
    m = max(counts, key=lambda k: (counts[k], k)) if counts else 0
    order = []  # annotators in order of first appearance in the file (as the TS table)
    for line in lines:
        rec = json.loads(line)
        vs = rec.get("rpo_votes") or ([{"annotator": rec["rpo_label"]["annotator"]}] if "rpo_label" in rec else [])
        for v in vs:
            if v["annotator"] not in order:
                order.append(v["annotator"])
    idx = {a: i for i, a in enumerate(order)}
    pairs = [(a, b) for a in order for b in order if idx[a] < idx[b] and any(a in it and b in it for it in items)]
    point = measures(items, order, pairs, m)
    samples = [[] for _ in point]
    rng = mulberry32(seed)
    n = len(items)
    # The spec draws items one by one while 16 * (distinct patterns) > n (docs/agreement.md,
    # "Bootstrap"); larger tables draw multinomial pattern counts, which this replay does not do.
    distinct = {tuple(sorted(it.items())) for it in items}
    assert 16 * len(distinct) > n, f"{n} items in {len(distinct)} patterns: the spec draws pattern counts"
    for _ in range(resamples if n else 0):
        res = [items[(rng() * n) // 2**32] for _ in range(n)]
        for j, v in enumerate(measures(res, order, pairs, m)):
            if v is not None:
                samples[j].append(v)

    def est(j):
        s = samples[j]
        ci = [float(np.percentile(s, 2.5)), float(np.percentile(s, 97.5))] if s else None
        return {"value": point[j], "ci": ci}

    per = []
    for a in order:
        votes, ties, skips, picks, left, agree, compared, times = 0, 0, 0, 0, 0, 0, 0, []
        for line in lines:
            rec = json.loads(line)
            vs = rec.get("rpo_votes")
            lab = rec.get("rpo_label")
            if vs is None and lab is not None and lab["status"] != "disputed":
                choice = None if lab["status"] else "chosen"
                vs = [vote(lab["annotator"], lab["time"], choice=choice, status=lab["status"], shown=lab["shown"])]
            for v in vs or []:
                if v["annotator"] != a:
                    continue
                votes += 1
                ms = (datetime.fromisoformat(v["time"].replace("Z", "+00:00")) - EPOCH) // timedelta(milliseconds=1)
                times.append(ms)
                ties += v["status"] == "tie"
                skips += v["status"] == "skip"
                if v["choice"] is not None and v["shown"]:
                    picks += 1
                    left += v["shown"][0] == v["choice"]
                j = None if v["status"] == "skip" else (v["status"] or v["choice"])
                if len(vs) >= 2 and lab["status"] != "disputed" and j is not None:
                    resolved = lab["status"] or ("chosen" if "chosen" in rec else None)
                    if resolved is not None:
                        compared += 1
                        agree += j == resolved
        gaps = np.diff(sorted(times))
        per.append({"annotator": a, "votes": votes, "ties": ties, "skips": skips, "picks": picks, "leftPicks": left,
                    "leftShare": left / picks if picks else None,
                    "leftPValue": float(binomtest(left, picks, 0.5).pvalue) if picks else None,
                    "agreeWithResolved": agree, "resolvedCompared": compared,
                    "medianSeconds": float(np.median(gaps)) / 1000 if len(gaps) else None})
    return {
        "items": n,
        "percentAgreement": est(0),
        "fleiss": {"raters": m, "items": sum(1 for it in items if len(it) == m), "kappa": est(1)},
        "alphaNominal": est(2),
        "alphaOrdinal": est(3),
        "cohen": [{"a": a, "b": b, "items": sum(1 for it in items if a in it and b in it), "kappa": est(4 + i)} for i, (a, b) in enumerate(pairs)],
        "perAnnotator": per,
    }


def build() -> dict:
    tables = []
    specs = [
        ("three annotators, some missing", 11, 60, ["ada", "bo", "cy"], 0.85, 0.7),
        ("five annotators, sparse", 12, 90, ["ada", "bo", "cy", "dee", "eli"], 0.5, 0.55),
        ("two annotators, high agreement", 13, 40, ["ada", "bo"], 0.95, 0.9),
    ]
    for name, seed, n, annotators, p_rate, p_copy in specs:
        lines, ratings = make_table(name, seed, n, annotators, p_rate, p_copy)
        resamples = 200
        tables.append({"name": name, "seed": seed, "resamples": resamples, "lines": lines,
                       "expected": expected_for(lines, ratings, annotators, seed, resamples)})
    return {"version": 1, "tolerance": 1e-9, "tables": tables}


def main(argv: list[str]) -> int:
    text = json.dumps(build(), indent=1) + "\n"
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: rerun scripts/golden/make_agreement.py", file=sys.stderr)
            return 1
        print(f"{OUT} is current")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
