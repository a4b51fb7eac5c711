"""The prompts `rpo generate` answers: a run's eval split (docs/contracts.md §4), or any
preference or prompt file, where a line that gives no prompt is skipped and counted."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import RunConfig
from .data import jsonl_lines, load_dataset, prompt_key, split_eval, split_implicit_prompt, unpaired_items
from .errors import DataError


@dataclass
class Prompt:
    prompt: Any  # a string or a message list, as in the source record
    line: int  # 1-based line in the source file
    chosen: Any = None  # the record's chosen response (the `dataset` baseline), when it has one


@dataclass
class PromptSet:
    file: str
    sha256: str
    split: str  # "eval" or "all"
    prompts: list[Prompt]
    skipped: Counter = field(default_factory=Counter)  # reason -> source lines


def _valid_turns(v: Any) -> bool:
    if isinstance(v, str):
        return True
    return isinstance(v, list) and bool(v) and all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str) for m in v)


def prompt_of(obj: Any) -> tuple[Any, Any]:
    """(prompt, chosen or None) of one parsed line, or raises ValueError saying why it has none.

    Accepts every record shape of docs/formats.md (paired, with the implicit prompt split off as
    TRL does; unpaired; completion; candidates) and a bare prompt record `{"prompt": ...}`."""
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    chosen = obj.get("chosen")
    if obj.get("prompt") is None and chosen is not None and obj.get("rejected") is not None:
        if not (_valid_turns(chosen) and _valid_turns(obj["rejected"])) or isinstance(chosen, str) != isinstance(obj["rejected"], str):
            raise ValueError('"chosen" and "rejected" must be strings or message lists of one style')
        prompt, chosen, _ = split_implicit_prompt(chosen, obj["rejected"])
        if not prompt:
            raise ValueError("no prompt: chosen and rejected share no prefix")
        return prompt, chosen
    prompt = obj.get("prompt")
    if prompt is None:
        raise ValueError('no "prompt" field')
    if not _valid_turns(prompt) or prompt == "":
        raise ValueError('"prompt" must be a non-empty string or a list of {role, content} messages')
    if chosen is not None and (not _valid_turns(chosen) or isinstance(chosen, str) != isinstance(prompt, str)):
        chosen = None  # not usable as a response in the prompt's style
    return prompt, chosen


def prompts_from_file(path: str | Path) -> PromptSet:
    """Every line with a prompt, in file order; invalid lines skipped and counted by reason."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise DataError(f"{p}: cannot read the prompt file: {e.strerror}") from None
    prompts: list[Prompt] = []
    skipped: Counter = Counter()
    for i, line in jsonl_lines(raw):
        try:
            obj = json.loads(line.decode("utf-8"))
            prompt, chosen = prompt_of(obj)
        except UnicodeDecodeError:
            skipped["utf8"] += 1
            continue
        except json.JSONDecodeError:
            skipped["json"] += 1
            continue
        except ValueError:
            skipped["no_prompt"] += 1
            continue
        prompts.append(Prompt(prompt=prompt, line=i, chosen=chosen))
    return PromptSet(file=str(p.resolve()), sha256=hashlib.sha256(raw).hexdigest(), split="all", prompts=prompts, skipped=skipped)


def eval_prompts(cfg: RunConfig) -> PromptSet:
    """The run's eval records (its eval_dataset, or the last ceil(eval_split * n) usable records of
    its dataset), read with the run's own settings, as the trainer read them."""
    kwargs = dict(paired=cfg.paired, min_agreement=cfg.min_agreement, label_smoothing=cfg.label_smoothing, votes=cfg.votes)
    if cfg.eval_dataset:
        ds = load_dataset(cfg.eval_dataset, **kwargs)
        items = ds.records
    elif cfg.eval_split > 0:
        ds = load_dataset(cfg.dataset, **kwargs)
        items = ds.records if cfg.paired else unpaired_items(ds.records)
        _, items = split_eval(items, cfg.eval_split)
    else:
        raise DataError(f"the run has no eval split (eval_split 0 and no eval_dataset in its config): no held-out prompts to sample",
                        hint="Give a prompt or preference file with --prompts FILE.")
    prompts, seen = [], set()
    for r in items:  # rpo-unpaired: a paired record gives two items with one prompt
        k = (r.line, prompt_key(r.prompt))
        if k in seen:
            continue
        seen.add(k)
        prompts.append(Prompt(prompt=r.prompt, line=r.line, chosen=r.chosen if r.chosen is not None else (r.completion if r.label else None)))
    return PromptSet(file=str(Path(ds.path).resolve()), sha256=ds.sha256, split="eval", prompts=prompts)


def choose(prompts: list[Prompt], count: int | None, seed: int) -> list[Prompt]:
    """`count` prompts drawn with `seed`, kept in file order (all of them when count is None or larger)."""
    if count is None or count >= len(prompts):
        return list(prompts)
    picked = sorted(random.Random(seed).sample(range(len(prompts)), count))
    return [prompts[i] for i in picked]


__all__ = ["Prompt", "PromptSet", "prompt_of", "prompts_from_file", "eval_prompts", "choose"]
