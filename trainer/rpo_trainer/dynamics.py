"""Training dynamics of each pair (docs/contracts.md section 8): pair keys, the margins a run
records per visit, and `dynamics.safetensors`.

Pure parts: keys and the labels hash (`pair_key`, `record_key`, `Rows.labels_sha256`), the margin of
each row's own pair (`own_margins`, `diagonal_weights`), and `Dynamics`, preallocated numpy
accumulators indexed by row (training rows first, then eval rows) that a step adds to without a
per-row Python loop. The trainer (train.py) merges the ranks' accumulators and writes the file.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data import Record, Turns, prompt_text

FORMAT = "rpo-dynamics"
VERSION = 1
FILE_NAME = "dynamics.safetensors"


# ---------------------------------------------------------------- keys

def _enc(b: bytes) -> bytes:
    return struct.pack("<Q", len(b)) + b


def pair_key(prompt: Turns, chosen: Turns, rejected: Turns) -> tuple[bytes, int]:
    """(32-byte key, side): the unordered pair under its prompt; side 0 when chosen sorts first by
    its UTF-8 bytes (identical texts: 0), 1 otherwise."""
    c, r = prompt_text(chosen).encode("utf-8"), prompt_text(rejected).encode("utf-8")
    side = 0 if c <= r else 1
    a, b = (c, r) if side == 0 else (r, c)
    return hashlib.sha256(_enc(prompt_text(prompt).encode("utf-8")) + _enc(a) + _enc(b)).digest(), side


def item_key(prompt: Turns, completion: Turns, label: bool) -> tuple[bytes, int]:
    """(key, side) of an unpaired item: side 1 for label true, 0 for false."""
    key = hashlib.sha256(_enc(prompt_text(prompt).encode("utf-8")) + _enc(prompt_text(completion).encode("utf-8"))).digest()
    return key, 1 if label else 0


def record_key(rec: Record) -> tuple[bytes, int]:
    if rec.chosen is not None:
        return pair_key(rec.prompt, rec.chosen, rec.rejected)
    return item_key(rec.prompt, rec.completion, bool(rec.label))


# ---------------------------------------------------------------- margins of a batch

def own_margins(ratios: torch.Tensor, labels: torch.Tensor | None, beta: float) -> torch.Tensor:
    """The margin of each example's own pair, detached, fp32 at least: paired (rows
    [chosen..., rejected...]) beta * (s_chosen - s_rejected); unpaired +-beta * s by label."""
    r = ratios.detach().float()
    if labels is None:
        m = r.shape[0] // 2
        return beta * (r[:m] - r[m:])
    return beta * torch.where(labels, r, -r)


def diagonal_weights(weights: torch.Tensor | None, diagonal: torch.Tensor | None) -> torch.Tensor | None:
    """w_ii of each row (the weight a row puts on its own pair), or None without contrast weights."""
    if weights is None or diagonal is None or weights.numel() == 0:
        return None
    rows = torch.arange(weights.shape[0], device=weights.device)
    return weights.detach()[rows, diagonal].float()


# ---------------------------------------------------------------- accumulators

ACCUMULATORS = ("visits", "sum_margin", "sum_conf", "sum_conf2", "correct", "sum_weight", "weighted", "last_margin", "last_step")


@dataclass
class Rows:
    """What identifies each row: keys [N, 32] u8, 1-based lines, sides, and the training count."""

    keys: np.ndarray
    lines: np.ndarray
    sides: np.ndarray
    n_train: int

    @classmethod
    def of(cls, train: list[Record], evals: list[Record]) -> "Rows":
        ks = [record_key(r) for r in train + evals]
        keys = np.frombuffer(b"".join(k for k, _ in ks), dtype=np.uint8).reshape(len(ks), 32) if ks else np.zeros((0, 32), np.uint8)
        return cls(keys=keys.copy(), lines=np.array([r.line for r in train + evals], dtype=np.int32),
                   sides=np.array([s for _, s in ks], dtype=np.uint8), n_train=len(train))

    @property
    def n(self) -> int:
        return len(self.lines)

    def labels_sha256(self) -> str:
        """labels_sha256 at once: the rows of [key ++ side] are that hash's input in order."""
        return hashlib.sha256(np.concatenate([self.keys, self.sides[:, None]], axis=1).tobytes()).hexdigest()


