"""What the reports tests share: the history of a team over two weeks (``history.build``),
and the London team of the commitments tests (with its agent and manager)."""

from collections.abc import Iterator

import pytest
import time_machine

from tests.commitments.conftest import agent, manager, open_case, team  # noqa: F401
from tests.reports import history


@pytest.fixture
def world(db) -> Iterator[dict]:
    """Billing's two weeks up to ``history.NOW``; the clock stays there for the test."""
    with time_machine.travel(history.NOW, tick=False):
        yield history.build()
