"""Preference files -> one canonical record shape -> token ids -> padded batches.

Formats (docs/formats.md, parsed like src/core/dataset/formats.ts): TRL paired
`{prompt?, chosen, rejected}` (standard strings or conversational message lists, implicit prompt
split off as TRL does), unpaired `{prompt, completion, label}`, raw or converted Anthropic HH.
The usable list follows docs/contracts.md section 4.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Union

import torch

from .errors import DataError
from .judge import MACHINE_PREFIX

# `disputed`: the record's votes (rpo_votes) do not resolve (docs/formats.md, "Votes").
LEFT_OUT_STATUSES = ("tie", "skip", "both_bad", "excluded", "disputed")
LABEL_FIELD = "rpo_label"
VOTES_FIELD = "rpo_votes"
BLIND_FIELD = "rpo_blind"
VOTE_KEYS = ("annotator", "time", "choice", "strength", "status", "note", "shown", "adjudicator")
VOTE_STATUSES = ("tie", "skip", "both_bad", "excluded")

Turns = Union[str, list]


# ---------------------------------------------------------------- records

@dataclass
class Record:
    """A usable preference record, before tokenization. `line` is 1-based."""

    line: int
    prompt: Turns
    conversational: bool
    chosen: Turns | None = None  # paired
    rejected: Turns | None = None
    completion: Turns | None = None  # unpaired
    label: bool | None = None
    # Vote shares (docs/contracts.md section 4): of the counting votes (skips abstain), the share
    # that agrees with the record's label and the share for the other side; 1 and 0 without votes.
    agreement: float = 1.0
    dissent: float = 0.0
    eps: float = 0.0  # label smoothing of this record: min(0.5, label_smoothing * dissent)

    @property
    def prompt_text(self) -> str:
        return prompt_text(self.prompt)

    @property
    def prompt_key(self) -> bytes:
        return prompt_key(self.prompt)


def prompt_text(prompt: Turns) -> str:
    """The text embedded for a prompt (docs/contracts.md section 1)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def prompt_key(prompt: Turns) -> bytes:
    return hashlib.sha256(prompt_text(prompt).encode("utf-8")).digest()


def split_implicit_prompt(chosen: Turns, rejected: Turns) -> tuple[Turns, Turns, Turns]:
    """TRL's implicit prompt: the longest common prefix of chosen and rejected."""
    if isinstance(chosen, str):
        n = min(len(chosen), len(rejected))
        idx = 0
        while idx < n and chosen[idx] == rejected[idx]:
            idx += 1
        if 0 < idx < n and chosen[idx - 1] == " ":
            idx -= 1
        return chosen[:idx], chosen[idx:], rejected[idx:]
    idx = 0
    while idx < len(chosen) and idx < len(rejected) and chosen[idx] == rejected[idx]:
        idx += 1
    return chosen[:idx], chosen[idx:], rejected[idx:]


@dataclass
class LoadedDataset:
    path: str
    sha256: str
    lines: int
    records: list[Record]
    left_out: Counter = field(default_factory=Counter)


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def _turns(obj: dict, key: str, where: str) -> tuple[Turns, bool]:
    v = obj[key]
    if isinstance(v, str):
        return v, False
    if isinstance(v, list):
        for i, m in enumerate(v):
            if not isinstance(m, dict):
                raise DataError(f'{where}: field "{key}[{i}]" must be a message {{role, content}}, found {_type_name(m)}')
            for sub in ("role", "content"):
                if not isinstance(m.get(sub), str):
                    raise DataError(f'{where}: field "{key}[{i}].{sub}" must be a string, found {_type_name(m.get(sub))}')
        return v, True
    raise DataError(f'{where}: field "{key}" must be a string or a list of messages, found {_type_name(v)}')


def _read(obj: dict, keys: list[str], where: str) -> tuple[list[Turns], bool]:
    values, style, style_key = [], None, ""
    for k in keys:
        v, conv = _turns(obj, k, where)
        if style is not None and conv != style:
            raise DataError(f'{where}: field "{k}" and field "{style_key}" mix a string and a message list: one record uses one style')
        style, style_key = conv, k
        values.append(v)
    return values, bool(style)


