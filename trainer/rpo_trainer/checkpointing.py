"""Checkpoints that resume exactly and load without running code.

A checkpoint is a folder `<run_dir>/checkpoints/step-N/` (N zero-padded to at least 6 digits,
ordered by its number, not as text) holding the trainable weights (safetensors), the optimizer
state (tensors and numbers, `torch.load(weights_only=True)`), the scheduler state
(`scheduler.json`), each rank's RNG state (`rng_R.pt`: plain tensors and lists, no numpy
objects) and `trainer_state.json` (step and data position).

Writing is atomic per folder: everything goes to `step-N.tmp/`; then an existing `step-N/` is
renamed aside to `step-N.old/`, `step-N.tmp/` is renamed to `step-N/`, and `step-N.old/` is
deleted. A kill at any point leaves a complete `step-N/` or a complete `step-N.old/`, which
`tidy()` (run when a run starts or resumes) puts back in place; leftover `.tmp` folders are
removed. Resume takes the newest complete checkpoint and skips incomplete ones.
"""

from __future__ import annotations

import errno
import json
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch

from .errors import ConfigError, EnvironmentProblem

STEP_RE = re.compile(r"^step-(\d+)$")
STATE_FILE = "trainer_state.json"
SCHEDULER_FILE = "scheduler.json"
LEGACY_SCHEDULER_FILE = "scheduler.pt"  # checkpoints written before scheduler.json


def step_folder(checkpoints: Path, step: int) -> Path:
    return checkpoints / f"step-{step:06d}"


def step_of(path: Path) -> int | None:
    m = STEP_RE.match(path.name)
    return int(m.group(1)) if m else None


def checkpoint_folders(checkpoints: Path) -> list[Path]:
    """`step-N` folders, oldest first, ordered by N as a number (step-999999 < step-1000000)."""
    if not checkpoints.is_dir():
        return []
    found = [p for p in checkpoints.iterdir() if p.is_dir() and step_of(p) is not None]
    return sorted(found, key=lambda p: step_of(p))


def is_complete(path: Path) -> bool:
    """All the files a resume reads are there (a folder half deleted or half copied is not)."""
    if not (path / STATE_FILE).is_file():
        return False
    if not ((path / SCHEDULER_FILE).is_file() or (path / LEGACY_SCHEDULER_FILE).is_file()):
        return False
    if (path / "accelerate").is_dir():
        return True
    return (path / "trainable.safetensors").is_file() and (path / "optimizer.pt").is_file()


def latest_complete(checkpoints: Path) -> tuple[Path | None, list[Path]]:
    """The newest complete checkpoint and the newer incomplete ones skipped on the way."""
    skipped: list[Path] = []
    for path in reversed(checkpoint_folders(checkpoints)):
        if is_complete(path):
            return path, skipped
        skipped.append(path)
    return None, skipped


def tidy(checkpoints: Path) -> list[str]:
    """Finish or undo an interrupted rewrite; returns what was done (for the log).

    `step-N.old` is a complete copy renamed aside just before its replacement was renamed in:
    it goes back to `step-N` when `step-N` is missing or incomplete, else it is deleted.
    `step-N.tmp` folders are unfinished writes: deleted.
    """
    done: list[str] = []
    if not checkpoints.is_dir():
        return done
    for old in sorted(checkpoints.glob("step-*.old")):
        target = old.with_name(old.name[:-len(".old")])
        if step_of(target) is None or not old.is_dir():
            continue
        if is_complete(old) and not is_complete(target):
            shutil.rmtree(target, ignore_errors=True)
            old.rename(target)
            done.append(f"restored {target.name} from {old.name} (a rewrite of it was interrupted)")
        else:
            shutil.rmtree(old, ignore_errors=True)
            done.append(f"removed {old.name}")
    for tmp in sorted(checkpoints.glob("step-*.tmp")):
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
            done.append(f"removed the unfinished {tmp.name}")
    return done


