"""The training loop: accelerate, the loss table, events; checkpoints that really resume.

The pieces live next door: checkpointing.py (save, load, order, atomic rewrite), run_folder.py
(run folder, run.json, model card), contrast.py (forming the contrast batch), hub.py (where the
model comes from).
"""

from __future__ import annotations

import platform
import signal
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import checkpointing, dynamics, run_folder
from .config import RunConfig, resolved_config
from .contrast import build_contrast, contrast_loss, contrast_metrics, gather_columns
from .data import Example, Tokenizing, collate, load_dataset, split_eval, unpaired_items
from .embeddings import add_to_cache, cache_path, prompt_embeddings
from .errors import ConfigError, DataError
from .events import EventWriter, human
from .files import write_text_atomic
from .forward import ForwardOptions, forward_paths, sequence_logps
from .hub import check_model_source
from .losses import EMBEDDING_METHODS
from .modeling import count_parameters, load_policy, load_reference, load_tokenizer, reference_context
from .sampler import EpochSampler

METRIC_NAMES = ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                "logps/chosen", "logps/rejected")

# The config's lr_scheduler names -> transformers.get_scheduler's (linear warm-up from 0 first).
SCHEDULERS = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}


# ---------------------------------------------------------------- small helpers

def resolve_precision(cfg: RunConfig, on_cuda: bool) -> str:
    if cfg.precision == "auto":
        return "bf16" if on_cuda and torch.cuda.is_bf16_supported() else "fp32"
    if cfg.precision == "fp16" and not on_cuda:
        raise ConfigError("precision: fp16 needs a CUDA GPU", hint='Use "bf16" or "fp32" (or "auto") on the CPU.')
    return cfg.precision


def make_scheduler(cfg: RunConfig, optimizer, total_steps: int):
    """transformers' schedules: during the warm-up the factor is step / warmup_steps (0 at the
    first step), then constant, linear to 0, or half a cosine to 0 at total_steps."""
    from transformers import get_scheduler

    return get_scheduler(SCHEDULERS[cfg.lr_scheduler], optimizer, num_warmup_steps=cfg.warmup_steps,
                         num_training_steps=total_steps)


class StopFlag:
    """SIGINT / SIGTERM ask the loop to finish the current step, checkpoint and stop; `message`
    says so on stderr (after the signal's name)."""

    def __init__(self, message: str = "finishing the current step, then saving a checkpoint") -> None:
        self.requested = False
        self.reason: str | None = None  # a signal's name, or why the process stops on its own
        self.message = message

    def install(self) -> None:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def uninstall(self) -> None:
        for sig, handler in getattr(self, "_previous", {}).items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        self.request(signal.Signals(signum).name)

    def request(self, reason: str) -> None:
        """A stop asked for by `reason` (a signal's name, or why the process stops on its own)."""
        if self.requested:
            return
        self.requested = True
        self.reason = reason
        human(f"{reason}: {self.message}")


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


# ---------------------------------------------------------------- the run

