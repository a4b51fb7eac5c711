"""Progress events: JSON lines on stdout (flushed per line) and in the run folder's events.jsonl.

Only the main process writes; human-readable logs go to stderr.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any

SCHEMA_VERSION = 1


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: send null instead (the schema allows null for metrics)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class EventWriter:
    def __init__(self, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stdout
        self.file: IO[str] | None = None
        self.pending: list[str] = []  # events before the run folder exists

    def attach(self, path: Path) -> None:
        if not self.enabled:
            return
        self.file = path.open("a", encoding="utf-8")
        for line in self.pending:
            self.file.write(line)
        self.pending.clear()
        self.file.flush()

    def emit(self, type_: str, **fields: Any) -> dict | None:
        if not self.enabled:
            return None
        event = {"schema": SCHEMA_VERSION, "type": type_, "time": now_iso(), **_clean(fields)}
        line = json.dumps(event, ensure_ascii=False, allow_nan=False) + "\n"
        try:
            self.stream.write(line)
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away; keep training and keep the file log
        if self.file is not None:
            self.file.write(line)
            self.file.flush()
        else:
            self.pending.append(line)
        return event

    def log(self, level: str, message: str) -> None:
        self.emit("log", level=level, message=message)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def _log_prefix() -> str:
    """`[rpo_trainer]`, or `[rpo_trainer rank R]` in a run of several processes (every rank writes
    its stderr; the extension's log channel and `rpo train` show them interleaved)."""
    rank, world = os.environ.get("RANK"), os.environ.get("WORLD_SIZE")
    if rank is not None and world not in (None, "", "1"):
        return f"[rpo_trainer rank {rank}]"
    return "[rpo_trainer]"


def human(message: str) -> None:
    """A human log line on stderr (dropped when the reader has gone away, as events are)."""
    try:
        print(f"{_log_prefix()} {message}", file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass
