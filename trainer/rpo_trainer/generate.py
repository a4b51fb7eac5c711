"""`python -m rpo_trainer generate RUN_DIR`: answers held-out prompts with a run's model (A) and a
baseline (B) and writes a blind candidates file plus its sidecar (gen_files.py; docs/evaluate.md).

Transformers `generate` with the KV cache on left-padded batches, the chat template for message
prompts, stop at EOS. LoRA runs load the base with the adapter; the reference baseline of a LoRA
run is the same model with the adapter switched off. bf16 on GPUs. Under `accelerate launch` every
rank takes its slice of each global batch and rank 0 writes the records in order.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from . import gen_files, gen_lock
from .checkpointing import checkpoint_folders, is_complete
from .config import RunConfig, config_from_dict
from .errors import ConfigError, DataError, TrainerError
from .events import EventWriter, human
from .gen_prompts import Prompt, PromptSet, choose, eval_prompts, prompts_from_file
from .modeling import dtype_kwarg, load_tokenizer


class OutOfMemory(TrainerError):
    kind = "out_of_memory"


def stop_flag():
    """SIGINT / SIGTERM, or the launcher gone (gen_launcher): the batch in progress stops at its
    next token and is not written."""
    from .train import StopFlag

    return StopFlag("stopping; the records written are kept (run the same command again to continue)")


@dataclass
class Settings:
    max_new_tokens: int = 128
    temperature: float = 0.7
    top_p: float = 0.9
    greedy: bool = False
    seed: int = 0
    batch_size: int = 8

    def check(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"--max-new-tokens must be at least 1, found {self.max_new_tokens}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, found {self.batch_size}")
        if not self.greedy and not (self.temperature > 0):
            raise ConfigError(f"--temperature must be above 0, found {self.temperature}", hint="Use --greedy for deterministic answers.")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"--top-p must be in (0, 1], found {self.top_p}")


@dataclass
class Source:
    """One side of the comparison, as the sidecar header names it."""

    kind: str  # run | reference | dataset
    run_dir: str | None = None
    checkpoint: str | None = None
    model: str | None = None
    base_model: str | None = None
    lora: bool = False

    def header(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- what to load

def read_run_config(run_dir: Path) -> RunConfig:
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder (no config.json)", hint="Give the folder of a training run (<output_dir>/<name>-<time>).")
    try:
        data = json.loads(cfg_path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"{cfg_path}: cannot read the run's config: {e}") from None
    return config_from_dict(data, run_dir, source=str(cfg_path))


def _final_ready(final: Path) -> bool:
    return (final / "adapter_config.json").is_file() or (final / "config.json").is_file()


def run_source(run_dir: Path, checkpoint: str | None = None) -> tuple[Source, RunConfig]:
    """The model of a run: `final/`, or `checkpoint` (`latest`, a step number, a `step-N` name or a
    folder), or the newest complete checkpoint when the run has no final model yet."""
    run_dir = run_dir.resolve()
    cfg = read_run_config(run_dir)
    folders = [p for p in checkpoint_folders(run_dir / "checkpoints") if is_complete(p)]
    chosen: Path | None = None
    if checkpoint is not None:
        if checkpoint == "latest":
            chosen = folders[-1] if folders else None
        else:
            named = Path(checkpoint)
            candidates = [named] if named.is_absolute() else [run_dir / "checkpoints" / checkpoint]
            if checkpoint.isdigit():
                candidates.insert(0, run_dir / "checkpoints" / f"step-{int(checkpoint):06d}")
            chosen = next((c for c in candidates if c.is_dir()), None)
            if chosen is None:
                have = ", ".join(p.name for p in folders) or "none"
                raise ConfigError(f"{run_dir}: no checkpoint {checkpoint!r} (complete checkpoints: {have})")
            if not is_complete(chosen):
                raise ConfigError(f"{chosen}: the checkpoint is incomplete (an interrupted save)", hint="Choose another checkpoint.")
        if chosen is None:
            raise ConfigError(f"{run_dir} has no complete checkpoint", hint="Sample its final model instead (leave out --checkpoint).")
    elif _final_ready(run_dir / "final"):
        final = run_dir / "final"
        lora = (final / "adapter_config.json").is_file()
        return Source("run", str(run_dir), None, str(final), cfg.model if lora else None, lora), cfg
    elif folders:
        chosen = folders[-1]
    else:
        raise ConfigError(f"{run_dir} has no final model and no checkpoint to sample",
                          hint="A run writes final/ when it completes and a checkpoint when stopped or every save_steps steps; resume it first.")
    if (chosen / "accelerate").is_dir():
        raise ConfigError(f"{chosen}: a sharded (FSDP / DeepSpeed) checkpoint cannot be sampled directly",
                          hint="Sample the run's final model, or resume the run to the end.")
    return Source("run", str(run_dir), str(chosen.resolve()), cfg.model, cfg.model if cfg.lora.enabled else None, cfg.lora.enabled), cfg


# ---------------------------------------------------------------- loading

def _precision(device: torch.device) -> torch.dtype:
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _from_pretrained(name: str, cfg: RunConfig, dtype: torch.dtype):
    from transformers import AutoModelForCausalLM

    try:
        return AutoModelForCausalLM.from_pretrained(name, **dtype_kwarg(dtype), trust_remote_code=cfg.trust_remote_code)
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot load the model {name!r}: {e}",
                          hint="Check the path or the Hub id (the Hub may be unreachable offline).") from None


def load_model(source: Source, cfg: RunConfig, device: torch.device):
    """The model of a `run` or `reference` source, on `device`, in eval mode."""
    dtype = _precision(device)
    if source.kind == "reference":
        model = _from_pretrained(cfg.model, cfg, dtype)
    elif source.checkpoint is None and source.lora:
        from peft import PeftModel

        model = PeftModel.from_pretrained(_from_pretrained(cfg.model, cfg, dtype), source.model)
    elif source.checkpoint is None:
        model = _from_pretrained(source.model, cfg, dtype)
    else:
        model = _from_pretrained(cfg.model, cfg, dtype)
        if cfg.lora.enabled:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=cfg.lora.r, lora_alpha=cfg.lora.alpha, lora_dropout=cfg.lora.dropout,
                                                     target_modules=cfg.lora.target_modules, task_type="CAUSAL_LM"))
        from safetensors.torch import load_file

        weights = Path(source.checkpoint) / "trainable.safetensors"
        if not weights.is_file():
            raise ConfigError(f"{source.checkpoint}: no trainable.safetensors in the checkpoint")
        state = load_file(str(weights))
        result = model.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=False)
        if result.unexpected_keys:
            raise ConfigError(f"{weights}: {len(result.unexpected_keys)} weights do not fit the model (first: {result.unexpected_keys[0]})",
                              hint="The checkpoint was written for another model or LoRA setting.")
    model.to(device)
    model.eval()
    return model


class Side:
    """Generates one side's answers: a model and its tokenizer, or the dataset's chosen responses."""

    def __init__(self, source: Source, cfg: RunConfig | None, model=None, tokenizer=None, adapter_off: bool = False) -> None:
        self.source, self.cfg, self.model, self.tok, self.adapter_off = source, cfg, model, tokenizer, adapter_off
        self.eos: list[int] = []
        if tokenizer is not None:
            tokenizer.padding_side = "left"
            eos = [tokenizer.eos_token_id]
            gen_eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
            eos += gen_eos if isinstance(gen_eos, list) else [gen_eos]
            self.eos = sorted({e for e in eos if e is not None})

    def prompt_ids(self, p: Prompt) -> list[int]:
        """Token ids of a prompt, as training formats it (data.Tokenizing): a string with the
        tokenizer's special tokens; messages through the chat template with the generation prompt.
        Long prompts keep their last max_prompt_length tokens."""
        if isinstance(p.prompt, str):
            ids = self.tok(p.prompt, add_special_tokens=True)["input_ids"]
        else:
            if not getattr(self.tok, "chat_template", None):
                raise DataError(f"line {p.line}: the prompt is a message list and the tokenizer has no chat template",
                                hint='Set "chat_template" in the run config, or give string prompts.')
            text = self.tok.apply_chat_template(p.prompt, add_generation_prompt=True, tokenize=False)
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
        limit = self.cfg.max_prompt_length if self.cfg is not None else None
        return ids[-limit:] if limit and len(ids) > limit else ids

    def answer(self, prompts: list[Prompt], settings: Settings, seed: int, stop) -> tuple[list[Any], int, bool]:
        """(responses in the prompt's style, generated tokens, whether a stop request cut the batch
        short) for a batch. Sampling is seeded per batch and side."""
        if self.source.kind == "dataset":
            return [p.chosen for p in prompts], 0, False
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

        fired = [False]

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):  # noqa: ARG002
                fired[0] = fired[0] or bool(stop())
                return torch.full((input_ids.shape[0],), fired[0], dtype=torch.bool, device=input_ids.device)

        encoded = [self.prompt_ids(p) for p in prompts]
        width = max(len(e) for e in encoded)
        pad = self.tok.pad_token_id
        device = next(self.model.parameters()).device
        input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for i, e in enumerate(encoded):
            input_ids[i, width - len(e):] = torch.tensor(e, dtype=torch.long)
            attention[i, width - len(e):] = 1
        config = GenerationConfig(max_new_tokens=settings.max_new_tokens, do_sample=not settings.greedy, pad_token_id=pad,
                                  eos_token_id=self.eos or None, use_cache=True,
                                  **({} if settings.greedy else {"temperature": settings.temperature, "top_p": settings.top_p, "top_k": 0}))
        torch.manual_seed(seed)
        ctx = self.model.disable_adapter() if self.adapter_off else contextlib.nullcontext()
        with torch.inference_mode(), ctx:
            out = self.model.generate(input_ids=input_ids.to(device), attention_mask=attention.to(device), generation_config=config,
                                      stopping_criteria=StoppingCriteriaList([_Stop()]))
        new = out[:, width:].tolist()
        texts, tokens = [], 0
        for row in new:
            cut = next((k for k, t in enumerate(row) if t in self.eos), None)
            tokens += len(row) if cut is None else cut + 1
            text = self.tok.decode(row[:cut] if cut is not None else row, skip_special_tokens=True)
            texts.append(gen_files.as_response(prompts[len(texts)].prompt, text))
        return texts, tokens, fired[0]


def build_sides(a: Source, a_cfg: RunConfig, b: Source, b_cfg: RunConfig | None, device: torch.device) -> tuple[Side, Side]:
    model_a = load_model(a, a_cfg, device)
    side_a = Side(a, a_cfg, model_a, load_tokenizer(a_cfg))
    if b.kind == "dataset":
        return side_a, Side(b, None)
    if b.kind == "reference" and a.lora and hasattr(model_a, "disable_adapter"):
        return side_a, Side(b, a_cfg, model_a, load_tokenizer(a_cfg), adapter_off=True)
    assert b_cfg is not None
    return side_a, Side(b, b_cfg, load_model(b, b_cfg, device), load_tokenizer(b_cfg))


# ---------------------------------------------------------------- the generation

@dataclass
class Request:
    run_dir: Path
    checkpoint: str | None = None
    baseline: str = "reference"  # reference | dataset | a run folder
    prompts: str | None = None  # a prompt or preference file; default: the run's eval split
    num_prompts: int | None = None
    out: str | None = None
    overwrite: bool = False
    settings: Settings = None  # type: ignore[assignment]


def default_out(a: Source, b: Source, prompts: PromptSet) -> Path:
    side = "final" if a.checkpoint is None else Path(a.checkpoint).name
    other = b.kind if b.kind != "run" else Path(b.run_dir or "run").name + ("" if b.checkpoint is None else "-" + Path(b.checkpoint).name)
    return Path(a.run_dir or ".") / "samples" / f"{side}-vs-{other}.{prompts.split}.pref.jsonl"


def resolve(req: Request) -> tuple[Source, RunConfig, Source, RunConfig | None, PromptSet, list[Prompt]]:
    """Everything before loading a model: the two sources, the prompts (and their checks)."""
    if req.num_prompts is not None and req.num_prompts < 1:
        raise ConfigError(f"--num-prompts must be at least 1, found {req.num_prompts}")
    a, a_cfg = run_source(req.run_dir, req.checkpoint)
    b_cfg: RunConfig | None = None
    if req.baseline == "reference":
        b, b_cfg = Source("reference", None, None, a_cfg.model, None, False), a_cfg
    elif req.baseline == "dataset":
        b = Source("dataset")
    else:
        other = Path(req.baseline)
        if not other.is_dir():
            raise ConfigError(f"--baseline: {req.baseline!r} is not reference, dataset or a run folder")
        b, b_cfg = run_source(other)
    prompt_set = prompts_from_file(req.prompts) if req.prompts else eval_prompts(a_cfg)
    usable = prompt_set.prompts
    if b.kind == "dataset":
        usable = [p for p in prompt_set.prompts if p.chosen is not None]
        if len(usable) < len(prompt_set.prompts):
            prompt_set.skipped["no_chosen"] += len(prompt_set.prompts) - len(usable)
    if not usable:
        reasons = ", ".join(f"{n} {k}" for k, n in sorted(prompt_set.skipped.items())) or "the file has no records"
        raise DataError(f"{prompt_set.file}: no prompts to sample ({reasons})")
    return a, a_cfg, b, b_cfg, prompt_set, choose(usable, req.num_prompts, req.settings.seed)


def run_generation(req: Request, events: EventWriter, stop) -> dict:
    """Generates every missing record; returns the fields of the `generate_end` event."""
    from accelerate import PartialState

    started = time.perf_counter()
    req.settings.check()
    state = PartialState(cpu=not torch.cuda.is_available())  # cpu=True: gloo across CPU processes
    a, a_cfg, b, b_cfg, prompt_set, prompts = resolve(req)
    head = gen_files.header({"A": a.header(), "B": b.header()},
                            {"file": prompt_set.file, "sha256": prompt_set.sha256, "split": prompt_set.split,
                             "count": len(prompts), "skipped": sum(prompt_set.skipped.values())},
                            asdict(req.settings))
    out_path = Path(req.out).resolve() if req.out else default_out(a, b, prompt_set).resolve()
    if not out_path.name.endswith(".pref.jsonl"):
        raise ConfigError(f"--out must end in .pref.jsonl (the preference editor opens those), found {out_path.name}")
    # One generator per output (another may run in another terminal): the main process holds <out>.lock.
    with gen_lock.held(out_path) if state.is_main_process else contextlib.nullcontext():
        end = _generate(req, events, stop, state, started, (a, a_cfg, b, b_cfg, prompt_set, prompts), head, out_path)
    if state.num_processes > 1:
        # Every rank past its last gather before any leaves: a rank exiting while gloo still
        # talks to it aborted its peer at exit ("terminate called without an active exception").
        state.wait_for_everyone()
        torch.distributed.destroy_process_group()
    return end


def _generate(req: Request, events: EventWriter, stop, state, started: float, resolved, head: dict, out_path: Path) -> dict:
    from accelerate.utils import gather_object

    a, a_cfg, b, b_cfg, prompt_set, prompts = resolved
    output = None
    if state.is_main_process:
        output = gen_files.open_output(out_path, head, overwrite=req.overwrite)
    done = gather_object([output.done if output else 0])[0] if state.num_processes > 1 else output.done  # type: ignore[union-attr]
    total = len(prompts)
    result = {"out": str(out_path), "sidecar": str(gen_files.sidecar_path(out_path)), "done": done, "total": total}
    events.emit("generate_start", **result, models=head["models"], prompts=head["prompts"], settings=head["settings"],
                skipped=dict(prompt_set.skipped), num_processes=state.num_processes, device=str(state.device))
    if prompt_set.skipped:
        human(f"skipped source lines: {dict(prompt_set.skipped)}")
    if done >= total:
        return {**result, "status": "completed", "elapsed_seconds": round(time.perf_counter() - started, 3),
                "message": "already complete: nothing to generate"}
    side_a, side_b = build_sides(a, a_cfg, b, b_cfg, state.device)
    s = req.settings
    global_batch = s.batch_size * state.num_processes
    tokens = 0
    gen_started = time.perf_counter()
    first = done
    for start in range(done, total, global_batch):
        # Seeds follow the first record of the batch: a resume with the same batch size continues
        # on the same batch boundaries and draws what one uninterrupted run draws.
        mine = prompts[start + state.process_index * s.batch_size: min(total, start + (state.process_index + 1) * s.batch_size)]
        answers: list = []
        batch_tokens, cut = 0, False
        if mine:
            try:
                texts_a, ta, cut_a = side_a.answer(mine, s, seed=_batch_seed(s.seed, start, 0), stop=lambda: stop.requested)
                texts_b, tb, cut_b = side_b.answer(mine, s, seed=_batch_seed(s.seed, start, 1), stop=lambda: stop.requested)
                cut = cut_a or cut_b
            except torch.cuda.OutOfMemoryError:
                raise OutOfMemory(f"out of memory generating records {start + 1}-{min(total, start + global_batch)} (batch size {s.batch_size}, "
                                  f"max new tokens {s.max_new_tokens}); the {start} records written so far are kept",
                                  hint="Lower --batch-size (or --max-new-tokens: that starts again with --overwrite) and run the same "
                                       "command again: it continues after the records written.") from None
            answers = list(zip(texts_a, texts_b))
            batch_tokens = ta + tb
        # Every rank decides from the same gathered flags: a stop seen by one rank only (a signal,
        # or the launcher watch, which polls) would otherwise leave the others in the next gather.
        mine_now = (cut, answers, batch_tokens, stop.requested)
        gathered = gather_object([mine_now]) if state.num_processes > 1 else [mine_now]
        if any(g[0] for g in gathered):
            break  # a stop reached generate: the batch is incomplete and not written
        if output is not None:
            flat = [pair for g in gathered for pair in g[1]]
            lines = [gen_files.record_lines(start + k, prompts[start + k].prompt, ra, rb, s.seed) for k, (ra, rb) in enumerate(flat)]
            output.append(lines)
        done = min(total, start + global_batch)
        tokens += sum(g[2] for g in gathered)
        elapsed = time.perf_counter() - gen_started
        rate = (done - first) / elapsed if elapsed > 0 else 0.0
        events.emit("generate_progress", done=done, total=total, tokens=tokens,
                    tokens_per_second=round(tokens / elapsed, 3) if elapsed > 0 else 0.0,
                    elapsed_seconds=round(time.perf_counter() - started, 3),
                    eta_seconds=round((total - done) / rate, 3) if rate > 0 else None)
        if any(g[3] for g in gathered):
            break
    status = "completed" if done >= total else "stopped"
    message = None if status == "completed" else f"stopped after {done} of {total} records; run the same command again to continue"
    return {**result, "done": done, "status": status, "elapsed_seconds": round(time.perf_counter() - started, 3), "message": message}


def _batch_seed(seed: int, first_record: int, side: int) -> int:
    return (seed * 1_000_003 + first_record * 2 + side) % (2**63)


__all__ = ["Settings", "Source", "Request", "run_generation", "run_source", "resolve", "OutOfMemory"]