def classify(obj: dict, where: str, votes_policy: str = "resolved") -> tuple[str, Record | None]:
    """Return (state, record): state is 'usable', a left-out reason, or raises DataError.

    `votes_policy` other than "resolved": a record with votes trains by its votes resolved again
    under that policy (resolve_votes), which may swap chosen and rejected (or flip the label)."""
    label = obj.get(LABEL_FIELD)
    status = None
    if label is not None:
        if not isinstance(label, dict):
            raise DataError(f'{where}: field "{LABEL_FIELD}" must be an object, found {_type_name(label)}')
        status = label.get("status")
        if status is not None and status not in LEFT_OUT_STATUSES:
            raise DataError(f'{where}: field "{LABEL_FIELD}.status" must be one of {", ".join(LEFT_OUT_STATUSES)} or null, found {json.dumps(status)}')
    line = int(where.rsplit(":", 1)[1])
    if BLIND_FIELD in obj and obj[BLIND_FIELD] is not True:
        # the mark for blind re-annotation (docs/formats.md): true or absent, as formats.ts classify
        raise DataError(f'{where}: field "{BLIND_FIELD}" must be true (or absent), found {json.dumps(obj[BLIND_FIELD], ensure_ascii=False)[:40]}')
    has = lambda k: k in obj and obj[k] is not None  # noqa: E731
    if VOTES_FIELD in obj:
        kind = "paired" if has("chosen") or has("rejected") else "candidates" if has("responses") else "unpaired"
        _check_votes(obj[VOTES_FIELD], kind, where)
    has = lambda k: k in obj and obj[k] is not None  # noqa: E731
    if has("chosen") or has("rejected"):
        for k in ("chosen", "rejected"):
            if not has(k):
                raise DataError(f'{where}: a paired record needs both "chosen" and "rejected"; "{k}" is missing')
        if has("prompt"):
            (prompt, chosen, rejected), conv = _read(obj, ["prompt", "chosen", "rejected"], where)
        else:
            (chosen, rejected), conv = _read(obj, ["chosen", "rejected"], where)
            prompt, chosen, rejected = split_implicit_prompt(chosen, rejected)
        rec = Record(line=line, prompt=prompt, conversational=conv, chosen=chosen, rejected=rejected)
    elif has("responses"):
        return status or "unlabeled", None
    elif has("completion"):
        if not has("prompt"):
            raise DataError(f'{where}: an unpaired record needs "prompt" next to "completion"')
        (prompt, completion), conv = _read(obj, ["prompt", "completion"], where)
        lab = obj.get("label")
        if lab is None:
            return status or "unlabeled", None
        if not isinstance(lab, bool):
            raise DataError(f'{where}: field "label" must be true or false, found {_type_name(lab)}')
        rec = Record(line=line, prompt=prompt, conversational=conv, completion=completion, label=lab)
    else:
        keys = ", ".join(json.dumps(k) for k in list(obj)[:8]) or "(none)"
        raise DataError(
            f"{where}: not a preference record: expected {{prompt, chosen, rejected}} or {{prompt, completion, label}}; found keys {keys}")
    votes = obj.get(VOTES_FIELD)
    if votes_policy != "resolved" and isinstance(votes, list) and votes:
        judgement = resolve_votes(votes, votes_policy)
        agree, other = ("chosen", "rejected") if rec.chosen is not None else (("up", "down") if rec.label else ("down", "up"))
        if judgement == other:
            if rec.chosen is not None:
                rec.chosen, rec.rejected = rec.rejected, rec.chosen
            else:
                rec.label = not rec.label
        elif judgement != agree:
            return str(judgement), None
        swapped = judgement == other and rec.chosen is not None
    elif status:
        return status, None
    else:
        swapped = False
    if isinstance(votes, list):
        rec.agreement, rec.dissent = vote_shares(votes, paired=rec.chosen is not None, label=rec.label)
        if swapped:  # the votes name the fields as the line has them: "rejected" now agrees
            rec.agreement, rec.dissent = rec.dissent, rec.agreement
    return "usable", rec


def deciding_votes(votes: list[dict]) -> list[dict]:
    """The people's votes where any person voted, else all: an automatic judge (annotator
    `model:<name>`) never outvotes a person. src/core/dataset/votes.ts decidingVotes."""
    people = [v for v in votes if not v["annotator"].startswith(MACHINE_PREFIX)]
    return people or votes


