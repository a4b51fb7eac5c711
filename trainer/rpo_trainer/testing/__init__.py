"""Helpers for tests and fixtures (no downloads)."""
