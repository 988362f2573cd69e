"""``/dev/mail/``: the development mailbox, every email the demo (or a development server)
sent, newest first, each with its text and HTML parts as the customer's mail client shows
them and its attachments (the .ics of a promise). Mounted only while the demo app is
installed (DEBUG on) and refused with production settings."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from demo.models import DevMail

PAGE_SIZE = 50
# The headers a reader checks: who it is from, where a reply goes, the thread.
SHOWN_HEADERS = (
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
)


@dataclass(frozen=True)
class Attachment:
    number: int
    filename: str
    content_type: str
    content: bytes

    @property
    def text(self) -> str:
        """The content to read on the page (a calendar entry), or empty for binary parts."""
        if not self.content_type.startswith("text/"):
            return ""
        return self.content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class ReadMail:
    headers: list[tuple[str, str]]
    text: str
    html: str | None
    attachments: list[Attachment]


def _development_only() -> None:
    if settings.PRODUCTION:
        raise Http404("The development mailbox exists only in development.")


def read_mail(raw: str) -> ReadMail:
    """The parts of a stored message as a mail client shows them."""
    message = email.message_from_string(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        payload = part.get_payload(decode=True)
        attachments.append(
            Attachment(
                number=number,
                filename=part.get_filename() or f"attachment-{number}",
                content_type=part.get_content_type(),
                content=payload if isinstance(payload, bytes) else b"",
            )
        )
    return ReadMail(
        headers=[(name, str(message[name])) for name in SHOWN_HEADERS if message[name]],
        text=str(text_part.get_content()) if text_part is not None else "",
        html=str(html_part.get_content()) if html_part is not None else None,
        attachments=attachments,
    )


@require_safe
def mail_list(request: HttpRequest) -> HttpResponse:
    _development_only()
    mails = DevMail.objects.only("id", "to", "subject", "sent_at").order_by("-sent_at", "-id")
    page_obj = Paginator(mails, PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page_obj": page_obj, "total": page_obj.paginator.count}
    return render(request, "demo/mail_list.html", context)


@require_safe
def mail_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _development_only()
    mail = get_object_or_404(DevMail, pk=pk)
    return render(request, "demo/mail_detail.html", {"mail": mail, "read": read_mail(mail.raw)})


@require_safe
@xframe_options_sameorigin
# (django-csp types its decorators for views that take the request alone)
@csp_replace({"frame-ancestors": ["'self'"]})  # type: ignore[arg-type]
def mail_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part alone, framed by the detail page (same origin only)."""
    _development_only()
    html = read_mail(get_object_or_404(DevMail, pk=pk).raw).html
    if html is None:
        raise Http404("This email has no HTML part.")
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@require_safe
def mail_attachment(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    _development_only()
    attachments = read_mail(get_object_or_404(DevMail, pk=pk).raw).attachments
    found = next((a for a in attachments if a.number == number), None)
    if found is None:
        raise Http404("No such attachment.")
    response = HttpResponse(found.content, content_type=found.content_type)
    response["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return response
