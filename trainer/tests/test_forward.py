"""The padding-aware forward and the chunked log-probabilities change nothing but the cost.

One training step (policy and reference log-probabilities, the contrast, the loss, the metrics,
backward) on a batch of very different lengths, with each switch on and off: losses, rewards,
margins and gradients equal the padded, full-logits forward's to float32 rounding.
"""

import functools
import random

import pytest
import torch
from transformers import AutoModelForCausalLM

from rpo_trainer import forward
from rpo_trainer.data import Example, collate
from rpo_trainer.forward import ForwardOptions, plan_sub_batches, sequence_logps, token_logps
from rpo_trainer.losses import LOSSES, Contrast, batch_metrics, contrast_weights

PADDED = ForwardOptions(padding_free=False, chunked_logps=False)
VARIANTS = [ForwardOptions(True, True), ForwardOptions(True, False), ForwardOptions(False, True)]


def _examples(paired: bool, seed: int = 0) -> list[Example]:
    """Eight examples whose sequences range from 3 to about 250 tokens, long and short interleaved."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda n: torch.randint(0, 250, (n,), generator=g).tolist()  # noqa: E731
    shapes = [(150, 90, 3), (2, 1, 5), (40, 7, 120), (1, 60, 60), (90, 2, 2), (5, 110, 30), (20, 20, 21), (3, 4, 1)]
    out = []
    for i, (p, c, r) in enumerate(shapes):
        if paired:
            out.append(Example(line=i, key=b"", prompt_ids=rnd(p), responses=[rnd(c), rnd(r)]))
        else:
            out.append(Example(line=i, key=b"", prompt_ids=rnd(p), responses=[rnd(c if i % 2 else r)], label=i % 3 != 1))
    return out


def _models(model_dir, lora: bool):
    """(policy, reference-or-None): the policy moved away from the reference so log-ratios are not 0."""
    torch.manual_seed(0)
    policy = AutoModelForCausalLM.from_pretrained(model_dir)
    if lora:
        from peft import LoraConfig, get_peft_model

        policy = get_peft_model(policy, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                                                   task_type="CAUSAL_LM"))
        ref = None
    else:
        ref = AutoModelForCausalLM.from_pretrained(model_dir).eval().requires_grad_(False)
    with torch.no_grad():
        for p in policy.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.02)
    policy.train()
    return policy, ref


def one_step(policy, ref, examples, method: str, options: ForwardOptions) -> dict:
    """What Run does for one micro-batch: log-ratios, contrast, loss, metrics, backward."""
    batch = collate(examples, pad_id=0)
    policy.zero_grad(set_to_none=True)
    logps = sequence_logps(policy, batch, options)
    with torch.no_grad():
        if ref is not None:
            ref_logps = sequence_logps(ref, batch, options)
        else:
            with policy.disable_adapter():
                ref_logps = sequence_logps(policy, batch, options)
    ratios = logps - ref_logps
    emb = torch.nn.functional.normalize(torch.randn(len(examples), 8, generator=torch.Generator().manual_seed(3)), dim=-1)
    if "labels" in batch:
        labels = batch["labels"]
        c = Contrast(chosen=ratios[labels], rejected=ratios[~labels], beta=0.1,
                     weights=contrast_weights(emb[labels], emb[~labels], 0.5))
        chosen_logps, rejected_logps = logps[labels], logps[~labels]
    else:
        m = len(examples)
        c = Contrast(chosen=ratios[:m], rejected=ratios[m:], beta=0.1, diagonal=torch.arange(m),
                     weights=contrast_weights(emb, emb, 0.5) if method == "rpo" else None)
        chosen_logps, rejected_logps = logps[:m], logps[m:]
    loss = LOSSES[method](c)
    loss.backward()
    metrics = batch_metrics(c, chosen_logps, rejected_logps)
    grads = {n: p.grad.detach().clone() for n, p in policy.named_parameters() if p.requires_grad}
    return {"loss": loss.item(), "logps": logps.detach(), "metrics": {k: s / n for k, (s, n) in metrics.items()}, "grads": grads}


def assert_same_step(got: dict, want: dict) -> None:
    assert got["loss"] == pytest.approx(want["loss"], rel=1e-5, abs=1e-6)
    torch.testing.assert_close(got["logps"], want["logps"], rtol=1e-5, atol=1e-5)
    for k in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
        assert got["metrics"][k] == pytest.approx(want["metrics"][k], rel=1e-5, abs=1e-5), k
    assert got["grads"].keys() == want["grads"].keys()
    for name, g in want["grads"].items():
        scale = g.abs().max().item()
        torch.testing.assert_close(got["grads"][name], g, rtol=1e-5, atol=1e-5 * max(scale, 1e-3),
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("lora", [False, True], ids=["full", "lora"])
@pytest.mark.parametrize("method", ["rpo", "dpo", "ipo", "rpo-unpaired"])
def test_one_step_equals_the_padded_forward(tiny_model, method, lora):
    policy, ref = _models(tiny_model, lora)
    examples = _examples(paired=method != "rpo-unpaired")
    lengths = collate(examples, 0)["attention_mask"].sum(1).tolist()
    assert len(plan_sub_batches(lengths, forward.CALL_OVERHEAD_TOKENS["cpu"])) >= 3, "the batch must split"
    want = one_step(policy, ref, examples, method, PADDED)
    assert abs(want["metrics"]["rewards/margins"]) > 1e-3, "log-ratios must not be all zero"
    for options in VARIANTS:
        assert_same_step(one_step(policy, ref, examples, method, options), want)


def test_small_chunks_equal_one_chunk(tiny_model, monkeypatch):
    """Many chunks (each recomputed in backward) give the one-chunk values and gradients."""
    policy, ref = _models(tiny_model, lora=False)
    examples = _examples(paired=True)
    want = one_step(policy, ref, examples, "dpo", ForwardOptions(False, True))
    monkeypatch.setattr(forward, "CHUNK_ELEMENTS", 20_000)  # about 75 tokens per chunk for a ~260-token vocabulary
    calls = []
    real = forward._logps_of_chunk
    monkeypatch.setattr(forward, "_logps_of_chunk", lambda *a: calls.append(a[1].shape[0]) or real(*a))
    assert_same_step(one_step(policy, ref, examples, "dpo", ForwardOptions(False, True)), want)
    assert len(calls) > 10 and max(calls) * policy.config.vocab_size <= 20_000


def test_token_logps_match_log_softmax_and_its_gradient():
    torch.manual_seed(0)
    head = torch.nn.Linear(16, 1000, bias=True)
    states = torch.randn(50, 16, requires_grad=True)
    targets = torch.randint(0, 1000, (50,))
    weights = torch.randn(50)
    want = torch.log_softmax(head(states), -1).gather(-1, targets[:, None])[:, 0]
    (want * weights).sum().backward()
    want_grads = [states.grad.clone(), head.weight.grad.clone(), head.bias.grad.clone()]
    states.grad = head.weight.grad = head.bias.grad = None
    got = token_logps(head, states, targets, chunk_elements=7 * 1000)
    (got * weights).sum().backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-5)
    for g, w in zip([states.grad, head.weight.grad, head.bias.grad], want_grads):
        torch.testing.assert_close(g, w, rtol=1e-5, atol=1e-6)


def test_a_model_whose_logits_are_not_the_head_of_the_hidden_state_gets_full_logits(tmp_path):
    from rpo_trainer.testing.tiny_model import make_tiny_model

    model = AutoModelForCausalLM.from_pretrained(make_tiny_model(tmp_path / "m")).eval()
    plain = functools.partial(type(model).forward, model)

    @functools.wraps(type(model).forward)
    def scaled(*args, **kwargs):
        out = plain(*args, **kwargs)
        out.logits = torch.tanh(out.logits / 3) * 3  # soft-capped logits, like Gemma 2
        return out

    model.forward = scaled
    batch = collate(_examples(paired=True)[:3], pad_id=0)
    with torch.no_grad():
        want = sequence_logps(model, batch, PADDED)
        got = sequence_logps(model, batch, ForwardOptions(True, True))
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert forward.forward_paths(model, ForwardOptions(True, True)) == {"padding_free": True, "chunked_logps": False}


def test_sub_batch_plan_covers_every_row_once_and_weighs_the_overhead():
    rng = random.Random(0)
    for _ in range(50):
        lengths = [rng.randint(1, 400) for _ in range(rng.randint(1, 24))]
        for overhead in (0, 32, 1024, 10**9):
            groups = plan_sub_batches(lengths, overhead)
            assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
            cost = sum(len(g) * max(lengths[i] for i in g) + overhead for g in groups)
            padded = len(lengths) * max(lengths) + overhead
            assert cost <= padded
            if overhead == 0:
                assert all(len({lengths[i] for i in g}) == 1 for g in groups)  # no padding at all
            if overhead == 10**9:
                assert len(groups) == 1
    assert plan_sub_batches([], 32) == []
    assert plan_sub_batches([10, 500, 11, 490], 32) == [[1, 3], [2, 0]]


def _toy_run(tmp_path, tiny_model, **switches) -> list[dict]:
    """A real run (Run.run, in process) of rpo on toy data whose lengths differ 10-fold."""
    import io

    from accelerate.state import AcceleratorState

    from conftest import parse_events
    from rpo_trainer.config import load_config
    from rpo_trainer.events import EventWriter
    from rpo_trainer.testing.toy import toy_records, toy_workspace, write_jsonl, write_toy_cache
    from rpo_trainer.train import Run, StopFlag

    config = toy_workspace(tmp_path, tiny_model, n=16, method="rpo", max_steps=3, batch_size=8, **switches)
    records = toy_records(16)
    for i, r in enumerate(records):  # long prompts and responses every third record
        if i % 3 == 0:
            r["prompt"] = r["prompt"] + " and more" * 12
            r["chosen"] = r["chosen"] + " More tips follow." * 4
    write_jsonl(tmp_path / "data" / "toy.pref.jsonl", records)
    write_toy_cache(tmp_path / ".rpo" / "embeddings", records)
    AcceleratorState._reset_state(reset_partial_state=True)
    out = io.StringIO()
    assert Run(load_config(config), EventWriter(stream=out), StopFlag()).run() == "completed"
    return parse_events(out.getvalue())


def test_runs_with_the_switches_on_and_off_train_alike_and_say_which_path_runs(tmp_path, tiny_model):
    on = _toy_run(tmp_path / "on", tiny_model)
    off = _toy_run(tmp_path / "off", tiny_model, padding_free=False, chunked_logps=False)
    start_on, start_off = (next(e for e in events if e["type"] == "start") for events in (on, off))
    assert start_on["forward"] == {"padding_free": True, "chunked_logps": True}
    assert start_off["forward"] == {"padding_free": False, "chunked_logps": False}
    steps_on = [e for e in on if e["type"] == "step"]
    steps_off = [e for e in off if e["type"] == "step"]
    assert len(steps_on) == len(steps_off) == 3
    for a, b in zip(steps_on, steps_off):
        for k in ("loss", "rewards/margins", "rewards/accuracies"):
            assert a["metrics"][k] == pytest.approx(b["metrics"][k], rel=1e-5, abs=1e-6), k
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-5)


def test_a_run_whose_model_turns_out_not_to_chunk_says_so_in_a_warning(tmp_path, tiny_model, monkeypatch):
    """The start event is written before the first forward pass; when that pass finds the logits
    are not head(hidden state), a log event says chunked_logps is off after all."""
    from transformers import LlamaForCausalLM

    plain = LlamaForCausalLM.forward

    @functools.wraps(plain)
    def soft_capped(self, *args, **kwargs):
        out = plain(self, *args, **kwargs)
        out.logits = torch.tanh(out.logits / 3) * 3
        return out

    monkeypatch.setattr(LlamaForCausalLM, "forward", soft_capped)
    events = _toy_run(tmp_path, tiny_model)
    start = next(e for e in events if e["type"] == "start")
    assert start["forward"] == {"padding_free": True, "chunked_logps": True}
    warnings = [e["message"] for e in events if e["type"] == "log" and "chunked_logps is off" in e["message"]]
    assert len(warnings) == 1, [e for e in events if e["type"] == "log"]
