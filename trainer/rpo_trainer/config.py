"""The run config: a dataclass validated against schemas/run-config.schema.json.

The schema is the single source of truth shared with VS Code (IntelliSense) and the extension;
this module adds the checks a schema cannot express and resolves paths against the config
file's folder.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .methods import EMBEDDING_METHODS, UNPAIRED_METHODS

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))


@dataclass
class EmbeddingsConfig:
    model: str = "sentence-transformers/all-MiniLM-L6-v2"
    precision: str = "q8"
    cache_dir: str = ".rpo/embeddings"
    compute_missing: bool = True


@dataclass
class LoraConfig:
    enabled: bool = False
    r: int = 16
    alpha: float = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


@dataclass
class RunConfig:
    """Every key is described in run-config.schema.json (shown by VS Code on hover)."""

    model: str
    dataset: str
    name: str = "rpo-run"
    description: str = ""
    tokenizer: str | None = None
    chat_template: str | None = None
    trust_remote_code: bool = False
    eval_dataset: str | None = None
    eval_split: float = 0.0
    method: str = "rpo"
    beta: float = 0.1
    tau: float = 0.5
    diagonal_weight: float = 0.8
    votes: str = "resolved"
    min_agreement: float = 0.0
    label_smoothing: float = 0.0
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    global_contrast: bool = False
    similarity_batching: bool = False
    learning_rate: float = 5e-7
    weight_decay: float = 0.0
    max_grad_norm: float = 10.0
    epochs: int = 1
    max_steps: int | None = None
    warmup_steps: int = 0
    optimizer: str = "rmsprop"
    lr_scheduler: str = "constant"
    max_length: int = 512
    max_prompt_length: int = 256
    truncation: str = "truncate"
    precision: str = "auto"
    lora: LoraConfig = field(default_factory=LoraConfig)
    gradient_checkpointing: bool = False
    precompute_ref_logps: bool = False
    padding_free: bool = True
    chunked_logps: bool = True
    seed: int = 42
    logging_steps: int = 1
    eval_steps: int = 0
    eval_batch_size: int | None = None
    save_steps: int = 0
    save_total_limit: int = 2
    output_dir: str = ".rpo/runs"
    num_processes: int = 1
    accelerate_config: str | None = None
    device: str = "auto"
    # Not a config key: the folder relative paths were resolved against.
    base_dir: str = field(default=".", metadata={"internal": True})

    def __post_init__(self) -> None:
        if self.max_prompt_length >= self.max_length:
            raise ConfigError(
                f"max_prompt_length ({self.max_prompt_length}) must be less than max_length ({self.max_length})",
                hint="Leave room for the response: e.g. max_length 512 and max_prompt_length 256.",
            )
        if self.eval_dataset and self.eval_split:
            raise ConfigError("eval_dataset and eval_split are both set; use one of them")

    @property
    def uses_embeddings(self) -> bool:
        return self.method in EMBEDDING_METHODS or self.similarity_batching

    @property
    def paired(self) -> bool:
        return self.method not in UNPAIRED_METHODS

    def to_json(self) -> dict[str, Any]:
        """The resolved config; valid against the schema (unset optional keys are left out)."""
        out = dataclasses.asdict(self)
        out.pop("base_dir")
        return {k: v for k, v in out.items() if v is not None}


def _error_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        # jsonschema names the unknown key only in the message; find it.
        instance = error.instance if isinstance(error.instance, dict) else {}
        allowed = set(error.schema.get("properties", {}))
        unknown = [k for k in instance if k not in allowed]
        if unknown:
            parts.append(unknown[0])
    return ".".join(parts) or "(top level)"


def _error_message(error) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"unknown key (allowed: {', '.join(allowed)})"
    if error.validator == "required":
        return error.message
    return error.message


def validate_config_dict(data: Any, source: str = "run config") -> None:
    """Raise ConfigError naming the file and the key of the first problem found."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema("run-config"))
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.validator != "additionalProperties"))
    if errors:
        e = errors[0]
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {_error_path(e)}: {_error_message(e)}{more}",
                          hint="See the key descriptions in run-config.schema.json (hover in VS Code).")


PATH_KEYS = ("dataset", "eval_dataset", "output_dir", "accelerate_config")


def _maybe_local(value: str, base: Path) -> str:
    """Model keys (docs/contracts.md section 6, pinned by test/golden/config-paths.json): a local folder
    when the value is an absolute path, starts with `.`, `/` or `~`, or exists relative to the
    config's folder; anything else is a Hub id, kept as written."""
    p = Path(value).expanduser()
    candidate = p if p.is_absolute() else base / p
    if p.is_absolute() or value.startswith((".", "/", "~")) or candidate.exists():
        return str(candidate.resolve())
    return value  # a Hub id


def config_from_dict(data: dict, base_dir: str | Path = ".", source: str = "run config") -> RunConfig:
    validate_config_dict(data, source)
    base = Path(base_dir).resolve()
    data = {k: v for k, v in data.items() if k != "$schema"}
    data.setdefault("output_dir", RunConfig.output_dir)
    for key in PATH_KEYS:
        if data.get(key):
            data[key] = str((base / Path(data[key]).expanduser()).resolve())
    data["model"] = _maybe_local(data["model"], base)
    if data.get("tokenizer"):
        data["tokenizer"] = _maybe_local(data["tokenizer"], base)
    emb = dict(data.pop("embeddings", {}) or {})
    emb["cache_dir"] = str((base / Path(emb.get("cache_dir", EmbeddingsConfig.cache_dir)).expanduser()).resolve())
    emb["model"] = _maybe_local(emb.get("model", EmbeddingsConfig.model), base)
    lora = dict(data.pop("lora", {}) or {})
    try:
        return RunConfig(**data, embeddings=EmbeddingsConfig(**emb), lora=LoraConfig(**lora), base_dir=str(base))
    except ConfigError as e:
        raise ConfigError(f"{source}: {e.message}", e.hint) from None


def load_config(path: str | Path) -> RunConfig:
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the run config: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{p}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    return config_from_dict(data, p.resolve().parent, source=str(p))


def resolved_config(cfg: RunConfig) -> dict:
    """The config as saved in the run folder and sent in the start event."""
    return cfg.to_json()
