"""Types every app shares.

``User`` is the configured user model (``AUTH_USER_MODEL``, Django's ``User`` with the
agent's profile beside it). Services and selectors annotate people with it; it is ``Any`` to
the type checker, so a function taking a person accepts whatever user model the project is
configured with, and one alias says so everywhere instead of a copy in every module.
"""

from typing import Any

User = Any
