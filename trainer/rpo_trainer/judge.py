"""Automatic judge: a local reward model pre-fills votes on a candidates file (docs/evaluate.md).

    python -m rpo_trainer.judge FILE.pref.jsonl --model PATH_OR_HUB_ID [--batch-size 8] [--max-length 1024]
                                [--out OUT.pref.jsonl] [--annotator model:NAME] [--device cpu|cuda]

Any Hugging Face sequence-classification model (AutoModelForSequenceClassification) scores the
prompt with each response; the higher score gets the vote. A model with one output scores its
logit; with two or more, the log-probability of its last label. Input: the tokenizer's chat
template over the prompt (a string becomes one user message) and the response as the assistant
turn when the tokenizer has one, else the (prompt, response) text pair.

What is written, per record that nobody has judged yet (a candidates record with neither
`rpo_label` nor `rpo_votes`): one vote in `rpo_votes` (docs/formats.md, "Votes"), the eight keys
in order, annotator `model:<name>` (the annotator-naming convention that marks an automatic
judge: the vote struct has no machine field; the win rate and agreement treat it as an annotator
of its own, and people's votes outrank it in the win rate), `choice` the response it scored
higher (`responses.0` / `responses.1`; equal scores: `status` "tie"), `note` the two scores,
`shown` null (it saw no screen), `adjudicator` false. No `rpo_label` is written: the record still
needs a person's label, and the editor shows the judge's vote when one is given.

Bytes: the vote is inserted before the record's closing brace as `, "rpo_votes": [...]` in the
line's own separator style; every other byte of the file (other lines, line endings, BOM) is
kept. The result is written to a temporary file in the same folder, synced and renamed over the
target (FILE itself by default); if FILE changed on disk while scoring, nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import ConfigError, DataError

MACHINE_PREFIX = "model:"  # an automatic judge's annotator name starts with it (never a person's)


@dataclass
class Plan:
    """Which lines get a vote: line index -> (prompt, [r0, r1])."""

    todo: dict[int, tuple[object, list]] = field(default_factory=dict)
    labeled: int = 0
    invalid: int = 0
    other: int = 0


def split_lines(data: bytes) -> list[bytes]:
    """Lines with their endings (b'\\n' or b'\\r\\n'); the last may have none."""
    out = data.split(b"\n")
    lines = [x + b"\n" for x in out[:-1]]
    if out[-1]:
        lines.append(out[-1])
    return lines


def body_and_eol(line: bytes) -> tuple[bytes, bytes]:
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    if line.endswith(b"\n"):
        return line[:-1], b"\n"
    return line, b""


def plan_votes(lines: list[bytes]) -> Plan:
    plan = Plan()
    for i, line in enumerate(lines):
        body, _ = body_and_eol(line)
        if i == 0 and body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        if not body.strip():
            continue
        try:
            rec = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            plan.invalid += 1
            continue
        if not isinstance(rec, dict):
            plan.invalid += 1
            continue
        responses = rec.get("responses")
        if "rpo_label" in rec or "rpo_votes" in rec:
            plan.labeled += 1
            continue
        if "chosen" in rec or not isinstance(responses, list) or len(responses) != 2 or "prompt" not in rec:
            plan.other += 1
            continue
        plan.todo[i] = (rec["prompt"], responses)
    return plan


def text_of(turns) -> str:
    if isinstance(turns, str):
        return turns
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in turns)


def messages_of(prompt, response) -> list[dict]:
    p = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
    r = [{"role": "assistant", "content": response}] if isinstance(response, str) else list(response)
    return p + r


def choose(s0: float, s1: float) -> tuple[str | None, str | None]:
    """(choice, status) of a vote from the two scores."""
    if s0 == s1:
        return None, "tie"
    return ("responses.0" if s0 > s1 else "responses.1"), None


def make_vote(annotator: str, time: str, s0: float, s1: float) -> dict:
    choice, status = choose(s0, s1)
    return {"annotator": annotator, "time": time, "choice": choice, "strength": None, "status": status,
            "note": f"reward model scores: responses.0 {s0:.6g}, responses.1 {s1:.6g}", "shown": None, "adjudicator": False}


def insert_votes(line: bytes, votes: list[dict]) -> bytes:
    """The line with `"rpo_votes": votes` added as its last key, every other byte kept."""
    body, eol = body_and_eol(line)
    stripped = body.rstrip(b" \t")
    if not stripped.endswith(b"}"):
        raise DataError("a record line does not end in '}'")
    text = stripped.decode("utf-8")
    spaced = '", "' in text or '": ' in text
    ascii_only = all(ord(c) < 128 for c in text.lstrip("\ufeff"))
    sep, colon = (", ", ": ") if spaced else (",", ":")
    value = json.dumps(votes, ensure_ascii=ascii_only, separators=(sep, colon))
    inner = text[:-1].rstrip()
    empty = inner.endswith("{")
    added = ("" if empty else sep) + json.dumps("rpo_votes") + colon + value
    return (inner + added + "}").encode("utf-8") + body[len(stripped):] + eol


class Scorer:
    """A sequence-classification reward model: score(prompt, response) -> float."""

    def __init__(self, model: str, device: str | None = None, max_length: int = 1024):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(model)
        if self.tok.pad_token is None:
            self.tok.pad_token = self.tok.eos_token or self.tok.unk_token
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        kwargs = {"torch_dtype": torch.bfloat16} if self.device.startswith("cuda") and torch.cuda.is_bf16_supported() else {}
        self.model = AutoModelForSequenceClassification.from_pretrained(model, **kwargs).to(self.device).eval()
        if self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.tok.pad_token_id
        self.max_length = max_length
        self.template = bool(getattr(self.tok, "chat_template", None))

    def score(self, pairs: list[tuple[object, object]]) -> list[float]:
        torch = self.torch
        if self.template:
            texts = [self.tok.apply_chat_template(messages_of(p, r), tokenize=False) for p, r in pairs]
            enc = self.tok(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt", add_special_tokens=False)
        else:
            enc = self.tok([text_of(p) for p, _ in pairs], [text_of(r) for _, r in pairs], padding=True,
                           truncation=True, max_length=self.max_length, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        with torch.no_grad():
            logits = self.model(**enc).logits.float()
        if logits.shape[-1] == 1:
            return logits[:, 0].tolist()
        return torch.log_softmax(logits, dim=-1)[:, -1].tolist()


def default_annotator(model: str) -> str:
    p = Path(model)
    name = p.name if p.exists() else model
    return MACHINE_PREFIX + (name or model)


def judge_file(path: str | Path, model: str, out: str | Path | None = None, annotator: str | None = None,
               batch_size: int = 8, max_length: int = 1024, device: str | None = None, scorer: Scorer | None = None,
               progress=None) -> dict:
    path = Path(path)
    annotator = annotator or default_annotator(model)
    if not annotator.startswith(MACHINE_PREFIX):
        raise ConfigError(f"--annotator must start with {MACHINE_PREFIX!r} (an automatic judge is never named as a person), found {annotator!r}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, found {batch_size}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    lines = split_lines(data)
    plan = plan_votes(lines)
    result = {"file": str(path), "out": str(Path(out) if out else path), "annotator": annotator, "voted": 0,
              "ties": 0, "labeled": plan.labeled, "invalid": plan.invalid, "other": plan.other}
    if not plan.todo:
        if out:
            write_atomic(Path(out), data)
        return result
    scorer = scorer or Scorer(model, device=device, max_length=max_length)
    time = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    items = list(plan.todo.items())
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        pairs = [(p, r[k]) for _, (p, r) in chunk for k in (0, 1)]
        scores = scorer.score(pairs)
        for j, (i, _) in enumerate(chunk):
            s0, s1 = scores[2 * j], scores[2 * j + 1]
            vote = make_vote(annotator, time, s0, s1)
            lines[i] = insert_votes(lines[i], [vote])
            result["voted"] += 1
            result["ties"] += vote["status"] == "tie"
        if progress:
            progress(min(start + batch_size, len(items)), len(items))
    target = Path(out) if out else path
    if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        raise DataError(f"{path} changed on disk while it was being judged: nothing written; run the judge again")
    write_atomic(target, b"".join(lines))
    return result


def write_atomic(target: Path, data: bytes) -> None:
    target = target.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rpo_trainer.judge", description="Pre-fill votes on a candidates file with a local reward model (votes marked model:<name>).")
    add_arguments(ap)
    args = ap.parse_args(argv)
    return run(args)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("file", help="a candidates file (.pref.jsonl), e.g. from rpo generate")
    ap.add_argument("--model", required=True, help="a sequence-classification reward model: a folder or a Hugging Face id")
    ap.add_argument("--out", help="write here instead of replacing FILE (atomically)")
    ap.add_argument("--annotator", help="the votes' annotator (default model:<folder or id name>; must start with model:)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=1024)
    ap.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")


def run(args: argparse.Namespace) -> int:
    from .errors import TrainerError

    def progress(done: int, total: int) -> None:
        print(f"judged {done}/{total}", file=sys.stderr, flush=True)

    try:
        result = judge_file(args.file, args.model, out=args.out, annotator=args.annotator, batch_size=args.batch_size,
                            max_length=args.max_length, device=args.device, progress=progress)
    except (TrainerError, OSError) as e:
        print(f"judge: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
