from caseowner.errors import NotFoundError, RuleError


class CaseRuleError(RuleError):
    """A case, hand-off or permission rule refused the request."""


__all__ = ["CaseRuleError", "NotFoundError"]
