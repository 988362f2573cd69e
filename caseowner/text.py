"""Free text from people: the one rule for what a name, a subject or a note may contain.

A name or a subject goes into email headers, CSV cells and page titles, so it is one line:
no control character at all (CR and LF would break a header; the line and paragraph
separators U+2028/U+2029 break it for some readers). Longer text (a description, a note, a
hand-off summary, a reason) keeps its line breaks and tabs and refuses every other control
character. Every free-text field has a length limit; the limits live here so the models, the
serializers (and so the schema), the forms and the services agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from caseowner.errors import RuleError

# Lengths in characters.
NAME_MAX = 200  # a customer's name, how they are addressed
SUBJECT_MAX = 200  # a case's subject
DESCRIPTION_MAX = 20_000  # a case's description
NOTE_MAX = 10_000  # an internal note
SUMMARY_MAX = 4_000  # each field of a hand-off summary
REASON_MAX = 1_000  # a reason, a comment, a promise in the customer's words

# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, less tab, LF and CR.
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")

SINGLE_LINE_MESSAGE = "Control characters (such as line breaks or tabs) are not allowed here."
MULTI_LINE_MESSAGE = "Control characters other than line breaks and tabs are not allowed."


def text_problem(value: str, *, max_length: int, multiline: bool = False) -> str | None:
    """Why this text is refused, or None when it is acceptable."""
    pattern = _MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD
    if pattern.search(value):
        return MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE
    if len(value) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    return None


def require_clean_text(fields: Mapping[str, tuple[str, int, bool]]) -> None:
    """``{field: (value, max_length, multiline)}``: raise ``invalid_input`` naming every field
    whose text is refused. Services call it at their door, so every caller gets the rule."""
    errors = {
        name: [problem]
        for name, (value, max_length, multiline) in fields.items()
        if (problem := text_problem(value or "", max_length=max_length, multiline=multiline))
    }
    if errors:
        raise RuleError("invalid_input", "The request has invalid fields.", fields=errors)


@deconstructible
class NoControlCharacters:
    """A field validator (models, forms, serializers) for the same rule."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: str) -> None:
        pattern = _MULTI_LINE_BAD if self.multiline else _SINGLE_LINE_BAD
        if isinstance(value, str) and pattern.search(value):
            message = MULTI_LINE_MESSAGE if self.multiline else SINGLE_LINE_MESSAGE
            raise ValidationError(message, code="control_characters")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoControlCharacters) and other.multiline == self.multiline

    def __hash__(self) -> int:
        return hash(("NoControlCharacters", self.multiline))


single_line = NoControlCharacters()
multi_line = NoControlCharacters(multiline=True)
