"""The recorded event streams in test/fixtures/events (used by the extension's parser tests)
still match events.schema.json. Re-record: python -m rpo_trainer.testing.record_events test/fixtures/events"""

from pathlib import Path

import pytest

from conftest import parse_events

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "test" / "fixtures" / "events").glob("*.events.jsonl"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_validates(path):
    events = parse_events(path.read_text("utf-8"))
    assert events[-1]["type"] == "end"


def test_fixtures_cover_every_end_status():
    statuses = {parse_events(p.read_text("utf-8"))[-1]["status"] for p in FIXTURES}
    assert statuses == {"completed", "stopped", "failed"}
