"""The method table (schemas/methods.json) that the extension reads too: same names as the schema's
`method` enum and as the losses, and the trainer's views of it."""

from __future__ import annotations

from rpo_trainer.config import RunConfig, load_schema
from rpo_trainer.losses import LOSSES
from rpo_trainer.methods import EMBEDDING_METHODS, METHODS, PAIRED_METHODS, UNPAIRED_METHODS


def test_methods_are_the_schema_enum_and_the_losses():
    assert list(METHODS) == load_schema("run-config")["properties"]["method"]["enum"]
    assert set(LOSSES) == set(METHODS)
    assert set(PAIRED_METHODS) | set(UNPAIRED_METHODS) == set(METHODS)
    assert not set(PAIRED_METHODS) & set(UNPAIRED_METHODS)


def test_method_views():
    assert UNPAIRED_METHODS == ("rpo-unpaired",)
    assert EMBEDDING_METHODS == ("rpo", "rpo-unpaired")
    assert RunConfig(model="m", dataset="d", method="dpo").paired
    assert not RunConfig(model="m", dataset="d", method="rpo-unpaired").paired
    assert not RunConfig(model="m", dataset="d", method="dpo").uses_embeddings
    assert RunConfig(model="m", dataset="d", method="dpo", similarity_batching=True).uses_embeddings
