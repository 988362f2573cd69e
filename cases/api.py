"""The case API: thin views that call services and selectors, nested in/out serializers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner import text
from caseowner.api import (
    MAX_ID,
    IdField,
    NewestFirstCursor,
    cursor_paginated,
    error_responses,
)
from caseowner.errors import NotFoundError
from caseowner.idempotency import idempotent
from caseowner.preconditions import ETAG_PARAMETER, IF_MATCH, IF_MATCH_PARAMETER, with_etag
from cases import detail_reads, hooks, intake, payloads, selectors, services
from cases.customers.links import customer_url
from cases.models import Case, CaseStatus, Channel, ClosedAs, Customer, Priority, Title
from cases.recipients import display_name


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return display_name(user)


class CustomerOut(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name")
    phone = serializers.CharField(help_text="E.164, e.g. +447700900021.")
    phone_national = serializers.CharField(help_text="As the customer's country writes it.")

    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "given_name",
            "family_name",
            "title",
            "addressed_as",
            "email",
            "phone",
            "phone_national",
            "time_zone",
            "language",
        ]


class CustomerMatchOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    phone_national = serializers.CharField()
    matched_on = serializers.ChoiceField(choices=["email", "phone"])


# The 409 of intake: the error shape plus the record on file.
CustomerExistsOut = inline_serializer(
    name="CustomerExists",
    fields={
        "code": serializers.CharField(help_text="customer_exists"),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        "match": CustomerMatchOut(help_text="The customer already on file."),
    },
)


class TeamOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CaseOut(serializers.ModelSerializer):
    ref = serializers.CharField(read_only=True)
    customer = CustomerOut()
    team = TeamOut()
    owner = PersonOut()

    class Meta:
        model = Case
        fields = [
            "ref",
            "status",
            "priority",
            "channel",
            "subject",
            "customer",
            "team",
            "owner",
            "owner_since",
            "owner_count",
            "next_due_at",
            "created_at",
            "updated_at",
            "closed_at",
        ]


class EventOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = PersonOut(
        allow_null=True,
        help_text="Who did it (null: the product). A cover acting for the away owner is the "
        "actor, with the owner in `data.on_behalf_of` (user id) and `data.on_behalf_of_name`.",
    )
    data = serializers.JSONField()  # type: ignore[assignment]  # the event's field, not .data


class HandoffBriefOut(serializers.Serializer):
    id = serializers.IntegerField()
    from_agent = PersonOut()
    to_agent = PersonOut()
    status = serializers.CharField()
    reason = serializers.CharField()
    offered_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class HistoryOut(serializers.Serializer):
    """An earlier case of the customer. Its owner is given only for the reader's own teams'
    cases; another team's case (seen with ``CUSTOMER_VISIBILITY=organisation``) shows what it
    was about, not who works it."""

    ref = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    owner = PersonOut(allow_null=True, help_text="Null for another team's case.")

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if instance.team_id not in self.context.get("team_ids", set()):
            data["owner"] = None
        return data


class CaseDetailOut(CaseOut):
    description = serializers.CharField()

    class Meta(CaseOut.Meta):
        fields = [*CaseOut.Meta.fields, "description"]


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, normalised to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value: Any) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError("Out of range.", code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class CaseFilter(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id", min_value=1, max_value=MAX_ID)
    team = django_filters.NumberFilter(field_name="team_id", min_value=1, max_value=MAX_ID)
    customer = django_filters.NumberFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    # The case's own column (no join can repeat a row): without DISTINCT, which sorted every
    # match on all its columns before the page could be taken.
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices, distinct=False)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    due_before = UtcDateTimeFilter(field_name="next_due_at", lookup_expr="lt")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Case
        fields: list[str] = []


class NewCustomerIn(serializers.Serializer):
    # Blank is "not given" (the default), so a client that sends every field with its
    # schema default, as generated clients do, is not refused for it.
    name = serializers.CharField(
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        required=False,
        default="",
        allow_blank=True,
        help_text="The whole name as the customer writes it; or give the parts.",
    )
    given_name = serializers.CharField(
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        required=False,
        default="",
        allow_blank=True,
    )
    family_name = serializers.CharField(
        max_length=text.NAME_MAX,
        validators=[text.single_line],
        required=False,
        default="",
        allow_blank=True,
        help_text='As given ("van der Berg", "Wang"): a title is used with it, never alone.',
    )
    title = serializers.ChoiceField(choices=Title.choices, required=False, default="")
    addressed_as = serializers.CharField(
        max_length=text.NAME_MAX,
        required=False,
        default="",
        allow_blank=True,
        validators=[text.single_line],
    )
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, default="", allow_blank=True, validators=[text.single_line]
    )
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    time_zone = serializers.CharField(max_length=64, required=False, default="UTC")
    language = serializers.CharField(max_length=16, required=False, default="en")
    different_person = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true: create a new record although a customer with this email or phone "
        "exists (otherwise 409 customer_exists with the match).",
    )

    def validate_time_zone(self, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError("Unknown time zone.") from None
        return value


class CaseCreateIn(serializers.Serializer):
    customer = IdField(required=False, help_text="An existing customer's id; or give new_customer.")
    new_customer = NewCustomerIn(required=False)
    team = IdField(
        required=False, help_text="Defaults to the caller's team when they have exactly one."
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    subject = serializers.CharField(max_length=text.SUBJECT_MAX, validators=[text.single_line])
    description = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=text.DESCRIPTION_MAX,
        validators=[text.multi_line],
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    owner = IdField(
        required=False, help_text="The owner's user id; omitted: the team's assignment rule."
    )

    def validate(self, attrs: dict) -> dict:
        if ("customer" in attrs) == ("new_customer" in attrs):
            raise serializers.ValidationError(
                {"customer": ["Give exactly one of customer (an id) or new_customer."]}
            )
        return attrs


class CasePatchIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    reason = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=text.REASON_MAX,
        validators=[text.multi_line],
    )
    closed_as = serializers.ChoiceField(
        choices=ClosedAs.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="With a resolved or closed status: spam or duplicate (its customer is asked "
        "nothing).",
    )

    def validate(self, attrs: dict) -> dict:
        if "status" not in attrs and "priority" not in attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Give a status or a priority to change."]}
            )
        return attrs


class NoteIn(serializers.Serializer):
    text = serializers.CharField(max_length=text.NOTE_MAX, validators=[text.multi_line])


# The API's detail shows the newest events of the timeline; the case page pages through them.
API_TIMELINE_EVENTS = detail_reads.API_TIMELINE_EVENTS


def case_detail_payload(*, case: Case, user: Any) -> dict:
    """The case, its newest timeline events, hand-offs and the customer's earlier cases
    (``selectors.case_detail``), and what later apps add; a fixed number of queries."""
    # Statements written once and plain functions (``cases.detail_reads``, ``cases.payloads``);
    # ``EventOut``, ``HandoffBriefOut`` and ``HistoryOut`` document the same shapes, and a test
    # holds the two equal.
    data = payloads.case_detail_of(case)
    data["timeline"] = detail_reads.timeline(case)
    data["handoffs"] = detail_reads.handoffs(case)
    history = detail_reads.history_rows(case, user)
    team_ids = selectors.history_team_ids(
        user=user, history_team_ids={row["team_id"] for row in history}
    )
    data["customer_history"] = payloads.history_payload(history, team_ids)
    data.update(hooks.collect_detail_extras(case, user))
    return data


class CaseListApi(APIView):
    @extend_schema(
        operation_id="cases_list",
        parameters=[
            OpenApiParameter("owner", int, description="Owner's user id"),
            OpenApiParameter("team", int),
            OpenApiParameter("customer", int),
            OpenApiParameter("status", str, many=True, enum=CaseStatus.values, explode=True),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("priority", str, enum=Priority.values),
            OpenApiParameter("due_before", OpenApiTypes.DATETIME, description="next_due_at <"),
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "cursor", str, description="Opaque: from the next or previous link of a page."
            ),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: cursor_paginated(CaseOut, name="PaginatedCaseList"),
            **error_responses(400, 401),
        },
        description="Newest first. Page with the ``next`` and ``previous`` links; a cursor this "
        "list did not give answers 400 ``invalid_cursor``.",
    )
    def get(self, request: Request) -> Response:
        filterset = CaseFilter(
            request.query_params, queryset=selectors.case_list(user=request.user)
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        paginator = NewestFirstCursor()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        return paginator.get_paginated_response(CaseOut(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        request=CaseCreateIn,
        responses={201: CaseDetailOut, 409: CustomerExistsOut, **error_responses(400, 401, 403)},
        description="A new customer whose email or phone is already on file answers 409 "
        "``customer_exists`` with the match, unless ``new_customer.different_person`` is true. "
        "A phone number that cannot be read answers 400 ``invalid_phone``.",
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = CaseCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        new = v.get("new_customer")
        case = intake.case_intake(
            intake=intake.CaseIntake(
                channel=v["channel"],
                subject=v["subject"],
                customer_id=v.get("customer"),
                new_customer=intake.NewCustomer(full_name=new.pop("name", ""), **new)
                if new is not None
                else None,
                team_id=v.get("team"),
                owner_id=v.get("owner"),
                description=v["description"],
                priority=v["priority"],
            ),
            by=request.user,
        )
        case = selectors.case_get(user=request.user, ref=case.ref)
        return Response(case_detail_payload(case=case, user=request.user), status=201)


class CaseDetailApi(APIView):
    @extend_schema(
        operation_id="cases_retrieve",
        parameters=[ETAG_PARAMETER],
        responses={200: CaseDetailOut, **error_responses(401, 404)},
    )
    def get(self, request: Request, ref: str) -> Response:
        case = detail_reads.case_get(user=request.user, ref=ref)
        return with_etag(Response(case_detail_payload(case=case, user=request.user)), case)

    @extend_schema(
        operation_id="cases_partial_update",
        parameters=[IF_MATCH_PARAMETER, ETAG_PARAMETER],
        request=CasePatchIn,
        responses={200: CaseDetailOut, **error_responses(400, 401, 403, 404, 409, 412)},
        description="Errors: `open_commitments` (409) when resolving or closing a case that "
        "still has open promises; `reopen_reason_required` (400); with ``If-Match`` (the ETag "
        "of your last read), `precondition_failed` (412) when the case changed since.",
    )
    def patch(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        data = CasePatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_update(
            case=case,
            by=request.user,
            status=data.validated_data.get("status"),
            priority=data.validated_data.get("priority"),
            reason=data.validated_data["reason"],
            closed_as=data.validated_data["closed_as"],
            if_match=request.headers.get(IF_MATCH),
        )
        case = selectors.case_get(user=request.user, ref=ref)
        return with_etag(Response(case_detail_payload(case=case, user=request.user)), case)


class CaseNoteApi(APIView):
    @extend_schema(
        operation_id="cases_notes_create",
        request=NoteIn,
        responses={201: EventOut, **error_responses(400, 401, 403, 404)},
    )
    @idempotent
    def post(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.case_add_note(case=case, by=request.user, text=data.validated_data["text"])
        return Response(EventOut(event).data, status=status.HTTP_201_CREATED)


class CustomerLinkOut(serializers.Serializer):
    generation = serializers.IntegerField(help_text="Links of earlier generations no longer open.")
    url = serializers.URLField(help_text="A new link for the customer, of this generation.")


class CustomerLinkRevokeApi(APIView):
    @extend_schema(
        operation_id="cases_customer_link_revoke",
        request=None,
        responses={200: CustomerLinkOut, **error_responses(401, 403, 404, 429)},
        description="The case's owner or a manager of its team revokes every customer link "
        "sent so far (`not_case_owner`, 403, for anyone else).",
    )
    def post(self, request: Request, ref: str) -> Response:
        case = selectors.case_get(user=request.user, ref=ref)
        case = services.customer_links_revoke(case=case, by=request.user)
        url = customer_url(case_id=case.pk, generation=case.link_generation)
        return Response({"generation": case.link_generation, "url": url})


__all__ = [
    "CaseDetailApi",
    "CaseListApi",
    "CaseNoteApi",
    "CustomerLinkRevokeApi",
    "NotFoundError",
]
