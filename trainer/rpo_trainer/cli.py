"""`python -m rpo_trainer train --config RUN.json [--resume RUN_DIR] [--run-dir DIR]`, `generate RUN_DIR`, `judge FILE --model M` (rpo_trainer/judge.py) and `doctor`.

Exit codes: 0 the run completed or was stopped cleanly (see the `end` event's status),
1 it failed (an `error` event says why), 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from .errors import ConfigError, TrainerError
from .events import EventWriter, human

OOM_HINT = ("CUDA ran out of memory: lower batch_size (raise gradient_accumulation_steps to keep the global batch), "
            "enable gradient_checkpointing, use LoRA (lora.enabled), lower max_length, or enable precompute_ref_logps.")


def _is_main_process() -> bool:
    import os

    return os.environ.get("RANK", "0") in ("", "0")


def cmd_train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .run_folder import resume_config
    from .train import Run, StopFlag

    events = EventWriter(enabled=_is_main_process())
    stop = StopFlag()
    stop.install()
    started = time.perf_counter()
    run = None
    try:
        run_dir = Path(args.run_dir).resolve() if args.run_dir else None
        if args.resume:
            run_dir = Path(args.resume).resolve()
            cfg = resume_config(run_dir)
        elif args.config:
            cfg = load_config(args.config)
        else:
            raise ConfigError("train needs --config RUN.json or --resume RUN_DIR")
        run = Run(cfg, events, stop, run_dir=run_dir, resume=bool(args.resume))
        status = run.run()
        end = {"status": status, "step": run.step, "total_steps": run.total_steps, "epoch": run.epoch(),
               "elapsed_seconds": round(time.perf_counter() - started, 3), "run_dir": str(run.run_dir.resolve())}
        if status == "completed":
            end["final_model"] = str(run.final_dir.resolve())
            human(f"done: {run.final_dir}")
        else:
            end["checkpoint"] = str(run.stop_checkpoint.resolve())
            end["message"] = f"stopped by {stop.reason or 'request'}; resume with --resume {run.run_dir.resolve()}"
            human(end["message"])
        events.emit("end", **end)
        return 0
    except BaseException as e:  # noqa: BLE001 - every failure becomes an error event
        if isinstance(e, SystemExit):
            raise
        kind, hint, message, tb = _failure(e, OOM_HINT, "interrupted before training started")
        step = run.step if run is not None else None
        events.emit("error", message=message, error_type=kind, traceback=tb, hint=hint, step=step)
        events.emit("end", status="failed", step=step or 0, total_steps=run.total_steps if run else 0,
                    epoch=run.epoch() if run else 0.0, elapsed_seconds=round(time.perf_counter() - started, 3),
                    run_dir=str(run.run_dir.resolve()) if run is not None and run.run_dir else None, message=message)
        return 1
    finally:
        stop.uninstall()
        events.close()


def _failure(e: BaseException, oom_hint: str, interrupted: str) -> tuple[str, str | None, str, str | None]:
    """A failed command's error event fields (kind, hint, message, traceback), also told to the human on stderr."""
    kind, hint, tb = "internal", None, traceback.format_exc()
    message = f"{type(e).__name__}: {e}"
    if isinstance(e, TrainerError):
        kind, hint, message = e.kind, e.hint, e.message
        tb = traceback.format_exc() if kind == "internal" else None
    elif _is_oom(e):
        kind, hint = "out_of_memory", oom_hint
    elif isinstance(e, KeyboardInterrupt):
        message = interrupted
    human(f"error: {message}" + (f"\nhint: {hint}" if hint else ""))
    if tb:
        print(tb, file=sys.stderr, flush=True)
    return kind, hint, message, tb


def _is_oom(e: BaseException) -> bool:
    try:
        import torch

        if isinstance(e, torch.cuda.OutOfMemoryError):
            return True
    except ImportError:
        pass
    return "out of memory" in str(e).lower() and "cuda" in str(e).lower()


