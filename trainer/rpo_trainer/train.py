"""The training loop: accelerate, the loss table, events, checkpoints that really resume."""

from __future__ import annotations

import json
import math
import platform
import random
import shutil
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .config import RunConfig, config_from_dict, resolved_config
from .data import Example, Tokenizing, collate, load_dataset, split_eval, unpaired_items
from .embeddings import add_to_cache, cache_path, prompt_embeddings
from .files import write_text_atomic
from .errors import ConfigError, DataError
from .events import EventWriter, human
from .losses import EMBEDDING_METHODS, LOSSES, Contrast, batch_metrics, contrast_weights
from .modeling import count_parameters, load_policy, load_reference, load_tokenizer, reference_context, sequence_logps
from .sampler import EpochSampler

METRIC_NAMES = ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                "logps/chosen", "logps/rejected")


# ---------------------------------------------------------------- small helpers

def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version(), "rpo_trainer": __version__}
    for name in ("torch", "transformers", "peft", "accelerate", "safetensors", "numpy", "sentence-transformers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def resolve_precision(cfg: RunConfig, on_cuda: bool) -> str:
    if cfg.precision == "auto":
        return "bf16" if on_cuda and torch.cuda.is_bf16_supported() else "fp32"
    if cfg.precision == "fp16" and not on_cuda:
        raise ConfigError("precision: fp16 needs a CUDA GPU", hint='Use "bf16" or "fp32" (or "auto") on the CPU.')
    return cfg.precision


def lr_lambda(cfg: RunConfig, total_steps: int):
    def f(step: int) -> float:
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return (step + 1) / (cfg.warmup_steps + 1)
        if cfg.lr_scheduler == "constant":
            return 1.0
        span = max(1, total_steps - cfg.warmup_steps)
        progress = min(1.0, (step - cfg.warmup_steps) / span)
        if cfg.lr_scheduler == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return f


class StopFlag:
    """SIGINT / SIGTERM ask the loop to finish the current step, checkpoint and stop."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None

    def install(self) -> None:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def uninstall(self) -> None:
        for sig, handler in getattr(self, "_previous", {}).items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        if self.requested:
            return
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        human(f"{self.signal_name}: finishing the current step, then saving a checkpoint")


@dataclass
class MetricWindow:
    """Sums and counts since the last log, reduced across ranks when logged."""

    sums: dict = field(default_factory=lambda: defaultdict(float))
    counts: dict = field(default_factory=lambda: defaultdict(float))
    tokens: float = 0.0
    samples: float = 0.0
    started: float = field(default_factory=time.perf_counter)

    def add(self, metrics: dict[str, tuple[float, int]]) -> None:
        for k, (s, n) in metrics.items():
            self.sums[k] += s
            self.counts[k] += n


def reduce_window(accelerator, window: MetricWindow, names: list[str]) -> tuple[dict, float, float]:
    vec = [window.sums[k] for k in names] + [window.counts[k] for k in names] + [window.tokens, window.samples]
    t = torch.tensor(vec, dtype=torch.float64, device=accelerator.device)
    if accelerator.num_processes > 1:
        t = accelerator.reduce(t, reduction="sum")
    n = len(names)
    sums, counts = t[:n].tolist(), t[n:2 * n].tolist()
    metrics = {k: (s / c if c else None) for k, s, c in zip(names, sums, counts)}
    return metrics, t[2 * n].item(), t[2 * n + 1].item()


def gather_columns(accelerator, local: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All ranks' rows concatenated (rank order) and the offset of this rank's rows.

    The gather is differentiable: backward sends each rank the gradient that every rank's loss
    puts on its rows, so with DDP's gradient averaging the update is exactly the gradient of the
    mean loss over the global contrast matrix. Ranks may hold different row counts.
    """
    if accelerator.num_processes == 1:
        return local, 0
    import torch.distributed as dist
    from torch.distributed.nn.functional import all_gather as all_gather_with_grad

    world, rank = accelerator.num_processes, accelerator.process_index
    size = torch.tensor([local.shape[0]], device=local.device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    sizes_l = [int(s.item()) for s in sizes]
    width = max(sizes_l)
    pad = local.new_zeros((width - local.shape[0],) + tuple(local.shape[1:]))
    parts = all_gather_with_grad(torch.cat([local, pad], dim=0).contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, sizes_l)], dim=0), sum(sizes_l[:rank])


