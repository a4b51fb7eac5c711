"""Files that other processes read while they change (run folder files, the embedding cache)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path next to `path` for the block to write; when the block succeeds the file is
    fsynced and renamed over `path`, when it fails it is removed. A reader never sees `path` half
    written (the extension reads config.json / run.json during a run, and the embedding cache)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Writes `text` (UTF-8) to `path` through `replacing`."""
    with replacing(path) as tmp:
        tmp.write_text(text, "utf-8")
