from caseowner.errors import NotFoundError, RuleError


class CommitmentRuleError(RuleError):
    """A commitment rule refused the request (a promise already ended, no due time …)."""


__all__ = ["CommitmentRuleError", "NotFoundError"]