def commit(tmp: Path, path: Path) -> None:
    """Put the finished `tmp` folder in place of `path`: old aside, new in, old deleted."""
    old = path.with_name(path.name + ".old")
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def rotate(checkpoints: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest step folders (by step number); returns those deleted."""
    folders = checkpoint_folders(checkpoints)
    doomed = folders[:-keep] if keep > 0 else folders
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


# ---------------------------------------------------------------- RNG state as plain data

def rng_state() -> dict:
    """Python, numpy, torch (and CUDA) generator states as tensors, lists and numbers only, so
    that `torch.load(weights_only=True)` reads them."""
    version, internal, gauss = random.getstate()
    name, key, pos, has_gauss, cached = np.random.get_state()
    state: dict = {
        "python": {"version": int(version), "state": list(internal), "gauss_next": gauss},
        "numpy": {"name": str(name), "key": torch.from_numpy(np.asarray(key, dtype=np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict) -> None:
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss_next"]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def safe_load(path: Path):
    """torch.load that refuses anything but tensors and plain data (a shared run folder must not
    be able to run code on resume)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError names the global it refused
        if isinstance(e, OSError):
            raise
        raise ConfigError(f"--resume: {path} holds more than tensors and plain data, so it is not loaded ({type(e).__name__})",
                          hint="Checkpoints of this trainer load with torch.load(weights_only=True). Resume from a checkpoint "
                               "the trainer wrote, or start the run again.") from None


# ---------------------------------------------------------------- full disk

def _free_bytes(folder: Path) -> int | None:
    for p in (folder, *folder.parents):
        if p.exists():
            try:
                return shutil.disk_usage(p).free
            except OSError:
                return None
    return None


LOW_SPACE_BYTES = 64 * 1024 * 1024


def is_disk_full(e: BaseException, folder: Path) -> bool:
    """ENOSPC / EDQUOT, or a write error whose text says so; torch.save's zip writer only says
    "unexpected pos N vs M" or "failed writing file", so for those the free space decides."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(e).lower()
    if "no space left" in text or "disk quota" in text:
        return True
    if "unexpected pos" in text or "failed writing file" in text:
        free = _free_bytes(folder)
        return free is not None and free < LOW_SPACE_BYTES
    return False


def disk_full_error(folder: Path, what: str, e: BaseException) -> EnvironmentProblem:
    free = _free_bytes(folder)
    free_text = f"{free / 1e6:.1f} MB free" if free is not None else "free space unknown"
    return EnvironmentProblem(
        f"no space left on the disk holding {folder} while writing {what} ({free_text}; {type(e).__name__}: {e})",
        hint="Free space on that disk, or set output_dir in the run config to a folder on a disk with room "
             "(save_total_limit bounds how many checkpoints a run keeps).")


# ---------------------------------------------------------------- save and load

def sharded(accelerator) -> bool:
    """FSDP or DeepSpeed: parameters are sharded across ranks (not tested on this project's CI)."""
    from accelerate.utils import DistributedType

    return accelerator.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED)


def trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def _write_state_files(folder: Path, scheduler, state: dict) -> None:
    (folder / SCHEDULER_FILE).write_text(json.dumps(scheduler.state_dict(), indent=1), "utf-8")
    # Written last: its presence marks the folder complete (is_complete).
    (folder / STATE_FILE).write_text(json.dumps(state, indent=1), "utf-8")


def save_checkpoint(accelerator, path: Path, model, optimizer, scheduler, state: dict, before_commit=None) -> None:
    """Trainable weights, optimizer, scheduler, each rank's RNG, and the step / data position,
    written to `path.tmp` and committed atomically (see the module docstring). `before_commit(tmp)`
    (main process) writes more files into the folder first (the training dynamics)."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    try:
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        accelerator.wait_for_everyone()
        torch.save(rng_state(), tmp / f"rng_{accelerator.process_index}.pt")
        if sharded(accelerator):
            # FSDP / DeepSpeed shard parameters and optimizer state: accelerate saves its own way.
            accelerator.save_state(str(tmp / "accelerate"))
        elif accelerator.is_main_process:
            save_file(trainable_state(accelerator.unwrap_model(model)), str(tmp / "trainable.safetensors"))
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            if before_commit is not None:
                before_commit(tmp)
            _write_state_files(tmp, scheduler, state)
            commit(tmp, path)
    except Exception as e:  # OSError, torch's RuntimeError, safetensors' SafetensorError
        if is_disk_full(e, tmp):
            error = disk_full_error(path.parent, f"checkpoint {path.name}", e)
            if accelerator.is_main_process:
                shutil.rmtree(tmp, ignore_errors=True)  # the previous checkpoints stay as they were
            raise error from None
        raise
    accelerator.wait_for_everyone()


def _load_scheduler_state(path: Path) -> dict:
    if (path / SCHEDULER_FILE).is_file():
        return json.loads((path / SCHEDULER_FILE).read_text("utf-8"))
    return safe_load(path / LEGACY_SCHEDULER_FILE)


def _load_rng(accelerator, path: Path, warn) -> None:
    rng_file = path / f"rng_{accelerator.process_index}.pt"
    if not rng_file.exists():
        return
    try:
        state = torch.load(rng_file, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - an older trainer pickled numpy's state: not loaded
        warn(f"{rng_file} is not plain data ({type(e).__name__}), so it is not loaded: the random state starts fresh "
             "(dropout differs from an uninterrupted run)")
        return
    set_rng_state(state)


def load_checkpoint(accelerator, path: Path, model, optimizer, scheduler, warn=lambda message: None) -> dict:
    """Restores what save_checkpoint wrote; every torch.load is weights_only=True."""
    from safetensors.torch import load_file

    if (path / "accelerate").is_dir():
        accelerator.load_state(str(path / "accelerate"))
    else:
        weights = load_file(str(path / "trainable.safetensors"))
        unwrapped = accelerator.unwrap_model(model)
        params = dict(unwrapped.named_parameters())
        missing = [n for n, p in params.items() if p.requires_grad and n not in weights]
        if missing:
            raise ConfigError(f"--resume: {path} does not match the model: no weights for {missing[0]}")
        with torch.no_grad():
            for n, t in weights.items():
                params[n].copy_(t.to(params[n].device, params[n].dtype))
        optimizer.load_state_dict(safe_load(path / "optimizer.pt"))
    scheduler.load_state_dict(_load_scheduler_state(path))
    _load_rng(accelerator, path, warn)
    return json.loads((path / STATE_FILE).read_text("utf-8"))
