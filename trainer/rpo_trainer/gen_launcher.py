"""A generation stops when the process that launched it has exited.

VS Code (the extension host) and the `rpo` CLI start `python -m rpo_trainer generate` in a process
group of its own, so that Cancel and Ctrl+C reach accelerate's ranks too; nothing then ends it when
its launcher dies (a reloaded window, a closed terminal), and it would go on writing a file that
nobody follows. The launcher names itself in RPO_LAUNCHER_PID. A thread checks once a second that
this process still runs (the same pid and start time: a reused pid is not it) and otherwise asks
the generation to stop as Ctrl+C does: the batch in progress is dropped, the records written are
kept, and the same command continues after them. Without the variable (the trainer run by hand)
nothing is watched.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Mapping

import psutil  # accelerate's own dependency

from .events import human

ENV = "RPO_LAUNCHER_PID"


def running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


def watch(stop, environ: Mapping[str, str] = os.environ, interval: float = 1.0) -> threading.Thread | None:
    """Starts the watch (a daemon thread) when `environ` names a launcher; `stop` is a StopFlag."""
    text = environ.get(ENV, "").strip()
    if not text:
        return None
    reason = f"the process that launched this generation (pid {text}) has exited"
    try:
        proc = psutil.Process(int(text))
    except ValueError:
        human(f"{ENV}={text!r} is not a process id; the generation does not watch its launcher")
        return None
    except psutil.NoSuchProcess:
        stop.request(reason)
        return None

    def loop() -> None:
        while not stop.requested:
            time.sleep(interval)
            if not running(proc):
                stop.request(reason)

    thread = threading.Thread(target=loop, name="rpo-launcher-watch", daemon=True)
    thread.start()
    return thread
