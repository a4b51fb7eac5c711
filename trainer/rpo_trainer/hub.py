"""Where a model comes from: a local folder, the Hugging Face cache, or the Hub.

Checked once before transformers loads anything, so that a missing folder or an unreachable Hub
fails in seconds with what to do, instead of huggingface_hub's five retries per file (about 25 s
each for the tokenizer and the model) ending in "couldn't connect to 'https://huggingface.co'".
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

from .errors import ConfigError, EnvironmentProblem, TrainerError
from .events import human

CONNECT_TIMEOUT_S = 5.0
_reachable_cache: dict[str, tuple[bool, str]] = {}


def is_local(source: str) -> bool:
    """The run config resolves local folders to absolute paths (config._maybe_local); a Hub id
    is `name` or `org/name`."""
    return Path(source).expanduser().is_absolute() or source.startswith((".", "~"))


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def go_offline() -> None:
    """huggingface_hub (and transformers through it) read this flag on every call."""
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = True
    os.environ["HF_HUB_OFFLINE"] = "1"  # for processes started from here


def cached(repo_id: str, filename: str = "config.json") -> bool:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, filename)
    except Exception:  # noqa: BLE001 - a malformed id is simply not cached
        return False
    return isinstance(found, str)


def endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def hub_reachable(timeout: float = CONNECT_TIMEOUT_S) -> tuple[bool, str]:
    """One HEAD request to the Hub's endpoint, bounded by `timeout` (DNS included): any HTTP answer
    means reachable. Remembered for the process."""
    url = endpoint()
    if url in _reachable_cache:
        return _reachable_cache[url]
    result: list[tuple[bool, str]] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
            result.append((True, "reachable"))
        except urllib.error.HTTPError:
            result.append((True, "reachable"))  # it answered
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            result.append((False, str(reason)))

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    answer = result[0] if result else (False, f"no answer within {timeout:.0f} s")
    _reachable_cache[url] = answer
    return answer


def source_problem(source: str, field: str) -> TrainerError | None:
    """Why `source` (a run-config `field`: model, tokenizer, embeddings.model) cannot be loaded, or
    None: a local folder that does not exist, or a Hub id that is neither in the cache nor
    downloadable now. A cached model with the Hub unreachable switches huggingface_hub to
    offline mode, so it loads from the cache without retrying the Hub."""
    if is_local(source):
        path = Path(source).expanduser()
        if not path.exists():
            return ConfigError(f"{field}: model folder {path} does not exist",
                               hint=f"Check `{field}` in the run config (a path relative to the config's folder), "
                                    "or give a Hugging Face Hub id such as HuggingFaceTB/SmolLM2-135M-Instruct.")
        if not path.is_dir():
            return ConfigError(f"{field}: {path} is not a folder",
                               hint=f"`{field}` takes a model folder (config.json, weights, tokenizer) or a Hub id.")
        return None
    filename = "tokenizer_config.json" if field == "tokenizer" else "config.json"
    in_cache = cached(source, filename)
    local_hint = (f"set `{field}` in the run config to a local folder holding the model (a path relative to the "
                  "config's folder)")
    if _offline():
        if in_cache:
            return None
        return EnvironmentProblem(
            f"{field}: {source!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set, so it cannot be downloaded",
            hint=f"Unset HF_HUB_OFFLINE on a machine that reaches the Hub once (the model downloads once into the cache), "
                 f"or {local_hint}.")
    ok, why = hub_reachable()
    if ok:
        return None
    if in_cache:
        human(f"the Hugging Face Hub ({endpoint()}) is unreachable ({why}): loading {source} from the cache")
        go_offline()
        return None
    return EnvironmentProblem(
        f"{field}: cannot download {source!r}: the Hugging Face Hub ({endpoint()}) is unreachable ({why}) "
        "and the model is not in the cache",
        hint=f"Connect once: the model downloads once into the Hugging Face cache and later runs use it offline. "
             f"Or {local_hint}. With HF_HUB_OFFLINE=1 the trainer uses only the cache and never tries the Hub.")


def check_model_source(source: str, field: str) -> None:
    """Raise source_problem's error, if any."""
    problem = source_problem(source, field)
    if problem is not None:
        raise problem