class Run:
    """One training run. `run_dir` None: a new folder under output_dir; `resume`: continue the
    run in `run_dir` from its newest complete checkpoint."""

    def __init__(self, cfg: RunConfig, events: EventWriter, stop: StopFlag, run_dir: Path | None = None,
                 resume: bool = False, record_dynamics: bool = True) -> None:
        self.cfg = cfg
        self.record_dynamics = record_dynamics  # off only to measure what recording costs (bench/)
        self.events = events
        self.chunked_announced = False  # the start event said chunked_logps runs (a fallback is then reported)
        self.stop = stop
        self.run_dir: Path | None = None  # set once the folder exists
        self.requested_run_dir = run_dir
        self.resume = resume
        self.resume_from: Path | None = None
        self.step = 0
        self.total_steps = 0
        self.steps_per_epoch = 1.0
        self.started = time.perf_counter()

    # -- setup

    def prepare(self) -> None:
        """Config, data and model first; the run folder only once they have loaded."""
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs, set_seed

        cfg = self.cfg
        cpu = cfg.device == "cpu" or not torch.cuda.is_available()
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device: \"cuda\" but no CUDA GPU is visible", hint='Run `python -m rpo_trainer doctor`, or set "device": "cpu".')
        self.precision = resolve_precision(cfg, on_cuda=not cpu)
        # No buffer broadcast in DDP's forward: a causal LM's buffers (rotary frequencies, masks) never
        # change, and with padding_free the ranks run different numbers of forward passes per step,
        # which a per-forward broadcast would deadlock.
        self.acc = acc = Accelerator(cpu=cpu, mixed_precision={"fp32": "no"}.get(self.precision, self.precision),
                                     kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=False)])
        self.events.enabled = self.events.enabled and acc.is_main_process
        set_seed(cfg.seed)

        if acc.num_processes != cfg.num_processes:
            self.events.log("warning", f"num_processes is {cfg.num_processes} in the config but {acc.num_processes} processes run; "
                                       f"the global batch is batch_size * {acc.num_processes}")
        check_model_source(cfg.model, "model")
        if cfg.tokenizer:
            check_model_source(cfg.tokenizer, "tokenizer")
        self.tokenizer = load_tokenizer(cfg)
        self._prepare_data()
        self._prepare_model()
        self._open_run_folder()

    def _open_run_folder(self) -> None:
        from accelerate.utils import broadcast_object_list

        acc = self.acc
        run_dir = self.requested_run_dir
        if run_dir is None:
            holder = [str(run_folder.new_run_dir(self.cfg)) if acc.is_main_process else None]
            if acc.num_processes > 1:
                broadcast_object_list(holder)
            run_dir = Path(holder[0])
        checkpoints = run_dir / "checkpoints"
        if acc.is_main_process:
            if self.resume:
                for line in checkpointing.tidy(checkpoints):
                    human(f"checkpoints: {line}")
            else:
                run_folder.create(run_dir, self.cfg)
            self.events.attach(run_dir / "events.jsonl")
        acc.wait_for_everyone()
        self.run_dir = run_dir
        if self.resume:
            latest, skipped = checkpointing.latest_complete(checkpoints)
            for path in skipped:
                self.events.log("warning", f"skipping the incomplete checkpoint {path.name} (a save was interrupted)")
            if latest is None:
                raise ConfigError(f"--resume: {run_dir} has no complete checkpoint to resume from",
                                  hint="A run leaves a checkpoint when it is stopped (SIGINT/SIGTERM) or every save_steps steps.")
            self.resume_from = latest
            human(f"resuming {run_dir} from {latest.name}")

    def _prepare_data(self) -> None:
        cfg, acc = self.cfg, self.acc
        ds = load_dataset(cfg.dataset, paired=cfg.paired, min_agreement=cfg.min_agreement, label_smoothing=cfg.label_smoothing,
                          votes=cfg.votes)
        self.dataset_info = ds
        items = ds.records if cfg.paired else unpaired_items(ds.records)
        if cfg.eval_dataset:
            eval_ds = load_dataset(cfg.eval_dataset, paired=cfg.paired, min_agreement=cfg.min_agreement,
                                   label_smoothing=cfg.label_smoothing, votes=cfg.votes)
            train, evals = items, (eval_ds.records if cfg.paired else unpaired_items(eval_ds.records))
            self.eval_sha = eval_ds.sha256
        else:
            train, evals = split_eval(items, cfg.eval_split)
            self.eval_sha = None
        if not train and evals:
            unit = "record" if cfg.paired else "item"
            raise DataError(f"{cfg.dataset}: eval_split {cfg.eval_split} took all {len(evals)} usable {unit}(s) for evaluation "
                            f"(the last ceil({cfg.eval_split} x {len(evals)}) = {len(evals)}), none is left to train on",
                            hint="Set eval_split to 0 (no evaluation) in the run config, or label more records "
                                 "(eval_split takes the last ceil(eval_split x n) usable ones), or use eval_dataset.")
        if not train:
            left = ", ".join(f"{k} {v}" for k, v in sorted(ds.left_out.items())) or "none"
            raise DataError(f"{cfg.dataset}: no usable training records ({ds.lines} non-empty lines; left out: {left})",
                            hint=("Label some records as chosen/rejected (ties, skips, both-bad and excluded records do not train)."
                                  if ds.lines else "The file is empty."))
        # Training dynamics (contracts section 8): one row per training, then eval, record or item.
        self.rows = dynamics.Rows.of(train, evals)
        self.dynamics: dynamics.Dynamics | None = dynamics.Dynamics(self.rows) if self.record_dynamics else None
        self._eval_margins: np.ndarray | None = None
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
            # The trainer computes missing fp32 embeddings with sentence-transformers: with the
            # embedder neither local nor cached and the Hub unreachable, go offline so that it
            # fails at once, and say why instead of its error.
            from .errors import EmbeddingsError, EnvironmentProblem
            from .hub import go_offline, source_problem

            embedder_problem = None
            if cfg.embeddings.compute_missing and cfg.embeddings.precision == "fp32":
                embedder_problem = source_problem(cfg.embeddings.model, "embeddings.model")
                if isinstance(embedder_problem, EnvironmentProblem):
                    go_offline()
            try:
                vectors, computed = prompt_embeddings(
                    [e.key for e in all_examples], [r.prompt_text for r in records], cfg.embeddings.cache_dir,
                    cfg.embeddings.model, cfg.embeddings.precision, cfg.embeddings.compute_missing,
                    [f"{s}:{e.line}" for s, e in zip(srcs, all_examples)])
            except EmbeddingsError as e:
                if embedder_problem is not None and "computing them with" in e.message:
                    raise type(embedder_problem)(f"{e.message.split(';')[0]}; {embedder_problem.message}",
                                                 hint=embedder_problem.hint) from None
                raise
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
        self.scheduler = make_scheduler(cfg, optimizer, self.total_steps)
        self.model, self.optimizer = acc.prepare(model, optimizer)

        self.ref_model = None
        self.ref_cache: dict[tuple[str, int], torch.Tensor] | None = None
        if not cfg.lora.enabled and not cfg.precompute_ref_logps:
            self.ref_model = load_reference(cfg, self.precision).to(acc.device)
        if cfg.precompute_ref_logps:
            self._precompute_reference()

    # -- forward passes: every log-probability goes through sequence_logps_of

    def _batch(self, examples: list[Example]) -> dict:
        b = collate(examples, self.tokenizer.pad_token_id)
        return {k: v.to(self.acc.device) for k, v in b.items()}

    @property
    def forward_options(self) -> ForwardOptions:
        # FSDP and DeepSpeed gather parameters inside each forward pass: every rank must run the
        # same number of passes, and the output layer cannot be applied outside one. Both off there.
        sharded = checkpointing.sharded(self.acc)
        return ForwardOptions(padding_free=self.cfg.padding_free and not sharded,
                              chunked_logps=self.cfg.chunked_logps and not sharded)

    def sequence_logps_of(self, model, batch: dict) -> torch.Tensor:
        """Per-row sums of response-token log-probabilities under `model` ([R]); the one place
        the trainer runs a model forward (policy, reference, precomputed reference)."""
        logps = sequence_logps(model, batch, self.forward_options)
        if self.chunked_announced and not forward_paths(model, self.forward_options)["chunked_logps"]:
            # The start event said chunked; the first pass found this model's logits are something
            # else than its output layer applied to the last hidden state (e.g. soft-capped).
            self.chunked_announced = False
            self.events.log("warning", "chunked_logps is off for this model: its logits are not its output layer "
                                       "applied to the last hidden state, so every step computes the full logits")
        return logps

    def _reference_logps(self, batch: dict, keys: list[tuple[str, int]] | None) -> torch.Tensor:
        if self.ref_cache is not None and keys is not None:
            paired = "labels" not in batch
            rows = [self.ref_cache[k] for k in keys]
            if paired:
                return torch.cat([torch.stack([r[0] for r in rows]), torch.stack([r[1] for r in rows])]).to(self.acc.device)
            return torch.stack([r[0] for r in rows]).to(self.acc.device)
        with torch.no_grad(), self.acc.autocast():
            if self.ref_model is not None:
                return self.sequence_logps_of(self.ref_model, batch)
            with reference_context(self.model):
                return self.sequence_logps_of(self.model, batch)

    def policy_and_reference_logps(self, batch: dict, keys: list[tuple[str, int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy log-probabilities (with gradient) and reference ones (without) per row of `batch`."""
        with self.acc.autocast():
            policy = self.sequence_logps_of(self.model, batch)
        return policy, self._reference_logps(batch, keys if self.ref_cache is not None else None)

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
                    logps = self.sequence_logps_of(self.model, batch).float().cpu()
                n = len(chunk)
                for i in range(n):
                    cache[(split, start + i)] = torch.stack([logps[i], logps[n + i]]) if "labels" not in batch else logps[i:i + 1]
        self.model.train(was_training)
        self.ref_cache = cache

    def _loss(self, examples: list[Example], indices: list[int], split: str) -> tuple[torch.Tensor, dict, int]:
        cfg, acc = self.cfg, self.acc
        batch = self._batch(examples)
        policy, ref = self.policy_and_reference_logps(batch, [(split, i) for i in indices])
        emb = None
        if self.embeddings is not None and cfg.method in EMBEDDING_METHODS:
            base = 0 if split == "train" else len(self.train_examples)
            emb = self.embeddings[[base + i for i in indices]].to(acc.device)
        global_c = cfg.global_contrast and acc.num_processes > 1 and split == "train"
        ratios = policy.float() - ref.float()
        cb = build_contrast(ratios, policy, batch.get("labels"), emb, beta=cfg.beta, tau=cfg.tau,
                            diagonal_weight=cfg.diagonal_weight,
                            gather=(lambda t: gather_columns(acc, t)) if global_c else None,
                            eps=batch["eps"] if cfg.label_smoothing > 0 else None)
        sum_over_ranks = None
        if global_c:
            def sum_over_ranks(x: float) -> float:
                return acc.reduce(torch.tensor([x], device=acc.device), reduction="sum").item()
        loss, loss_metric = contrast_loss(cfg.method, cb, world=acc.num_processes, sum_over_ranks=sum_over_ranks)
        if self.dynamics is not None:
            self._record(cb, ratios, batch.get("labels"), indices, split)
        metrics = contrast_metrics(cb)
        metrics["loss"] = loss_metric
        return loss, metrics, int(batch["attention_mask"].sum().item())

    def _record(self, cb, ratios: torch.Tensor, labels: torch.Tensor | None, indices: list[int], split: str) -> None:
        """The margin of each example's own pair from this forward pass (before the update)."""
        m = dynamics.own_margins(ratios, labels, self.cfg.beta)
        w = dynamics.diagonal_weights(cb.local.weights, cb.local.diagonal) if split == "train" else None
        both = (torch.stack([m, w]) if w is not None else m[None]).cpu().numpy()
        if split == "train":
            self.dynamics.add_train(self.step, np.asarray(indices), both[0], both[1] if w is not None else None)
        elif self._eval_margins is not None:
            self._eval_margins[indices] = both[0]

    def _gather_dynamics(self) -> None:
        """Every rank's training sums to rank 0 (the others keep zeros): a collective call."""
        acc = self.acc
        if self.dynamics is None or acc.num_processes == 1:
            return
        from accelerate.utils import gather

        local = torch.from_numpy(self.dynamics.stacked()).to(acc.device)
        parts = gather(local[None]).cpu().numpy()
        self.dynamics.set_merged(parts if acc.is_main_process else None)

    def _write_dynamics(self, paths: list[Path], complete: bool) -> None:
        """Rank 0 writes dynamics.safetensors to each of `paths` (after _gather_dynamics)."""
        if self.dynamics is None or not self.acc.is_main_process:
            return
        cfg = self.cfg
        meta = dynamics.metadata(run=self.run_dir.name, method=cfg.method, beta=float(cfg.beta), step=self.step,
                                 epoch=self.epoch(), dataset=cfg.dataset, dataset_sha256=self.dataset_info.sha256,
                                 labels_sha256=self.labels_sha256, complete=complete)
        tensors = self.dynamics.tensors()
        for p in paths:
            dynamics.write(p, tensors, meta)

    def _restore_dynamics(self, checkpoint: Path) -> None:
        if self.dynamics is None or not self.acc.is_main_process:
            return
        path = checkpoint / dynamics.FILE_NAME
        if not path.is_file():
            self.events.log("warning", f"{checkpoint.name} has no {dynamics.FILE_NAME}: the training dynamics count from step {self.step}")
            return
        tensors, _ = dynamics.read(path)
        if not self.dynamics.restore(tensors):
            self.events.log("warning", f"{path}: its pairs are not this run's (the labels changed): the training dynamics count from step {self.step}")

    # -- loop

    def _state(self) -> dict:
        return {"step": self.step, "total_steps": self.total_steps, "micro_batches_done": self.step * self.cfg.gradient_accumulation_steps,
                "batches_per_epoch": self.batches_per_epoch, "seed": self.cfg.seed, "epoch": self.epoch()}

    def epoch(self) -> float:
        return round(self.step / self.steps_per_epoch, 6) if self.steps_per_epoch else 0.0

    def _checkpoint(self, reason: str) -> Path:
        checkpoints = self.run_dir / "checkpoints"
        path = checkpointing.step_folder(checkpoints, self.step)
        self._gather_dynamics()
        checkpointing.save_checkpoint(self.acc, path, self.model, self.optimizer, self.scheduler, self._state(),
                                      before_commit=lambda tmp: self._write_dynamics([tmp / dynamics.FILE_NAME], complete=False))
        self._write_dynamics([self.run_dir / dynamics.FILE_NAME], complete=False)
        if self.acc.is_main_process and reason == "periodic":
            checkpointing.rotate(checkpoints, self.cfg.save_total_limit)
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
        if self.dynamics is not None:
            self._eval_margins = np.zeros(len(self.eval_examples), np.float32)
        with torch.no_grad():
            for s in starts:
                idx = list(range(s, min(s + bs, len(self.eval_examples))))
                _, metrics, _ = self._loss([self.eval_examples[i] for i in idx], idx, "eval")
                window.add(metrics)
        self.model.train()
        if self.dynamics is not None:
            margins = self._eval_margins
            if acc.num_processes > 1:  # each rank filled its own batches, zeros elsewhere
                margins = acc.reduce(torch.from_numpy(margins).to(acc.device), reduction="sum").cpu().numpy()
            self.dynamics.add_eval(self.step, margins)
            self._eval_margins = None
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
        """Train; return 'completed' or 'stopped'. Every run, a resumed one too, starts its
        events with a `start` event (readers take the steps after the latest one)."""
        self.prepare()
        cfg, acc = self.cfg, self.acc
        if self.resume_from is not None:
            state = checkpointing.load_checkpoint(acc, self.resume_from, self.model, self.optimizer, self.scheduler,
                                                  warn=lambda message: self.events.log("warning", message))
            self.step = int(state["step"])
            self._restore_dynamics(self.resume_from)
            if state.get("batches_per_epoch") != self.batches_per_epoch:
                raise ConfigError(f"--resume: the data changed since {self.resume_from} "
                                  f"({state.get('batches_per_epoch')} batches per epoch then, {self.batches_per_epoch} now)")
        ds = self.dataset_info
        paths = forward_paths(self.model, self.forward_options)
        self.chunked_announced = paths["chunked_logps"]
        self.events.emit(
            "start", run_dir=str(self.run_dir.resolve()), config=resolved_config(cfg),
            model={"name_or_path": cfg.model, "architecture": self.architecture, "parameters": self.param_count,
                   "trainable_parameters": self.trainable_count, "lora": cfg.lora.enabled},
            dataset={"path": cfg.dataset, "sha256": ds.sha256, "lines": ds.lines, "usable": len(ds.records),
                     "train": len(self.train_examples), "eval": len(self.eval_examples), "left_out": dict(ds.left_out),
                     "truncated": self.truncated, "embeddings_computed": self.embeddings_computed},
            devices=self._devices(), num_processes=acc.num_processes, total_steps=self.total_steps, step=self.step,
            epoch=self.epoch(), resumed=str(self.resume_from.resolve()) if self.resume_from else None,
            precision=self.precision, versions=run_folder.package_versions(),
            forward=paths)
        self.labels_sha256 = self.rows.labels_sha256()
        if acc.is_main_process:
            run_folder.write_run_info(self.run_dir, {
                "seed": cfg.seed, "dataset": cfg.dataset, "dataset_sha256": ds.sha256, "eval_dataset_sha256": self.eval_sha,
                "labels_sha256": self.labels_sha256,
                "versions": run_folder.package_versions(), "argv": sys.argv, "precision": self.precision,
                "num_processes": acc.num_processes})

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
        try:
            if checkpointing.sharded(acc):
                # Gathers the full state dict from the shards (accelerate's documented way).
                state_dict = acc.get_state_dict(self.model)
                acc.unwrap_model(self.model).save_pretrained(self.final_dir, state_dict=state_dict, is_main_process=acc.is_main_process,
                                                             save_function=acc.save, safe_serialization=True)
            elif acc.is_main_process:
                acc.unwrap_model(self.model).save_pretrained(self.final_dir, safe_serialization=True)
            if acc.is_main_process:
                self.tokenizer.save_pretrained(self.final_dir)
                write_text_atomic(self.final_dir / "README.md", run_folder.model_card(self.cfg, self.step, self.dataset_info.sha256))
        except Exception as e:  # OSError, torch's RuntimeError, safetensors' SafetensorError
            if checkpointing.is_disk_full(e, self.final_dir):
                raise checkpointing.disk_full_error(self.final_dir, "the final model", e) from None
            raise
        self._gather_dynamics()
        self._write_dynamics([self.run_dir / dynamics.FILE_NAME], complete=True)
        acc.wait_for_everyone()
        self.events.emit("checkpoint", step=self.step, total_steps=self.total_steps, epoch=self.epoch(),
                         path=str(self.final_dir.resolve()), reason="final")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