def cmd_generate(args: argparse.Namespace) -> int:
    """Exit codes as train: 0 completed or stopped cleanly (the end event says which), 1 failed."""
    from . import gen_launcher
    from .generate import Request, Settings, run_generation, stop_flag

    events = EventWriter(enabled=_is_main_process())
    stop = stop_flag()
    stop.install()
    gen_launcher.watch(stop)
    started = time.perf_counter()
    try:
        settings = Settings(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                            greedy=args.greedy, seed=args.seed, batch_size=args.batch_size)
        req = Request(run_dir=Path(args.run_dir), checkpoint=args.checkpoint, baseline=args.baseline, prompts=args.prompts,
                      num_prompts=args.num_prompts, out=args.out, overwrite=args.overwrite, settings=settings)
        end = run_generation(req, events, stop)
        human(f"{end['status']}: {end['done']} of {end['total']} records in {end['out']}" + (f" ({end['message']})" if end.get("message") else ""))
        events.emit("generate_end", **end)
        return 0
    except BaseException as e:  # noqa: BLE001 - every failure becomes an error event
        if isinstance(e, SystemExit):
            raise
        kind, hint, message, tb = _failure(
            e, "Lower --batch-size (or --max-new-tokens) and run the same command again: it continues after the records written.",
            "interrupted")
        events.emit("error", message=message, error_type=kind, traceback=tb, hint=hint)
        events.emit("generate_end", status="failed", out=None, sidecar=None, done=0, total=0,
                    elapsed_seconds=round(time.perf_counter() - started, 3), message=message)
        return 1
    finally:
        stop.uninstall()
        events.close()


def cmd_doctor(args: argparse.Namespace) -> int:  # noqa: ARG001
    from .doctor import doctor

    print(json.dumps(doctor(), indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rpo_trainer", description="RPO Studio trainer")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train with a run config (JSON lines on stdout)")
    t.add_argument("--config", help="run config (*.rpo.json)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run from its latest checkpoint")
    t.add_argument("--run-dir", help="exact run folder to create (default: <output_dir>/<name>-<time>)")
    t.set_defaults(func=cmd_train)
    g = sub.add_parser("generate", help="sample a run's model and a baseline on held-out prompts into a blind candidates file")
    g.add_argument("run_dir", metavar="RUN_DIR", help="the run folder (its final/ model, or --checkpoint)")
    g.add_argument("--checkpoint", help="latest, a step number, a step-N folder name or a path (default: final/)")
    g.add_argument("--baseline", default="reference", help="reference (the run's starting model, default), dataset (the prompt record's chosen), or another RUN_DIR")
    g.add_argument("--prompts", help="a preference or prompt JSONL file (default: the run's eval split)")
    g.add_argument("--num-prompts", type=int, help="sample this many prompts (drawn with --seed, in file order)")
    g.add_argument("--out", help="the candidates file, *.pref.jsonl (default: RUN_DIR/samples/<A>-vs-<B>.<split>.pref.jsonl)")
    g.add_argument("--overwrite", action="store_true", help="replace an existing candidates file and its sidecar instead of continuing it")
    g.add_argument("--max-new-tokens", type=int, default=128)
    g.add_argument("--temperature", type=float, default=0.7)
    g.add_argument("--top-p", type=float, default=0.9)
    g.add_argument("--greedy", action="store_true", help="greedy decoding (temperature and top-p unused)")
    g.add_argument("--seed", type=int, default=0, help="seeds the prompt draw, the sampling and the response order")
    g.add_argument("--batch-size", type=int, default=8)
    g.set_defaults(func=cmd_generate)
    from . import judge

    j = sub.add_parser("judge", help="pre-fill votes on a candidates file with a local reward model (votes marked model:<name>)")
    judge.add_arguments(j)
    j.set_defaults(func=judge.run)
    d = sub.add_parser("doctor", help="print one JSON object describing the environment and its problems")
    d.set_defaults(func=cmd_doctor)
    args = parser.parse_args(argv)
    return args.func(args)
