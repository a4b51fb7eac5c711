import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

TRAINER_DIR = Path(__file__).resolve().parents[1]
REPO = TRAINER_DIR.parent
sys.path.insert(0, str(TRAINER_DIR))

from rpo_trainer.config import load_schema  # noqa: E402
from rpo_trainer.testing.tiny_model import make_tiny_model  # noqa: E402

EVENT_VALIDATOR = jsonschema.Draft202012Validator(load_schema("events"), format_checker=jsonschema.FormatChecker())


def subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(TRAINER_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["HF_HUB_OFFLINE"] = "1"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_two(*args: str) -> list[str]:
    """The command line that runs `args` (`-m rpo_trainer ...` or a script) as 2 local processes
    under the venv's torchrun, on a free port; skips the test when torchrun is not installed."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun not installed")
    return [torchrun, "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(free_port()), *args]


def parse_events(stdout: str) -> list[dict]:
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    for e in events:
        errors = sorted(EVENT_VALIDATOR.iter_errors(e), key=str)
        assert not errors, f"event does not match events.schema.json: {e['type']}: {errors[0].message}"
    return events


def run_trainer(args: list[str], cwd: Path | None = None, timeout: int = 240) -> tuple[int, list[dict], str]:
    proc = subprocess.run([sys.executable, "-m", "rpo_trainer", *args], capture_output=True, text=True,
                          env=subprocess_env(), cwd=cwd, timeout=timeout)
    return proc.returncode, parse_events(proc.stdout), proc.stderr


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "llama")
