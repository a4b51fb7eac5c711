"""Errors the trainer reports to the user, each with a kind and an optional hint."""

from __future__ import annotations


class TrainerError(Exception):
    """An error with a clear message (naming the file, line or key) and a hint how to fix it."""

    kind = "internal"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(TrainerError):
    kind = "config"


class DataError(TrainerError):
    kind = "data"


class EmbeddingsError(TrainerError):
    kind = "embeddings"


class EnvironmentProblem(TrainerError):
    kind = "environment"
