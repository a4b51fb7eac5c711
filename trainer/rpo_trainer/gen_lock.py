"""One generator per candidates file: `<out>.lock` next to the output (docs/formats.md).

Two generations on the same output (two terminals, a VS Code window and a terminal) would append
the same records twice. The generator (main process) takes the lock before it opens
the output and removes it when it ends. The lock records the holder as src/core/run/trainerIdentity.ts
records a trainer: pid, argv and start time. A lock whose holder is still that process (same pid,
same arguments, started when recorded) refuses a second generator with the pid; one whose pid is
dead or reused by another program is stale and is taken over.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import psutil  # accelerate's own dependency

from .errors import ConfigError

# As START_BEFORE_MS / START_AFTER_MS in src/core/run/trainerIdentity.ts; the holder writes its own
# start as the OS reports it, so only clock rounding separates the two.
START_BEFORE_S = 30.0
START_AFTER_S = 2.0


def lock_path(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


def own_record() -> dict:
    me = psutil.Process()
    started = datetime.fromtimestamp(me.create_time(), tz=timezone.utc).isoformat(timespec="milliseconds")
    return {"pid": me.pid, "argv": me.cmdline(), "startedAt": started}


def holder_alive(record: dict) -> bool:
    """True when the recorded pid is the recorded process (the trainerIdentity check, on psutil's facts)."""
    try:
        pid, argv = record["pid"], record["argv"]
        recorded = datetime.fromisoformat(record["startedAt"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return False
    if not isinstance(pid, int) or pid <= 0 or not isinstance(argv, list):
        return False
    try:
        proc = psutil.Process(pid)
        facts_argv, started = proc.cmdline(), proc.create_time()
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # another user's process with that pid: not ours to take over
    # The interpreter path may differ (a venv link resolved): compare the arguments.
    if len(facts_argv) != len(argv) or facts_argv[1:] != argv[1:]:
        return False
    return recorded - START_BEFORE_S <= started <= recorded + START_AFTER_S


def _read(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record if isinstance(record, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # unreadable or half-written: no live holder can be named


def _refuse(out: Path, path: Path, record: dict) -> ConfigError:
    return ConfigError(
        f"{out.name} is being written by another generation (pid {record.get('pid')}, started {record.get('startedAt')}: "
        f"{' '.join(str(a) for a in record.get('argv', []))}); see {path.name}",
        hint=f"Wait for it to finish or stop process {record.get('pid')}; a lock whose process has ended is taken over.")


def acquire(out: Path) -> Path:
    """Takes `<out>.lock` for this process, or raises ConfigError naming the running holder's pid."""
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)  # before the output's own folder exists (samples/)
    mine = own_record()
    data = json.dumps(mine) + "\n"
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            record = _read(path)
            if record is None:
                continue  # removed meanwhile: try again
            if record.get("pid") == mine["pid"] or not holder_alive(record):
                # Stale: replace it whole, then read back (two takers: the later replace wins, the other sees it).
                tmp = path.with_name(f"{path.name}.{mine['pid']}.tmp")
                tmp.write_text(data, encoding="utf-8")
                os.replace(tmp, path)
                if _read(path) == mine:
                    return path
                continue
            raise _refuse(out, path, record) from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
        return path
    record = _read(path) or {}
    raise _refuse(out, path, record)


def release(path: Path) -> None:
    """Removes the lock if it is still this process's."""
    record = _read(path)
    if record is not None and record.get("pid") == os.getpid():
        try:
            path.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def held(out: Path) -> Iterator[Path]:
    path = acquire(out)
    try:
        yield path
    finally:
        release(path)


__all__ = ["lock_path", "acquire", "release", "held", "holder_alive", "own_record"]
