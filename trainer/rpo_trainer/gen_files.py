"""The two files `rpo generate` writes (docs/formats.md, "Candidates from a run"): the blind
candidates file `<name>.pref.jsonl` and its sidecar `<name>.pref.jsonl.sources.jsonl`.

Pure functions for the records and the header, plus the appending and the resume check. No model
name ever goes into a candidates record; the sidecar says which model wrote which response.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .dynamics import pair_key
from .errors import ConfigError, EnvironmentProblem

SIDECAR_FORMAT = "rpo-candidates-sources"
SIDECAR_VERSION = 1
SIDECAR_SUFFIX = ".sources.jsonl"


def sidecar_path(candidates: Path) -> Path:
    return candidates.with_name(candidates.name + SIDECAR_SUFFIX)


# ---------------------------------------------------------------- pair key (docs/contracts.md §8)

def candidates_pair_key(prompt: Any, r0: Any, r1: Any) -> bytes:
    """The §8 key of `{prompt, responses: [r0, r1]}`: unordered in the two responses, so the
    record keeps it once labeling has made them chosen and rejected."""
    return pair_key(prompt, r0, r1)[0]


# ---------------------------------------------------------------- records

def b_first(seed: int, index: int) -> bool:
    """Whether record `index` (0-based) shows model B's response first: the low bit of the first
    byte of SHA-256("<seed>:<index>")."""
    return bool(hashlib.sha256(f"{seed}:{index}".encode("utf-8")).digest()[0] & 1)


def as_response(prompt: Any, text: str) -> Any:
    """A generated text in the prompt's style: a string, or one assistant message."""
    return text if isinstance(prompt, str) else [{"role": "assistant", "content": text}]


def record_lines(index: int, prompt: Any, response_a: Any, response_b: Any, seed: int) -> tuple[str, str]:
    """(candidates line, sidecar line) of record `index`, both ending in a newline."""
    swap = b_first(seed, index)
    responses = [response_b, response_a] if swap else [response_a, response_b]
    sources = ["B", "A"] if swap else ["A", "B"]
    candidate = json.dumps({"prompt": prompt, "responses": responses}, ensure_ascii=False) + "\n"
    key = candidates_pair_key(prompt, responses[0], responses[1]).hex()
    side = json.dumps({"line": index + 1, "key": key, "sources": sources}) + "\n"
    return candidate, side


def header(models: dict, prompts: dict, settings: dict) -> dict:
    return {"format": SIDECAR_FORMAT, "version": SIDECAR_VERSION, "models": models, "prompts": prompts, "settings": settings}


# ---------------------------------------------------------------- writing and resuming

def _complete_lines(path: Path) -> tuple[list[bytes], int]:
    """The complete (newline-terminated) lines of a file and the byte length they take."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(keepends=True), end


def _differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k} ({json.dumps(a)} in the file, {json.dumps(b)} now)")
    return out


@dataclass
class Output:
    """The candidates file and its sidecar, open for appending complete records."""

    path: Path
    sidecar: Path
    done: int  # records already complete in both files

    def append(self, lines: list[tuple[str, str]]) -> None:
        """Appends records: the candidates lines in one write, then the sidecar lines in one write.
        A failed write (disk full) is cut back, so both files keep only complete records."""
        if not lines:
            return
        for path, text in ((self.path, "".join(c for c, _ in lines)), (self.sidecar, "".join(s for _, s in lines))):
            size = path.stat().st_size
            data = text.encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(28, "short write")
                os.fsync(fd)
            except OSError as e:
                os.ftruncate(fd, size)
                raise EnvironmentProblem(f"{path}: cannot append the generated records: {e.strerror or e}",
                                         hint="Free some disk space, then run the same command again: it resumes after the last complete record.") from None
            finally:
                os.close(fd)
        self.done += len(lines)


def open_output(path: Path, head: dict, overwrite: bool = False) -> Output:
    """Opens the candidates file for a generation with header `head`.

    New (or `overwrite`): both files are created, the sidecar with the header. Existing: resume;
    the header must equal `head` (else a ConfigError naming what differs), both files are cut back
    to the records complete in both, and `done` says how many there are."""
    side = sidecar_path(path)
    header_line = json.dumps(head, ensure_ascii=False) + "\n"
    if path.exists() and not overwrite:
        if not side.exists():
            raise ConfigError(f"{path} exists and has no sidecar {side.name}: it was not written by rpo generate (or its sidecar was removed)",
                              hint="Choose another --out, or pass --overwrite to replace it.")
        side_lines, _ = _complete_lines(side)
        try:
            old = json.loads(side_lines[0]) if side_lines else None
        except json.JSONDecodeError:
            old = None
        if not isinstance(old, dict) or old.get("format") != SIDECAR_FORMAT:
            raise ConfigError(f"{side}:1: not an rpo-candidates-sources header", hint="Choose another --out, or pass --overwrite to replace both files.")
        # The batch size may change (out of memory: continue with smaller batches); nothing else.
        diffs = [d for d in _differences(old, head) if not d.startswith("settings.batch_size ")]
        if diffs:
            raise ConfigError(f"{path} was generated with other settings, so it cannot be continued: " + "; ".join(diffs[:4]),
                              hint="Run with the same options to resume, or choose another --out, or pass --overwrite to start again.")
        cand_lines, _ = _complete_lines(path)
        done = min(len(cand_lines), len(side_lines) - 1)
        _truncate_to(path, cand_lines[:done])
        _truncate_to(side, side_lines[:done + 1])
        if old != head:  # a new batch size: the header says what the rest is generated with
            from .files import write_text_atomic

            write_text_atomic(side, header_line + b"".join(side_lines[1:done + 1]).decode("utf-8"))
        return Output(path, side, done)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        side.write_text(header_line, "utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot create the candidates file: {e.strerror}", hint="Choose a folder you can write with --out.") from None
    return Output(path, side, 0)


def _truncate_to(path: Path, keep: list[bytes]) -> None:
    size = sum(len(x) for x in keep)
    if path.stat().st_size != size:
        with path.open("r+b") as f:
            f.truncate(size)
