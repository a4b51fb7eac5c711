"""Record real trainer event streams for the extension's parser tests.

    python -m rpo_trainer.testing.record_events OUT_DIR

Writes rpo-tiny.events.jsonl (a completed RPO run with eval and checkpoints),
rpo-tiny-stopped.events.jsonl (SIGINT after step 2) and rpo-tiny-failed.events.jsonl (a data
error), each the exact stdout of `python -m rpo_trainer train` on a tiny CPU model.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .tiny_model import make_tiny_model
from .toy import toy_workspace


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2]) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def record(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_tiny_model(root / "model")
        cmd = [sys.executable, "-m", "rpo_trainer", "train", "--config"]

        cfg = toy_workspace(root / "ok", model, n=24, method="rpo", max_steps=6, eval_split=0.2, eval_steps=3, save_steps=3)
        done = subprocess.run(cmd + [str(cfg)], capture_output=True, text=True, env=_env(), check=True)
        written.append(_write(out_dir / "rpo-tiny.events.jsonl", done.stdout))

        cfg = toy_workspace(root / "stop", model, n=24, method="rpo", max_steps=50)
        proc = subprocess.Popen(cmd + [str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env())
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            event = json.loads(line)
            if event["type"] == "step" and event["step"] == 2:
                proc.send_signal(signal.SIGINT)
        proc.wait()
        written.append(_write(out_dir / "rpo-tiny-stopped.events.jsonl", "".join(lines)))

        cfg = toy_workspace(root / "fail", model, n=8, method="dpo", truncation="error", max_prompt_length=8, max_length=64)
        failed = subprocess.run(cmd + [str(cfg)], capture_output=True, text=True, env=_env())
        written.append(_write(out_dir / "rpo-tiny-failed.events.jsonl", failed.stdout))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


if __name__ == "__main__":
    for p in record(Path(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/events")):
        print(p)
