"""Every stored fuzz example (``tests/fuzz_examples/*.json``) is replayed on every run: a
failure that fuzzing found once stays fixed. Each answers without a server error, in the
API's error shape when refused, and with its recorded status where the example names one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.fuzzing import build_world, replay, stored_examples

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", stored_examples(), ids=lambda p: p.stem)
def test_a_stored_example_is_answered_without_a_server_error(path: Path):
    example = json.loads(path.read_text())
    cache.clear()  # throttle counters
    response = replay(example, build_world(example["role"]))
    assert response.status_code < 500, (path.name, response.status_code, response.content[:500])
    if response.status_code >= 400 and example["path"].startswith("/api/"):
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"], body
        assert isinstance(body.get("message"), str) and body["message"], body
    if "expect_status" in example:
        assert response.status_code == example["expect_status"], response.content[:500]


def test_the_stored_examples_are_there():
    """The directory is read, not silently empty (a moved folder would replay nothing)."""
    assert stored_examples(), "no stored fuzz examples found under tests/fuzz_examples/"
