"""The London team of the commitments tests (with its agent and manager) for the settings
page's tests."""

from tests.commitments.conftest import agent, manager, open_case, team  # noqa: F401
