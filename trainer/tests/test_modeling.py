"""Sequence log-probabilities: padding and logits_to_keep change nothing."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from rpo_trainer.data import Example, collate
from rpo_trainer.forward import ForwardOptions, sequence_logps
from rpo_trainer.testing.tiny_model import make_tiny_model


def reference_logps(model, prompt, response):
    ids = torch.tensor([prompt + response])
    logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].double(), -1)
    targets = ids[0, 1:]
    per_token = logp.gather(-1, targets[:, None])[:, 0]
    return per_token[len(prompt) - 1:].sum().item()


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_batched_left_padded_logps_equal_unpadded(tmp_path, arch):
    model = AutoModelForCausalLM.from_pretrained(make_tiny_model(tmp_path / arch, arch=arch)).eval()
    g = torch.Generator().manual_seed(0)
    rnd = lambda n: torch.randint(0, 250, (n,), generator=g).tolist()  # noqa: E731
    examples = [Example(line=i, key=b"", prompt_ids=rnd(p), responses=[rnd(c), rnd(r)])
                for i, (p, c, r) in enumerate([(5, 3, 9), (12, 7, 2), (1, 4, 4)])]
    batch = collate(examples, pad_id=0)
    with torch.no_grad():
        expected = [reference_logps(model, ex.prompt_ids, ex.responses[k]) for k in (0, 1) for ex in examples]
        for padding_free in (False, True):
            for chunked in (False, True):
                got = sequence_logps(model, batch, ForwardOptions(padding_free, chunked))
                assert got.tolist() == pytest.approx(expected, abs=1e-4)