def resolve_votes(votes: list[dict], policy: str) -> str:
    """The judgement (a choice or a status), or "disputed": src/core/dataset/votes.ts resolveVotes."""
    def judgement(v: dict) -> str:
        return v["status"] or v["choice"]
    counting = [v for v in deciding_votes(votes) if v["status"] != "skip"]
    if not counting:
        return "skip"
    if policy == "adjudicated":
        for v in reversed(counting):
            if v["adjudicator"]:
                return judgement(v)
    if policy == "majority":
        counts: dict[str, int] = {}
        for v in counting:
            counts[judgement(v)] = counts.get(judgement(v), 0) + 1
        best, best_n, tied = "", 0, False
        for j, n in counts.items():
            if n > best_n:
                best, best_n, tied = j, n, False
            elif n == best_n:
                tied = True
        return "disputed" if tied else best
    first = judgement(counting[0])
    return first if all(judgement(v) == first for v in counting) else "disputed"


def vote_shares(votes: list[dict], paired: bool, label: bool | None) -> tuple[float, float]:
    """(agreement, dissent): the shares of the counting votes (of deciding_votes; a skip abstains) whose choice is the
    record's label (paired: "chosen"; unpaired: "up" for label true, "down" for false) and the
    opposite choice. Status votes (tie, both_bad, excluded) count in neither share. No counting
    vote: (1, 0). Mirrors src/core/dataset/votes.ts voteShares."""
    agree, other = ("chosen", "rejected") if paired else (("up", "down") if label else ("down", "up"))
    counting = [v for v in deciding_votes(votes) if v.get("status") != "skip"]
    if not counting:
        return 1.0, 0.0
    n = len(counting)
    return sum(v.get("choice") == agree for v in counting) / n, sum(v.get("choice") == other for v in counting) / n


def _check_votes(votes: Any, kind: str, where: str) -> None:
    """The rules of src/core/dataset/votes.ts checkVotes: a malformed vote is a malformed line."""
    if not isinstance(votes, list):
        raise DataError(f'{where}: field "{VOTES_FIELD}" must be a list of votes, found {_type_name(votes)}')
    choices = {"paired": ("chosen", "rejected"), "candidates": ("responses.0", "responses.1")}.get(kind, ("up", "down"))
    for i, v in enumerate(votes):
        f = f"{VOTES_FIELD}[{i}]"
        if not isinstance(v, dict):
            raise DataError(f'{where}: field "{f}" must be an object, found {_type_name(v)}')
        extra = [k for k in v if k not in VOTE_KEYS]
        missing = [k for k in VOTE_KEYS if k not in v]
        if extra or missing:
            raise DataError(f'{where}: field "{f}.{(extra or missing)[0]}" {"is not a vote key" if extra else "is missing"}')
        if not isinstance(v["annotator"], str) or not v["annotator"] or not isinstance(v["time"], str):
            raise DataError(f'{where}: field "{f}.annotator" / "{f}.time" must be strings')
        if v["choice"] is not None and v["choice"] not in choices:
            raise DataError(f'{where}: field "{f}.choice" must be one of {", ".join(choices)} or null, found {json.dumps(v["choice"])}')
        if v["status"] is not None and v["status"] not in VOTE_STATUSES:
            raise DataError(f'{where}: field "{f}.status" must be one of {", ".join(VOTE_STATUSES)} or null, found {json.dumps(v["status"])}')
        if (v["choice"] is None) == (v["status"] is None):
            raise DataError(f'{where}: field "{f}.choice": a vote has either a choice or a status (exactly one of them is null)')
        if v["strength"] not in (None, "slightly", "clearly"):
            raise DataError(f'{where}: field "{f}.strength" must be slightly, clearly or null, found {json.dumps(v["strength"])}')
        if v["note"] is not None and not isinstance(v["note"], str):
            raise DataError(f'{where}: field "{f}.note" must be a string or null')
        sh = v["shown"]
        if sh is not None and not (isinstance(sh, list) and len(sh) == 2 and all(isinstance(x, str) for x in sh)):
            raise DataError(f'{where}: field "{f}.shown" must be a list of two field names or null')
        if not isinstance(v["adjudicator"], bool):
            raise DataError(f'{where}: field "{f}.adjudicator" must be true or false, found {_type_name(v["adjudicator"])}')


