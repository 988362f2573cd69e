"""The conversation API: a case's contacts (listed, and recorded by the chat, phone and email
systems a centre already runs), a reply emailed to the customer (the case page's reply, as an
operation) and the inbound-mail endpoint that takes a raw message."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import IdField, Pagination, error_body, error_responses, paginated
from caseowner.idempotency import idempotent
from cases import selectors
from cases.api import PersonOut
from cases.conversations import selectors as conversation_selectors
from cases.conversations.inbound import InboundTooLarge, inbound_mail_receive
from cases.conversations.services import NewContact, contact_record, contact_reply_send
from cases.models import (
    CONTACT_BODY_MAX,
    CONTACT_EXTERNAL_ID_MAX,
    CONTACT_SUMMARY_MAX,
    Channel,
    ContactDirection,
)


class CaseContactOut(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=ContactDirection.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    at = serializers.DateTimeField()
    agent = PersonOut(allow_null=True, help_text="Who spoke for us; null for the customer.")
    summary = serializers.CharField()
    body = serializers.CharField()
    external_id = serializers.CharField()
    auto_submitted = serializers.BooleanField(
        help_text="An auto-reply or a bounce: recorded, changes nothing on the case."
    )
    created_at = serializers.DateTimeField()


class ContactIn(serializers.Serializer):
    direction = serializers.ChoiceField(choices=ContactDirection.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    at = serializers.DateTimeField(
        required=False, help_text="When it happened (default: now); at most a minute ahead."
    )
    agent = IdField(
        required=False,
        help_text="The agent who spoke (user id); default: the caller, for a contact to the "
        "customer.",
    )
    summary = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=f"≤ {CONTACT_SUMMARY_MAX} chars."
    )
    body = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=f"≤ {CONTACT_BODY_MAX} chars."
    )
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=f"Your system's id (≤ {CONTACT_EXTERNAL_ID_MAX} chars): the same id twice "
        "on a case is recorded once (201 the first time, then 200 with that first record).",
    )


class CaseContactsApi(APIView):
    @extend_schema(
        operation_id="cases_contacts_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={
            200: paginated(CaseContactOut, name="PaginatedContactList"),
            **error_responses(401, 404),
        },
    )
    def get(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            conversation_selectors.case_contacts(case=case), request, view=self
        )
        return paginator.get_paginated_response(CaseContactOut(page, many=True).data)

    @extend_schema(
        operation_id="cases_contacts_create",
        request=ContactIn,
        responses={
            201: OpenApiResponse(CaseContactOut, description="Recorded."),
            200: OpenApiResponse(
                CaseContactOut, description="This external id was recorded before: that record."
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        data = ContactIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        agent = None
        if "agent" in v:
            agent = selectors.user_by_id(
                v["agent"],
                field="agent",
                code="invalid_contact",
                message="The contact has invalid fields.",
            )
        recorded = contact_record(
            case=case,
            contact=NewContact(
                direction=v["direction"],
                channel=v["channel"],
                body=v["body"],
                summary=v["summary"],
                at=v.get("at"),
                agent=agent,
                external_id=v["external_id"],
            ),
            by=request.user,
        )
        contact = (
            conversation_selectors.case_contacts(case=case).filter(pk=recorded.contact.pk).get()
        )
        return Response(
            CaseContactOut(contact).data,
            status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK,
        )


class ReplyIn(serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"The reply in the writer's own words (≤ {CONTACT_BODY_MAX} chars).",
    )


class CaseRepliesApi(APIView):
    @extend_schema(
        operation_id="cases_replies_create",
        description="Email the customer a reply from the caller, as the case page's \"Reply to "
        'the customer" does (the same service, limits and refusals): it goes out from '
        '"<caller> via <organisation>" with a Reply-To that brings the customer\'s answer back '
        "to this case, and is recorded as a contact to the customer (201). Refusals: 400 "
        "``invalid_contact`` (blank or too long), 403 ``not_case_owner``, 409 "
        "``customer_has_no_email`` or ``recent_address_change``, 429 ``notice_limit_reached`` "
        "(nothing is recorded).",
        request=ReplyIn,
        responses={
            201: OpenApiResponse(CaseContactOut, description="Sent; the contact recorded."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        data = ReplyIn(data=request.data)
        data.is_valid(raise_exception=True)
        contact = contact_reply_send(case=case, by=request.user, body=data.validated_data["body"])
        row = conversation_selectors.case_contacts(case=case).filter(pk=contact.pk).get()
        return Response(CaseContactOut(row).data, status=status.HTTP_201_CREATED)


# --- inbound mail over HTTP ---------------------------------------------------------------


class _TooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The message is larger than this server accepts."
    default_code = "message_too_large"


class RawMessageParser(parsers.BaseParser):
    """The request body as bytes (``message/rfc822``), read no further than the size limit."""

    media_type = "message/rfc822"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.INBOUND_MAIL_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _TooLarge()
        return raw


class OctetStreamMessageParser(RawMessageParser):
    media_type = "application/octet-stream"


class InboundResultOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text="matched, unmatched (kept for staff) or attached")
    case = serializers.CharField(allow_null=True, help_text="The case reference, if matched.")
    automatic = serializers.BooleanField(help_text="An auto-reply or bounce: it changed nothing.")
    duplicate = serializers.BooleanField(
        help_text="This message (same Message-ID, same content) was stored before."
    )


def _error(code: str, message: str, http_status: int) -> Response:
    return Response(error_body(code, message), status=http_status)


class InboundEmailApi(APIView):
    """Raw RFC 5322 from an inbound-mail service, with the shared secret."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    parser_classes = [RawMessageParser, OctetStreamMessageParser]

    @extend_schema(
        operation_id="inbound_email_create",
        description="Deliver one raw email (``Content-Type: message/rfc822``) with "
        "``Authorization: Bearer <INBOUND_MAIL_SECRET>``. A 2xx means the message is stored: "
        "201 the first time, 200 for the same message (Message-ID and content) stored before "
        "(retries are safe; a different message reusing a Message-ID is stored anew). "
        "Oversize: 413; the limit is INBOUND_MAIL_MAX_BYTES. A message that cannot be read "
        "(e.g. MIME parts nested too deep): 422 ``message_unreadable``; it is kept for staff, "
        "and a retry gets the same answer.",
        request={"message/rfc822": OpenApiTypes.BINARY},
        responses={
            201: InboundResultOut,
            200: InboundResultOut,
            **error_responses(400, 401, 403),
            413: error_responses(400)[400],
            422: error_responses(400)[400],
        },
        examples=[
            OpenApiExample(
                "stored",
                value={
                    "id": 7,
                    "status": "matched",
                    "case": "CASE-000123",
                    "automatic": False,
                    "duplicate": False,
                },
                response_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        secret = settings.INBOUND_MAIL_SECRET
        if not secret:
            return _error("inbound_disabled", "Inbound mail over HTTP is not configured.", 403)
        given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return _error("authentication_failed", "Wrong or missing inbound secret.", 401)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.INBOUND_MAIL_MAX_BYTES:
            return _error("message_too_large", _TooLarge.default_detail, 413)
        try:
            raw = request.data if isinstance(request.data, bytes) else b""
        except _TooLarge:
            return _error("message_too_large", _TooLarge.default_detail, 413)
        try:
            received = inbound_mail_receive(raw=raw, via="http")
        except InboundTooLarge:
            return _error("message_too_large", _TooLarge.default_detail, 413)
        message = received.message
        body = {
            "id": message.pk,
            "status": message.status,
            "case": message.case.ref if message.case_id and message.case else None,
            "automatic": message.is_auto,
            "duplicate": received.duplicate,
        }
        return Response(body, status=200 if received.duplicate else 201)
