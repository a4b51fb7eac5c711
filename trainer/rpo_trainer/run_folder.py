"""The run folder: its name, config.json, run.json, the model card, and reading it back for --resume.

`<output_dir>/<name>-<UTC time>/` is created only once the config, the data and the model have
loaded, so a run that fails before training leaves no folder (its error goes out as an `error`
event on stdout).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from . import __version__
from .checkpointing import checkpoint_folders
from .config import RunConfig, config_from_dict, resolved_config
from .errors import ConfigError
from .files import write_text_atomic
from .losses import EMBEDDING_METHODS


def package_versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version(), "rpo_trainer": __version__}
    for name in ("torch", "transformers", "peft", "accelerate", "safetensors", "numpy", "sentence-transformers"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def new_run_dir(cfg: RunConfig) -> Path:
    """`<output_dir>/<name>-<UTC time>`, with `-2`, `-3`... if that exists (not created here)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    root = Path(cfg.output_dir)
    run_dir = root / f"{cfg.name}-{stamp}"
    k = 1
    while run_dir.exists():
        k += 1
        run_dir = root / f"{cfg.name}-{stamp}-{k}"
    return run_dir


def create(run_dir: Path, cfg: RunConfig) -> None:
    """The folder, its checkpoints/ folder and config.json (the resolved config)."""
    try:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"output_dir: cannot create the run folder {run_dir}: a file is in the way",
                          hint="Set output_dir in the run config to a folder.") from None
    except PermissionError:
        raise ConfigError(f"output_dir: cannot create the run folder {run_dir}: permission denied",
                          hint="Set output_dir in the run config to a folder you can write.") from None
    write_text_atomic(run_dir / "config.json", json.dumps(resolved_config(cfg), indent=1) + "\n")


def write_run_info(run_dir: Path, info: dict) -> None:
    write_text_atomic(run_dir / "run.json", json.dumps(info, indent=1) + "\n")


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


def resume_config(run_dir: Path) -> RunConfig:
    """The saved resolved config of a run folder that has something to resume from (the
    checkpoint itself is chosen by the run, after it has tidied an interrupted save)."""
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise ConfigError(f"--resume: {run_dir} is not a run folder (no config.json)")
    checkpoints = run_dir / "checkpoints"
    candidates = checkpoint_folders(checkpoints) + sorted(checkpoints.glob("step-*.old"))
    if not candidates:
        raise ConfigError(f"--resume: {run_dir} has no checkpoint to resume from",
                          hint="A run leaves a checkpoint when it is stopped (SIGINT/SIGTERM) or every save_steps steps.")
    data = json.loads(cfg_path.read_text("utf-8"))
    return config_from_dict(data, run_dir, source=str(cfg_path))