def jsonl_lines(raw: bytes) -> Iterator[tuple[int, bytes]]:
    """The lines of a JSONL file that are not blank: (1-based line number, its bytes without the
    ending, `\n` or `\r\n`, and without a BOM at the start of the file)."""
    for i, line in enumerate(raw.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if i == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if line.strip(b" \t"):
            yield i, line


def load_dataset(path: str | Path, paired: bool, min_agreement: float = 0.0, label_smoothing: float = 0.0,
                 votes: str = "resolved") -> LoadedDataset:
    """Read a JSONL file; raise DataError naming file and line for malformed lines.

    Records whose vote agreement is below `min_agreement` are left out (`below_min_agreement`);
    each record's `eps` is min(0.5, label_smoothing * its dissent share)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataError(f"{p}: cannot read the dataset: {e.strerror}") from None
    sha = hashlib.sha256(raw).hexdigest()
    records: list[Record] = []
    left_out: Counter = Counter()
    lines = 0
    for i, line_bytes in jsonl_lines(raw):
        lines += 1
        where = f"{p}:{i}"
        try:
            text = line_bytes.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DataError(f"{where}: invalid UTF-8 at byte {e.start + 1} of the line") from None
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}:{e.colno}: not valid JSON: {e.msg}") from None
        if not isinstance(obj, dict):
            raise DataError(f"{where}: each line must be a JSON object, found {_type_name(obj)}")
        state, rec = classify(obj, where, votes)
        if rec is None:
            left_out[state] += 1
        elif paired and rec.chosen is None:
            left_out["unpaired"] += 1
        elif rec.agreement < min_agreement:
            left_out["below_min_agreement"] += 1
        else:
            rec.eps = min(0.5, label_smoothing * rec.dissent)
            records.append(rec)
    return LoadedDataset(path=str(p), sha256=sha, lines=lines, records=records, left_out=left_out)


def unpaired_items(records: list[Record]) -> list[Record]:
    """The rpo-unpaired usable list: paired records give their chosen (true) and rejected (false)."""
    out = []
    for r in records:
        if r.chosen is not None:
            shares = {"agreement": r.agreement, "dissent": r.dissent, "eps": r.eps}
            out.append(Record(line=r.line, prompt=r.prompt, conversational=r.conversational, completion=r.chosen, label=True, **shares))
            out.append(Record(line=r.line, prompt=r.prompt, conversational=r.conversational, completion=r.rejected, label=False, **shares))
        else:
            out.append(r)
    return out


def split_eval(items: list, fraction: float) -> tuple[list, list]:
    """The last ceil(fraction * n) usable records are the eval set (contracts section 4)."""
    if fraction <= 0 or not items:
        return items, []
    k = math.ceil(fraction * len(items))
    return items[:len(items) - k], items[len(items) - k:]


# ---------------------------------------------------------------- tokenization

@dataclass
class Example:
    """A tokenized training item: paired (chosen and rejected) or unpaired (one response)."""

    line: int
    key: bytes
    prompt_ids: list[int]
    responses: list[list[int]]  # [chosen, rejected] or [completion]
    label: bool | None = None  # unpaired only
    truncated: bool = False
    eps: float = 0.0  # label smoothing from the votes (Record.eps)


class Tokenizing:
    """Applies the chat template and the truncation rules of the run config."""

    def __init__(self, tokenizer, max_length: int, max_prompt_length: int, mode: str, source: str) -> None:
        self.tok = tokenizer
        self.max_length = max_length
        self.max_prompt_length = max_prompt_length
        self.mode = mode
        self.source = source

    def _texts(self, rec: Record, response: Turns) -> tuple[str, str, bool]:
        """(prompt text, response text, prompt has special tokens already)."""
        if not rec.conversational:
            return rec.prompt, response, False
        if not getattr(self.tok, "chat_template", None):
            raise DataError(f"{self.source}:{rec.line}: conversational data needs a chat template, and the tokenizer has none",
                            hint='Set "chat_template" in the run config, or use a chat model\'s tokenizer.')
        prompt = self.tok.apply_chat_template(rec.prompt, add_generation_prompt=True, tokenize=False)
        full = self.tok.apply_chat_template(list(rec.prompt) + list(response), tokenize=False)
        if not full.startswith(prompt):
            # Templates that render the prompt differently once a reply follows: drop the
            # generation prompt and take the remainder.
            prompt = self.tok.apply_chat_template(rec.prompt, tokenize=False)
            if not full.startswith(prompt):
                raise DataError(f"{self.source}:{rec.line}: the chat template renders the prompt differently when the response follows; cannot split prompt and response")
        return prompt, full[len(prompt):], True

    def encode(self, rec: Record) -> Example:
        responses = [rec.chosen, rec.rejected] if rec.chosen is not None else [rec.completion]
        prompt_ids: list[int] | None = None
        out: list[list[int]] = []
        truncated = False
        for resp in responses:
            ptext, rtext, templated = self._texts(rec, resp)
            if prompt_ids is None:
                prompt_ids = self.tok(ptext, add_special_tokens=not templated)["input_ids"]
            ids = self.tok(rtext, add_special_tokens=False)["input_ids"]
            if not templated and self.tok.eos_token_id is not None:
                ids = ids + [self.tok.eos_token_id]
            out.append(ids)
        assert prompt_ids is not None
        if len(prompt_ids) > self.max_prompt_length:
            if self.mode == "error":
                raise DataError(f"{self.source}:{rec.line}: the prompt is {len(prompt_ids)} tokens, longer than max_prompt_length ({self.max_prompt_length})",
                                hint='Raise max_prompt_length, or set "truncation": "truncate" to keep the end of long prompts.')
            prompt_ids = prompt_ids[-self.max_prompt_length:]
            truncated = True
        room = self.max_length - len(prompt_ids)
        for k, ids in enumerate(out):
            if len(ids) > room:
                if self.mode == "error":
                    which = ("chosen", "rejected")[k] if len(out) == 2 else "completion"
                    raise DataError(f"{self.source}:{rec.line}: prompt plus {which} is {len(prompt_ids) + len(ids)} tokens, longer than max_length ({self.max_length})",
                                    hint='Raise max_length, or set "truncation": "truncate" to cut long responses.')
                out[k] = ids[:room]
                truncated = True
        return Example(line=rec.line, key=rec.prompt_key, prompt_ids=list(prompt_ids), responses=out,
                       label=rec.label if rec.chosen is None else None, truncated=truncated, eps=rec.eps)


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-padded sequences: paired -> all chosen then all rejected (2B rows); unpaired -> B rows.

    Left padding puts every response at the end of its row, so the model only needs logits for
    the last (longest response + 1) positions (`logits_to_keep`). `position_ids` count from 0 at
    each row's first real token, so the padding changes nothing. `loss_mask[b, t]` is 1 where
    token t is a response token (its log-prob counts).
    """
    seqs, masks = [], []
    paired = examples and examples[0].label is None
    order = [0, 1] if paired else [0]
    for k in order:
        for ex in examples:
            resp = ex.responses[k]
            seqs.append(ex.prompt_ids + resp)
            masks.append([0] * len(ex.prompt_ids) + [1] * len(resp))
    width = max((len(s) for s in seqs), default=0)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(seqs), width), dtype=torch.long)
    loss_mask = torch.zeros((len(seqs), width), dtype=torch.long)
    position_ids = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, (s, m) in enumerate(zip(seqs, masks)):
        start = width - len(s)
        input_ids[i, start:] = torch.tensor(s, dtype=torch.long)
        attention[i, start:] = 1
        loss_mask[i, start:] = torch.tensor(m, dtype=torch.long)
        position_ids[i, start:] = torch.arange(len(s))
    batch = {"input_ids": input_ids, "attention_mask": attention, "loss_mask": loss_mask, "position_ids": position_ids}
    if not paired:
        batch["labels"] = torch.tensor([bool(ex.label) for ex in examples], dtype=torch.bool)
    # Label smoothing per example (paired: per pair; unpaired: per row); build_contrast applies it.
    batch["eps"] = torch.tensor([ex.eps for ex in examples], dtype=torch.float32)
    return batch
