"""Every email a service queues has its templates, and the acknowledgement reads right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from notifications.rendering import render_email

ROOT = Path(settings.BASE_DIR)
TEMPLATE_ARG = re.compile(r'template="([a-z_]+/email/[a-z_]+)"')


def _referenced_templates() -> set[str]:
    names: set[str] = set()
    for app in ("cases", "commitments", "notifications"):
        for path in (ROOT / app).rglob("*.py"):
            names.update(TEMPLATE_ARG.findall(path.read_text()))
    return names


def test_the_services_reference_email_templates():
    assert "cases/email/case_opened" in _referenced_templates()


@pytest.mark.parametrize("name", sorted(_referenced_templates()))
def test_each_referenced_email_has_a_subject_and_a_text_body(name):
    for suffix in (".subject.txt", ".txt"):
        assert (ROOT / "templates" / f"{name}{suffix}").is_file(), f"{name}{suffix} is missing"


def test_the_acknowledgement_names_the_owner_and_their_direct_contacts():
    email = render_email(
        template="cases/email/case_opened",
        context={
            "case_ref": "CASE-000042",
            "case_subject": "Charged twice",
            "customer_name": "Mrs Okafor",
            "owner": {
                "name": "Amelia Hart",
                "job_title": "Senior Billing Specialist",
                "email": "amelia.direct@example.com",
                "phone": "+44 20 7946 0123",
                "working_hours": "Mon–Fri 08:00–18:00",
            },
            "customer_url": "https://support.example.com/c/token/",
        },
        recipient_name="Margaret Okafor",
    )
    assert email.subject == "[CASE-000042] Your request: Charged twice"
    assert email.text.startswith("Dear Mrs Okafor,")
    for fact in ("Amelia Hart", "amelia.direct@example.com", "+44 20 7946 0123", "/c/token/"):
        assert fact in email.text
        assert fact in email.html
