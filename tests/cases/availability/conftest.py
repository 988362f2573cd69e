"""Fixtures for availability: the London team on English bank holidays, its agent and
manager, and opening a case through the service, as the promises' tests have them."""

from tests.commitments.conftest import agent, manager, open_case, team

__all__ = ["agent", "manager", "open_case", "team"]
