from caseowner.errors import NotFoundError, RuleError


class ReportRuleError(RuleError):
    """A report refused the request (not a manager, a period it cannot show …)."""


__all__ = ["NotFoundError", "ReportRuleError"]