# ---------------------------------------------------------------- run folder and checkpoints

def make_run_dir(cfg: RunConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    root = Path(cfg.output_dir)
    run_dir = root / f"{cfg.name}-{stamp}"
    k = 1
    while run_dir.exists():
        k += 1
        run_dir = root / f"{cfg.name}-{stamp}-{k}"
    return run_dir


def trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(accelerator, path: Path, model, optimizer, scheduler, state: dict) -> None:
    """Trainable weights, optimizer, scheduler, each rank's RNG, and the step / data position."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    torch.save(rng_state(), tmp / f"rng_{accelerator.process_index}.pt")
    if sharded(accelerator):
        # FSDP / DeepSpeed shard parameters and optimizer state: accelerate saves its own way.
        accelerator.save_state(str(tmp / "accelerate"))
        if accelerator.is_main_process:
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
            (tmp / "trainer_state.json").write_text(json.dumps(state, indent=1), "utf-8")
    elif accelerator.is_main_process:
        save_file(trainable_state(accelerator.unwrap_model(model)), str(tmp / "trainable.safetensors"))
        torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / "trainer_state.json").write_text(json.dumps(state, indent=1), "utf-8")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(path, ignore_errors=True)
        tmp.rename(path)
    accelerator.wait_for_everyone()


def load_checkpoint(accelerator, path: Path, model, optimizer, scheduler) -> dict:
    from safetensors.torch import load_file

    if (path / "accelerate").is_dir():
        accelerator.load_state(str(path / "accelerate"))
        scheduler.load_state_dict(torch.load(path / "scheduler.pt", map_location="cpu", weights_only=False))
        rng_file = path / f"rng_{accelerator.process_index}.pt"
        if rng_file.exists():
            set_rng_state(torch.load(rng_file, map_location="cpu", weights_only=False))
        return json.loads((path / "trainer_state.json").read_text("utf-8"))
    weights = load_file(str(path / "trainable.safetensors"))
    unwrapped = accelerator.unwrap_model(model)
    params = dict(unwrapped.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in weights]
    if missing:
        raise ConfigError(f"--resume: {path} does not match the model: no weights for {missing[0]}")
    with torch.no_grad():
        for n, t in weights.items():
            params[n].copy_(t.to(params[n].device, params[n].dtype))
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", map_location="cpu", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", map_location="cpu", weights_only=False))
    rng_file = path / f"rng_{accelerator.process_index}.pt"
    if rng_file.exists():
        set_rng_state(torch.load(rng_file, map_location="cpu", weights_only=False))
    return json.loads((path / "trainer_state.json").read_text("utf-8"))


def sharded(accelerator) -> bool:
    """FSDP or DeepSpeed: parameters are sharded across ranks (not tested on this project's CI)."""
    from accelerate.utils import DistributedType

    return accelerator.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)


def latest_checkpoint(run_dir: Path) -> Path | None:
    ckpts = sorted((run_dir / "checkpoints").glob("step-*[0-9]"))
    return ckpts[-1] if ckpts else None


def model_card(cfg: RunConfig, step: int, dataset_sha: str) -> str:
    settings = {"method": cfg.method, "beta": cfg.beta}
    if cfg.method in EMBEDDING_METHODS:
        settings.update(tau=cfg.tau, embeddings=cfg.embeddings.model, embedding_precision=cfg.embeddings.precision)
    if cfg.method == "rpo-diagonal":
        settings["diagonal_weight"] = cfg.diagonal_weight
    settings.update(batch_size=cfg.batch_size, num_processes=cfg.num_processes, global_contrast=cfg.global_contrast,
                    similarity_batching=cfg.similarity_batching, learning_rate=cfg.learning_rate,
                    optimizer=cfg.optimizer, steps=step, seed=cfg.seed, lora=cfg.lora.enabled)
    lines = "\n".join(f"| {k} | {v} |" for k, v in settings.items())
    return (f"# {cfg.name}\n\nFine-tuned from `{cfg.model}` with "
            f"{'Relative Preference Optimization (Yin et al. 2024, arXiv 2402.10958)' if cfg.method.startswith('rpo') else cfg.method.upper()} "
            f"by the RPO Studio trainer {__version__}.\n\n| setting | value |\n| --- | --- |\n{lines}\n\n"
            f"Dataset: `{Path(cfg.dataset).name}` (sha256 {dataset_sha}).\n")


# ---------------------------------------------------------------- the run

class Run:
    def __init__(self, cfg: RunConfig, events: EventWriter, stop: StopFlag, run_dir: Path | None = None,
                 resume_from: Path | None = None) -> None:
        self.cfg = cfg
        self.events = events
        self.stop = stop
        self.run_dir = run_dir
        self.resume_from = resume_from
        self.step = 0
        self.total_steps = 0
        self.steps_per_epoch = 1.0
        self.started = time.perf_counter()

    # -- setup

    def prepare(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import broadcast_object_list, set_seed

        cfg = self.cfg
        cpu = cfg.device == "cpu" or not torch.cuda.is_available()
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device: \"cuda\" but no CUDA GPU is visible", hint='Run `python -m rpo_trainer doctor`, or set "device": "cpu".')
        self.precision = resolve_precision(cfg, on_cuda=not cpu)
        self.acc = acc = Accelerator(cpu=cpu, mixed_precision={"fp32": "no"}.get(self.precision, self.precision))
        self.events.enabled = self.events.enabled and acc.is_main_process
        set_seed(cfg.seed)

        if acc.num_processes != cfg.num_processes:
            self.events.log("warning", f"num_processes is {cfg.num_processes} in the config but {acc.num_processes} processes run; "
                                       f"the global batch is batch_size * {acc.num_processes}")
        if self.run_dir is None:
            holder = [str(make_run_dir(cfg)) if acc.is_main_process else None]
            if acc.num_processes > 1:
                broadcast_object_list(holder)
            self.run_dir = Path(holder[0])
        if acc.is_main_process:
            (self.run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
            self.events.attach(self.run_dir / "events.jsonl")
            write_text_atomic(self.run_dir / "config.json", json.dumps(resolved_config(cfg), indent=1) + "\n")
        acc.wait_for_everyone()

        self.tokenizer = load_tokenizer(cfg)
        self._prepare_data()
        self._prepare_model()

    def _prepare_data(self) -> None:
        cfg, acc = self.cfg, self.acc
        ds = load_dataset(cfg.dataset, paired=cfg.paired)
        self.dataset_info = ds
        items = ds.records if cfg.paired else unpaired_items(ds.records)
        if cfg.eval_dataset:
            eval_ds = load_dataset(cfg.eval_dataset, paired=cfg.paired)
            train, evals = items, (eval_ds.records if cfg.paired else unpaired_items(eval_ds.records))
            self.eval_sha = eval_ds.sha256
        else:
            train, evals = split_eval(items, cfg.eval_split)
            self.eval_sha = None
        if not train:
            left = ", ".join(f"{k} {v}" for k, v in sorted(ds.left_out.items())) or "none"
            raise DataError(f"{cfg.dataset}: no usable training records ({ds.lines} non-empty lines; left out: {left})",
                            hint=("Label some records as chosen/rejected (ties, skips, both-bad and excluded records do not train)."
                                  if ds.lines else "The file is empty."))
        tok = Tokenizing(self.tokenizer, cfg.max_length, cfg.max_prompt_length, cfg.truncation, cfg.dataset)
        self.train_examples: list[Example] = [tok.encode(r) for r in train]
        tok_eval = Tokenizing(self.tokenizer, cfg.max_length, cfg.max_prompt_length, cfg.truncation, cfg.eval_dataset or cfg.dataset)
        self.eval_examples: list[Example] = [tok_eval.encode(r) for r in evals]
        self.truncated = sum(e.truncated for e in self.train_examples + self.eval_examples)
        if self.truncated:
            self.events.log("warning", f"{self.truncated} record(s) were truncated to max_prompt_length {cfg.max_prompt_length} / "
                                       f"max_length {cfg.max_length}")
        if cfg.paired:
            empty = [e for e in self.train_examples if not e.responses[0] or not e.responses[1]]
        else:
            empty = [e for e in self.train_examples if not e.responses[0]]
        if empty:
            raise DataError(f"{cfg.dataset}:{empty[0].line}: a response is empty after tokenization (chosen and rejected may be identical after the prompt was split off)")

        self.embeddings = None
        self.embeddings_computed = 0
        all_examples = self.train_examples + self.eval_examples
        if cfg.uses_embeddings:
            srcs = [cfg.dataset] * len(self.train_examples) + [cfg.eval_dataset or cfg.dataset] * len(self.eval_examples)
            records = train + evals
            vectors, computed = prompt_embeddings(
                [e.key for e in all_examples], [r.prompt_text for r in records], cfg.embeddings.cache_dir,
                cfg.embeddings.model, cfg.embeddings.precision, cfg.embeddings.compute_missing,
                [f"{s}:{e.line}" for s, e in zip(srcs, all_examples)])
            self.embeddings = torch.from_numpy(vectors)
            self.embeddings_computed = len(computed)
            if computed:
                path = cache_path(cfg.embeddings.cache_dir, cfg.embeddings.model, cfg.embeddings.precision)
                self.events.log("info", f"computed {len(computed)} prompt embedding(s) missing from the cache with sentence-transformers")
                if acc.is_main_process:
                    try:
                        add_to_cache(path, computed, cfg.embeddings.model, cfg.embeddings.precision)
                        self.events.log("info", f"added them to {path}")
                    except Exception as e:  # a read-only workspace must not stop the run
                        self.events.log("warning", f"could not add the computed embeddings to {path}: {e}")

        world = acc.num_processes
        self.sampler = EpochSampler(
            n=len(self.train_examples), seed=cfg.seed, batch_size=cfg.batch_size, num_processes=world,
            embeddings=(self.embeddings[:len(self.train_examples)].numpy() if cfg.similarity_batching else None))
        if len(self.train_examples) < self.sampler.global_batch:
            if world > 1:
                raise DataError(f"{cfg.dataset}: {len(self.train_examples)} training records, fewer than one global batch "
                                f"({cfg.batch_size} x {world} processes)", hint="Lower batch_size or num_processes, or add data.")
            self.events.log("warning", f"only {len(self.train_examples)} training records, fewer than batch_size {cfg.batch_size}: "
                                       "every step sees all of them")
        nb = self.sampler.batches_per_epoch()
        self.batches_per_epoch = nb
        accum = cfg.gradient_accumulation_steps
        self.total_steps = cfg.max_steps if cfg.max_steps else max(1, (cfg.epochs * nb) // accum)
        self.steps_per_epoch = nb / accum

    def _prepare_model(self) -> None:
        cfg, acc = self.cfg, self.acc
        model = load_policy(cfg, self.precision)
        self.param_count, self.trainable_count = count_parameters(model)
        self.architecture = (getattr(model.config, "architectures", None) or [type(model).__name__])[0]
        params = [p for p in model.parameters() if p.requires_grad]
        if cfg.optimizer == "rmsprop":
            optimizer = torch.optim.RMSprop(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        else:
            optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, self.total_steps))
        self.model, self.optimizer = acc.prepare(model, optimizer)

        self.ref_model = None
        self.ref_cache: dict[tuple[str, int], torch.Tensor] | None = None
        if not cfg.lora.enabled and not cfg.precompute_ref_logps:
            self.ref_model = load_reference(cfg, self.precision).to(acc.device)
        if cfg.precompute_ref_logps:
            self._precompute_reference()

    # -- forward passes

    def _batch(self, examples: list[Example]) -> dict:
        b = collate(examples, self.tokenizer.pad_token_id)
        return {k: v.to(self.acc.device) for k, v in b.items()}

    def _reference_logps(self, batch: dict, keys: list[tuple[str, int]] | None) -> torch.Tensor:
        if self.ref_cache is not None and keys is not None:
            paired = "labels" not in batch
            rows = [self.ref_cache[k] for k in keys]
            if paired:
                return torch.cat([torch.stack([r[0] for r in rows]), torch.stack([r[1] for r in rows])]).to(self.acc.device)
            return torch.stack([r[0] for r in rows]).to(self.acc.device)
        with torch.no_grad(), self.acc.autocast():
            if self.ref_model is not None:
                return sequence_logps(self.ref_model, batch)
            with reference_context(self.model):
                return sequence_logps(self.model, batch)

    def _precompute_reference(self) -> None:
        """One pass with the reference (the untrained policy, adapter off for LoRA)."""
        human("precomputing reference log-probabilities")
        cache: dict[tuple[str, int], torch.Tensor] = {}
        bs = self.cfg.eval_batch_size or self.cfg.batch_size
        was_training = self.model.training
        self.model.eval()
        for split, examples in (("train", self.train_examples), ("eval", self.eval_examples)):
            for start in range(0, len(examples), bs):
                chunk = examples[start:start + bs]
                batch = self._batch(chunk)
                with torch.no_grad(), self.acc.autocast(), reference_context(self.model):
                    logps = sequence_logps(self.model, batch).float().cpu()
                n = len(chunk)
                for i in range(n):
                    cache[(split, start + i)] = torch.stack([logps[i], logps[n + i]]) if "labels" not in batch else logps[i:i + 1]
        self.model.train(was_training)
        self.ref_cache = cache

    def _loss(self, examples: list[Example], indices: list[int], split: str) -> tuple[torch.Tensor, dict, int]:
        cfg, acc = self.cfg, self.acc
        batch = self._batch(examples)
        with acc.autocast():
            policy = sequence_logps(self.model, batch)
        ref = self._reference_logps(batch, [(split, i) for i in indices] if self.ref_cache is not None else None)
        ratios = policy.float() - ref.float()
        offset_base = split if split == "eval" else "train"
        emb = None
        if self.embeddings is not None and cfg.method in EMBEDDING_METHODS:
            base = 0 if offset_base == "train" else len(self.train_examples)
            emb = self.embeddings[[base + i for i in indices]].to(acc.device)
        global_c = cfg.global_contrast and acc.num_processes > 1 and split == "train"
        offset = 0
        if "labels" not in batch:
            m = len(examples)
            chosen, rejected = ratios[:m], ratios[m:]
            chosen_logps, rejected_logps = policy[:m], policy[m:]
            cols_emb = emb
            offset = 0
            if global_c:
                rejected, offset = gather_columns(acc, rejected)
                if emb is not None:
                    cols_emb, _ = gather_columns(acc, emb)
            diagonal = torch.arange(m, device=ratios.device) + offset
            weights = contrast_weights(emb, cols_emb, cfg.tau) if emb is not None else None
            c = Contrast(chosen=chosen, rejected=rejected, beta=cfg.beta, diagonal=diagonal, weights=weights,
                         diagonal_weight=cfg.diagonal_weight)
            local_rejected = ratios[m:]
        else:
            labels = batch["labels"]
            chosen, rejected = ratios[labels], ratios[~labels]
            chosen_logps, rejected_logps = policy[labels], policy[~labels]
            rows_emb, cols_emb = emb[labels], emb[~labels]
            local_rejected = rejected
            if global_c:
                rejected, _ = gather_columns(acc, rejected)
                cols_emb, _ = gather_columns(acc, cols_emb)
            weights = contrast_weights(rows_emb, cols_emb, cfg.tau)
            c = Contrast(chosen=chosen, rejected=rejected, beta=cfg.beta, weights=weights)
        loss = LOSSES[cfg.method](c)
        loss_metric = (loss.item(), 1)
        if c.diagonal is None:
            # Unpaired: the batch's loss is a mean over chosen x rejected terms, and a batch with
            # no terms adds nothing to the reported loss.
            terms = c.chosen.numel() * c.rejected.numel()
            loss_metric = (loss.item() * terms, terms)
            if global_c:
                # Rows differ per rank: scale so that DDP's average over ranks is the mean over
                # all terms of the global matrix.
                total = torch.tensor([float(terms)], device=acc.device)
                total = acc.reduce(total, reduction="sum").item()
                if total > 0:
                    loss = loss * (terms * acc.num_processes / total)
        metrics_c = Contrast(chosen=c.chosen, rejected=local_rejected, beta=cfg.beta,
                             diagonal=(torch.arange(len(examples), device=ratios.device) if c.diagonal is not None else None),
                             weights=(weights[:, offset:offset + len(examples)] if (weights is not None and c.diagonal is not None and global_c) else weights))
        metrics = batch_metrics(metrics_c, chosen_logps, rejected_logps)
        metrics["loss"] = loss_metric
        return loss, metrics, int(batch["attention_mask"].sum().item())

    # -- loop

    def _state(self) -> dict:
        return {"step": self.step, "total_steps": self.total_steps, "micro_batches_done": self.step * self.cfg.gradient_accumulation_steps,
                "batches_per_epoch": self.batches_per_epoch, "seed": self.cfg.seed, "epoch": self.epoch()}

    def epoch(self) -> float:
        return round(self.step / self.steps_per_epoch, 6) if self.steps_per_epoch else 0.0

    def _checkpoint(self, reason: str) -> Path:
        path = self.run_dir / "checkpoints" / f"step-{self.step:06d}"
        save_checkpoint(self.acc, path, self.model, self.optimizer, self.scheduler, self._state())
        if self.acc.is_main_process and reason == "periodic":
            periodic = sorted((self.run_dir / "checkpoints").glob("step-*[0-9]"))
            for old in periodic[:-self.cfg.save_total_limit]:
                shutil.rmtree(old, ignore_errors=True)
        self.events.emit("checkpoint", step=self.step, total_steps=self.total_steps, epoch=self.epoch(),
                         path=str(path.resolve()), reason=reason)
        return path

    def _evaluate(self) -> None:
        if not self.eval_examples:
            return
        t0 = time.perf_counter()
        cfg, acc = self.cfg, self.acc
        bs = cfg.eval_batch_size or cfg.batch_size
        window = MetricWindow()
        self.model.eval()
        # Every rank takes every world-th batch, so the eval set is covered once.
        starts = list(range(0, len(self.eval_examples), bs))[acc.process_index::acc.num_processes]
        with torch.no_grad():
            for s in starts:
                idx = list(range(s, min(s + bs, len(self.eval_examples))))
                _, metrics, _ = self._loss([self.eval_examples[i] for i in idx], idx, "eval")
                window.add(metrics)
        self.model.train()
        values, _, _ = reduce_window(acc, window, self._metric_names())
        self.events.emit("eval", step=self.step, total_steps=self.total_steps, epoch=self.epoch(), metrics=values,
                         samples=len(self.eval_examples), duration_seconds=round(time.perf_counter() - t0, 4))

    def _metric_names(self) -> list[str]:
        names = list(METRIC_NAMES)
        if self.cfg.method == "rpo":
            names += ["contrast/diagonal_weight", "contrast/effective_beta"]
        return names

    def _devices(self) -> list[dict]:
        if self.acc.device.type == "cuda":
            out = []
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                out.append({"type": "cuda", "name": p.name, "memory_bytes": int(p.total_memory)})
            return out
        return [{"type": "cpu", "name": platform.processor() or platform.machine(), "memory_bytes": None}]

    def _memory(self) -> dict | None:
        if self.acc.device.type != "cuda":
            return None
        return {"allocated_bytes": int(torch.cuda.memory_allocated()), "reserved_bytes": int(torch.cuda.memory_reserved()),
                "peak_bytes": int(torch.cuda.max_memory_allocated())}

    def run(self) -> str:
        """Train; return 'completed' or 'stopped'."""
        self.prepare()
        cfg, acc = self.cfg, self.acc
        if self.resume_from is not None:
            state = load_checkpoint(acc, self.resume_from, self.model, self.optimizer, self.scheduler)
            self.step = int(state["step"])
            if state.get("batches_per_epoch") != self.batches_per_epoch:
                raise ConfigError(f"--resume: the data changed since {self.resume_from} "
                                  f"({state.get('batches_per_epoch')} batches per epoch then, {self.batches_per_epoch} now)")
        ds = self.dataset_info
        self.events.emit(
            "start", run_dir=str(self.run_dir.resolve()), config=resolved_config(cfg),
            model={"name_or_path": cfg.model, "architecture": self.architecture, "parameters": self.param_count,
                   "trainable_parameters": self.trainable_count, "lora": cfg.lora.enabled},
            dataset={"path": cfg.dataset, "sha256": ds.sha256, "lines": ds.lines, "usable": len(ds.records),
                     "train": len(self.train_examples), "eval": len(self.eval_examples), "left_out": dict(ds.left_out),
                     "truncated": self.truncated, "embeddings_computed": self.embeddings_computed},
            devices=self._devices(), num_processes=acc.num_processes, total_steps=self.total_steps, step=self.step,
            epoch=self.epoch(), resumed=str(self.resume_from.resolve()) if self.resume_from else None,
            precision=self.precision, versions=package_versions())
        if acc.is_main_process:
            run_info = {"seed": cfg.seed, "dataset": cfg.dataset, "dataset_sha256": ds.sha256,
                        "eval_dataset_sha256": self.eval_sha, "versions": package_versions(), "argv": sys.argv,
                        "precision": self.precision, "num_processes": acc.num_processes}
            write_text_atomic(self.run_dir / "run.json", json.dumps(run_info, indent=1) + "\n")

        self.model.train()
        window = MetricWindow()
        t_loop = time.perf_counter()
        steps_here = 0
        while self.step < self.total_steps:
            if self._stop_requested():
                return self._stopped()
            last_grad_norm, lr_used = self.train_step(window)
            steps_here += 1
            if self.step % cfg.logging_steps == 0 or self.step == self.total_steps:
                values, tokens, samples = reduce_window(acc, window, self._metric_names())
                dt = max(time.perf_counter() - window.started, 1e-9)
                elapsed = time.perf_counter() - t_loop
                eta = elapsed / steps_here * (self.total_steps - self.step)
                self.events.emit(
                    "step", step=self.step, total_steps=self.total_steps, epoch=self.epoch(), metrics=values,
                    learning_rate=lr_used,
                    grad_norm=last_grad_norm, tokens_per_second=round(tokens / dt, 3), samples_per_second=round(samples / dt, 3),
                    elapsed_seconds=round(time.perf_counter() - self.started, 3), eta_seconds=round(eta, 3), memory=self._memory())
                window = MetricWindow()
            if cfg.eval_steps and self.step % cfg.eval_steps == 0 and self.step < self.total_steps:
                self._evaluate()
            if cfg.save_steps and self.step % cfg.save_steps == 0 and self.step < self.total_steps:
                self._checkpoint("periodic")
        self._evaluate()
        self._finish()
        return "completed"

    def train_step(self, window: MetricWindow) -> tuple[float | None, float]:
        """One optimizer step over gradient_accumulation_steps micro-batches of the contract's
        order; adds to the metric window; returns (grad norm before clipping, learning rate used)."""
        cfg, acc = self.cfg, self.acc
        accum = cfg.gradient_accumulation_steps
        for micro in range(accum):
            epoch, k = divmod(self.step * accum + micro, self.batches_per_epoch)
            idx = self.sampler.rank_batch(epoch, k, acc.process_index)
            examples = [self.train_examples[i] for i in idx]
            with acc.no_sync(self.model) if micro < accum - 1 else _null():
                loss, metrics, tokens = self._loss(examples, idx, "train")
                acc.backward(loss / accum)
            window.add(metrics)
            window.tokens += tokens
            window.samples += len(examples)
        params = [p for p in self.model.parameters() if p.requires_grad]
        norm = acc.clip_grad_norm_(params, cfg.max_grad_norm if cfg.max_grad_norm > 0 else float("inf"))
        lr_used = self.optimizer.param_groups[0]["lr"]
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return (float(norm) if norm is not None else None), lr_used

    def _stop_requested(self) -> bool:
        flag = torch.tensor([1.0 if self.stop.requested else 0.0], device=self.acc.device)
        if self.acc.num_processes > 1:
            flag = self.acc.reduce(flag, reduction="sum")
        return bool(flag.item() > 0)

    def _stopped(self) -> str:
        path = self._checkpoint("stop")
        self.stop_checkpoint = path
        return "stopped"

    def _finish(self) -> None:
        acc = self.acc
        acc.wait_for_everyone()
        self.final_dir = self.run_dir / "final"
        if sharded(acc):
            # Gathers the full state dict from the shards (accelerate's documented way).
            state_dict = acc.get_state_dict(self.model)
            acc.unwrap_model(self.model).save_pretrained(self.final_dir, state_dict=state_dict, is_main_process=acc.is_main_process,
                                                         save_function=acc.save, safe_serialization=True)
        elif acc.is_main_process:
            acc.unwrap_model(self.model).save_pretrained(self.final_dir, safe_serialization=True)
        if acc.is_main_process:
            self.tokenizer.save_pretrained(self.final_dir)
            write_text_atomic(self.final_dir / "README.md", model_card(self.cfg, self.step, self.dataset_info.sha256))
        acc.wait_for_everyone()
        self.events.emit("checkpoint", step=self.step, total_steps=self.total_steps, epoch=self.epoch(),
                         path=str(self.final_dir.resolve()), reason="final")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def resume_config(run_dir: Path) -> tuple[RunConfig, Path]:
    """The saved resolved config of a run folder and its latest checkpoint."""
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise ConfigError(f"--resume: {run_dir} is not a run folder (no config.json)")
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise ConfigError(f"--resume: {run_dir} has no checkpoint to resume from",
                          hint="A run leaves a checkpoint when it is stopped (SIGINT/SIGTERM) or every save_steps steps.")
    data = json.loads(cfg_path.read_text("utf-8"))
    return config_from_dict(data, run_dir, source=str(cfg_path)), ckpt