class Dynamics:
    """Per-row sums over training visits (float64) and the eval margins, for one process.

    `add_train(rows, margins, w)` is called once per micro-batch with this rank's rows (indices
    into the training rows) and their margins; `add_eval(step, margins)` once per eval with the
    margins of every eval row (already summed over ranks)."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows
        n = rows.n_train
        self.visits = np.zeros(n, np.int64)
        self.correct = np.zeros(n, np.int64)
        self.sum_margin = np.zeros(n, np.float64)
        self.sum_conf = np.zeros(n, np.float64)
        self.sum_conf2 = np.zeros(n, np.float64)
        self.sum_weight = np.zeros(n, np.float64)
        self.weighted = np.zeros(n, np.int64)  # visits that had a w_ii
        self.last_margin = np.full(n, np.nan, np.float64)
        self.last_step = np.full(n, -1, np.int64)  # the step of the latest visit (merging ranks)
        self.eval_steps: list[int] = []
        self.eval_margins: list[np.ndarray] = []

    def add_train(self, step: int, rows: np.ndarray, margins: np.ndarray, weights: np.ndarray | None = None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        m = np.asarray(margins, dtype=np.float64)
        conf = 0.5 * (1.0 + np.tanh(0.5 * m))  # sigmoid without overflow warnings
        np.add.at(self.visits, rows, 1)
        np.add.at(self.correct, rows, (m > 0).astype(np.int64))
        np.add.at(self.sum_margin, rows, m)
        np.add.at(self.sum_conf, rows, conf)
        np.add.at(self.sum_conf2, rows, conf * conf)
        if weights is not None:
            np.add.at(self.sum_weight, rows, np.asarray(weights, dtype=np.float64))
            np.add.at(self.weighted, rows, 1)
        self.last_margin[rows] = m
        self.last_step[rows] = step

    def add_eval(self, step: int, margins: np.ndarray) -> None:
        self.eval_steps.append(int(step))
        self.eval_margins.append(np.asarray(margins, dtype=np.float32).copy())

    # -- merging ranks: the sums add up; the last margin is the one of the latest step

    def stacked(self) -> np.ndarray:
        """[9, n] float64 of the accumulators (counts are exact in float64 below 2**53)."""
        return np.stack([getattr(self, a).astype(np.float64) for a in ACCUMULATORS])

    def set_merged(self, parts: np.ndarray | None) -> None:
        """`parts` [world, 9, n] of every rank's `stacked()`: this rank keeps the merged totals
        (rank 0), or None: this rank's totals moved to rank 0 (zeros here)."""
        n = self.rows.n_train
        if parts is None:
            merged = np.zeros((len(ACCUMULATORS), n))
            merged[ACCUMULATORS.index("last_margin")] = np.nan
            merged[ACCUMULATORS.index("last_step")] = -1
        else:
            merged = parts.sum(axis=0)
            li, si = ACCUMULATORS.index("last_margin"), ACCUMULATORS.index("last_step")
            latest = parts[:, si, :].argmax(axis=0)
            merged[li] = parts[latest, li, np.arange(n)]
            merged[si] = parts[latest, si, np.arange(n)]
        for i, a in enumerate(ACCUMULATORS):
            cur = getattr(self, a)
            setattr(self, a, merged[i].astype(cur.dtype))

    # -- the file

    def tensors(self) -> dict[str, np.ndarray]:
        """The tensors of dynamics.safetensors (contracts section 8) from this rank's sums."""
        r, nt = self.rows, self.rows.n_train
        ne = r.n - nt
        v = self.visits.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            seen = np.where(v > 0, v, np.nan)
            conf = self.sum_conf / seen
            var = np.maximum(self.sum_conf2 / seen - conf * conf, 0.0)
            weight = np.where(self.weighted > 0, self.sum_weight / np.where(self.weighted > 0, self.weighted, 1), np.nan)
            train = {"aum": self.sum_margin / seen, "confidence": conf, "variability": np.sqrt(var),
                     "correctness": self.correct / seen, "last_margin": np.where(v > 0, self.last_margin, np.nan),
                     "diag_weight": np.where(v > 0, weight, np.nan)}
            em = np.stack(self.eval_margins).astype(np.float64) if self.eval_margins else np.zeros((0, ne))
            if self.eval_margins:
                conf_e = 0.5 * (1.0 + np.tanh(0.5 * em))
                evals = {"aum": em.mean(0), "confidence": conf_e.mean(0), "variability": conf_e.std(0),
                         "correctness": (em > 0).mean(0), "last_margin": em[-1], "diag_weight": np.full(ne, np.nan)}
            else:
                evals = {k: np.full(ne, np.nan) for k in train}
        out = {"key": r.keys, "line": r.lines.astype(np.int32), "side": r.sides.astype(np.uint8),
               "split": np.concatenate([np.zeros(nt, np.uint8), np.ones(ne, np.uint8)]),
               "visits": np.concatenate([self.visits, np.full(ne, len(self.eval_steps))]).astype(np.int32)}
        for k in train:
            out[k] = np.concatenate([train[k], evals[k]]).astype(np.float32)
        out["eval_steps"] = np.array(self.eval_steps, dtype=np.int64)
        out["eval_margin"] = em.astype(np.float32).reshape(len(self.eval_steps), ne)
        return out

    def restore(self, t: dict[str, np.ndarray]) -> bool:
        """Continue from a file this class wrote (a checkpoint's copy); False when its rows are
        not this run's rows (then nothing is restored)."""
        r, nt = self.rows, self.rows.n_train
        if t["key"].shape != r.keys.shape or not np.array_equal(t["key"], r.keys) or not np.array_equal(t["side"], r.sides) \
                or int((t["split"] == 0).sum()) != nt:
            return False
        v = t["visits"][:nt].astype(np.int64)
        vf = v.astype(np.float64)
        conf = np.nan_to_num(t["confidence"][:nt].astype(np.float64))
        var = np.nan_to_num(t["variability"][:nt].astype(np.float64)) ** 2
        self.visits = v
        self.correct = np.rint(np.nan_to_num(t["correctness"][:nt].astype(np.float64)) * vf).astype(np.int64)
        self.sum_margin = np.nan_to_num(t["aum"][:nt].astype(np.float64)) * vf
        self.sum_conf = conf * vf
        self.sum_conf2 = (var + conf * conf) * vf
        w = t["diag_weight"][:nt].astype(np.float64)
        self.weighted = np.where(np.isnan(w), 0, v)
        self.sum_weight = np.nan_to_num(w) * vf
        self.last_margin = t["last_margin"][:nt].astype(np.float64)
        self.last_step = np.where(v > 0, 0, -1).astype(np.int64)
        self.eval_steps = [int(s) for s in t["eval_steps"]]
        self.eval_margins = [row.astype(np.float32) for row in t["eval_margin"]]
        return True


def metadata(**fields) -> dict[str, str]:
    out = {"format": FORMAT, "version": str(VERSION)}
    for k, v in fields.items():
        out[k] = v if isinstance(v, str) else ("true" if v is True else "false" if v is False else repr(v) if isinstance(v, float) else str(v))
    return out


def write(path: Path, tensors: dict[str, np.ndarray], meta: dict[str, str]) -> None:
    """Atomically (a reader never sees it half written)."""
    from safetensors.numpy import save_file

    from .files import replacing

    with replacing(path) as tmp:
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(tmp), metadata=meta)


def read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import safe_open
    from safetensors.numpy import load_file

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    return load_file(str(path)), meta


def suspects(t: dict[str, np.ndarray]) -> np.ndarray:
    """Row indices of the training rows with visits > 0, most suspect first: ascending aum, ties
    by line (contracts section 8). A row is a suspect when its aum < 0."""
    idx = np.flatnonzero((t["split"] == 0) & (t["visits"] > 0))
    order = np.lexsort((t["line"][idx], t["aum"][idx]))
    return idx[order]
