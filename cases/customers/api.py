"""Staff search and customer records over the API: ``search/``, ``customers/`` (list with
filters, detail, correction) and ``customers/{id}/merge/`` and ``unmerge/``. Thin: the reads
are ``cases.customers.search`` and ``cases.customers.selectors``, the writes
``cases.customers.services``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caseowner.api import IdField, Pagination, error_responses, paginated
from caseowner.idempotency import idempotent
from caseowner.parsing import SEARCH_MAX
from caseowner.preconditions import ETAG_PARAMETER, IF_MATCH, IF_MATCH_PARAMETER, with_etag
from cases.api import PersonOut
from cases.customers import selectors as customer_selectors
from cases.customers import services as customer_services
from cases.customers.phones import search_e164
from cases.customers.search import SearchResults, search
from cases.customers.services import CustomerChanges, customer_unmerge_until
from cases.models import Case, Channel, Customer, CustomerMerge, Title
from cases.permissions import phone_region_for


class CaseBriefOut(serializers.Serializer):
    ref = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    owner = PersonOut()
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="The next open promise's due time."
    )


class CustomerNameOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="full_name")


class CaseHitOut(serializers.Serializer):
    ref = serializers.CharField(source="case.ref")
    subject = serializers.CharField(source="case.subject")
    status = serializers.CharField(source="case.status")
    owner = PersonOut(source="case.owner")
    next_due_at = serializers.DateTimeField(source="case.next_due_at", allow_null=True)
    customer = CustomerNameOut(source="case.customer")
    match = serializers.ChoiceField(choices=["ref", "subject"])


class CustomerHitOut(serializers.Serializer):
    id = serializers.IntegerField(source="customer.pk")
    name = serializers.CharField(source="customer.full_name")
    email = serializers.CharField(source="customer.email")
    phone = serializers.CharField(source="customer.phone", help_text="E.164.")
    phone_national = serializers.CharField(source="customer.phone_national")
    match = serializers.ChoiceField(choices=["email", "phone", "name"])
    open_cases = CaseBriefOut(many=True)


class BestOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["case", "customer"])
    ref = serializers.CharField(required=False)
    id = serializers.IntegerField(required=False)


class SearchOut(serializers.Serializer):
    query = serializers.CharField()
    best = BestOut(allow_null=True)
    customers = CustomerHitOut(many=True)
    cases = CaseHitOut(many=True)


def search_payload(results: SearchResults) -> dict[str, Any]:
    best = results.best
    best_out: dict[str, Any] | None = None
    if best is not None and hasattr(best, "case"):
        best_out = {"type": "case", "ref": best.case.ref}
    elif best is not None:
        best_out = {"type": "customer", "id": best.customer.pk}
    return {
        "query": results.query,
        "best": best_out,
        "customers": CustomerHitOut(results.customers, many=True).data,
        "cases": CaseHitOut(results.cases, many=True).data,
    }


class SearchApi(APIView):
    @extend_schema(
        operation_id="search",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description="A case reference (with or without CASE-), a name (any accents or "
                "case, partial, a letter wrong), an email, a phone number in any format, or "
                "words of a case's subject. At most 200 characters, no control characters "
                "(400 invalid_input otherwise).",
            )
        ],
        responses={200: SearchOut, **error_responses(400, 401)},
        description="Customers (with their open cases) and cases the caller may see, best "
        "first: an exact reference, email or phone, then the closest names.",
    )
    def get(self, request: Request) -> Response:
        return Response(search_payload(search(user=request.user, query=request.GET.get("q", ""))))


# --- customer records ------------------------------------------------------------------------


class CustomerRecordOut(serializers.ModelSerializer):
    name = serializers.CharField(source="full_name")
    phone = serializers.CharField(help_text="E.164, e.g. +447700900021.")
    phone_national = serializers.CharField(help_text="As the customer's country writes it.")
    merged_into = serializers.IntegerField(
        source="merged_into_id",
        allow_null=True,
        help_text="Set on a record merged into another: read that one instead.",
    )

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
            "preferred_channel",
            "time_zone",
            "language",
            "created_at",
            "merged_into",
        ]


class MergeOut(serializers.Serializer):
    id = serializers.IntegerField()
    survivor = serializers.IntegerField(source="survivor_id")
    merged = serializers.IntegerField(source="merged_id")
    at = serializers.DateTimeField()
    undo_until = serializers.SerializerMethodField()
    cases = serializers.SerializerMethodField(help_text="References of the cases moved.")
    undone_at = serializers.DateTimeField(allow_null=True)

    def get_undo_until(self, merge: CustomerMerge) -> Any:
        return serializers.DateTimeField().to_representation(customer_unmerge_until(merge))

    def get_cases(self, merge: CustomerMerge) -> list[str]:
        from cases.models import format_ref

        return [format_ref(pk) for pk in merge.case_ids]


class CustomerDetailOut(CustomerRecordOut):
    cases = CaseBriefOut(many=True, help_text="Open cases first, then newest.")
    merges_in = MergeOut(many=True, help_text="Merges into this record that can be undone.")

    class Meta(CustomerRecordOut.Meta):
        fields = [*CustomerRecordOut.Meta.fields, "cases", "merges_in"]


class CustomerPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    given_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    family_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="As given: a title is used with it, never alone. A blank name is made "
        "from the parts.",
    )
    title = serializers.ChoiceField(choices=Title.choices, required=False)
    addressed_as = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any format."
    )
    preferred_channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    time_zone = serializers.CharField(max_length=64, required=False)
    language = serializers.CharField(max_length=16, required=False)


class MergeIn(serializers.Serializer):
    other = IdField(help_text="The record to merge into this one (it becomes a tombstone).")


class CustomerFilter(django_filters.FilterSet):
    # bounded like the search box: a pattern of 40,000 characters is no name (and past
    # SQLite's LIKE limit)
    name = django_filters.CharFilter(
        field_name="full_name", lookup_expr="icontains", max_length=SEARCH_MAX
    )
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact", max_length=254)
    phone = django_filters.CharFilter(method="filter_phone", max_length=SEARCH_MAX)
    merged = django_filters.BooleanFilter(method="filter_merged")

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_phone(self, qs: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        e164 = search_e164(value, phone_region_for(self.request.user) if self.request else None)
        return qs.filter(phone=e164) if e164 else qs.none()

    def filter_merged(self, qs: QuerySet[Customer], name: str, value: bool) -> QuerySet[Customer]:
        return qs.filter(merged_into__isnull=not value)


def _detail(request: Request, customer: Customer) -> dict[str, Any]:
    record = customer_selectors.customer_record(user=request.user, customer=customer)
    data = dict(CustomerRecordOut(customer).data)
    data["cases"] = CaseBriefOut(record.cases, many=True).data
    data["merges_in"] = MergeOut(record.merges_in, many=True).data
    return data


class CustomerListApi(APIView):
    @extend_schema(
        operation_id="customers_list",
        parameters=[
            OpenApiParameter("name", str, description="Part of the full name, any case."),
            OpenApiParameter("email", str, description="The exact email, any case."),
            OpenApiParameter("phone", str, description="A phone number in any format."),
            OpenApiParameter(
                "merged", bool, description="true: only tombstones; false: only live records."
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={
            200: paginated(CustomerRecordOut, name="PaginatedCustomerList"),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        filterset = CustomerFilter(
            request.query_params,
            queryset=customer_selectors.customer_list(user=request.user),
            request=request,
        )
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        paginator = Pagination()
        page = paginator.paginate_queryset(filterset.qs, request, view=self)
        return paginator.get_paginated_response(CustomerRecordOut(page, many=True).data)


class CustomerDetailApi(APIView):
    @extend_schema(
        operation_id="customers_retrieve",
        parameters=[ETAG_PARAMETER],
        responses={200: CustomerDetailOut, **error_responses(401, 404)},
        description="A merged record answers with ``merged_into`` set: read that one.",
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = customer_selectors.customer_get(user=request.user, pk=customer_id)
        return with_etag(Response(_detail(request, customer)), customer)

    @extend_schema(
        operation_id="customers_partial_update",
        parameters=[IF_MATCH_PARAMETER, ETAG_PARAMETER],
        request=CustomerPatchIn,
        responses={200: CustomerDetailOut, **error_responses(400, 401, 403, 404, 409, 412)},
        description="Correct the customer's details (agents of a team with a case of theirs). "
        "Each change is recorded, before → after, on the timeline of their open cases. "
        "A phone number that cannot be read answers 400 ``invalid_phone``. A changed email "
        "address is told to the old one, a notice that counts against the caller's daily "
        "limits (429 ``notice_limit_reached``: nothing changes). With ``If-Match`` (the "
        "ETag of your last read) a record changed since answers 412 ``precondition_failed``.",
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        customer = customer_selectors.customer_get(user=request.user, pk=customer_id)
        data = CustomerPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        if "name" in v:
            v["full_name"] = v.pop("name")
        customer = customer_services.customer_update(
            customer=customer,
            by=request.user,
            changes=CustomerChanges(**v),
            if_match=request.headers.get(IF_MATCH),
        )
        return with_etag(Response(_detail(request, customer)), customer)


class CustomerMergeApi(APIView):
    @extend_schema(
        operation_id="customers_merge",
        request=MergeIn,
        responses={201: MergeOut, **error_responses(400, 401, 403, 404, 409)},
        description="A manager merges ``other`` into this record: its cases move here in one "
        "transaction, ``other`` stays as a tombstone pointing here. Undo with "
        "``customers/{other}/unmerge/`` within 30 days.",
    )
    @idempotent
    def post(self, request: Request, customer_id: int) -> Response:
        survivor = customer_selectors.customer_get(user=request.user, pk=customer_id)
        data = MergeIn(data=request.data)
        data.is_valid(raise_exception=True)
        other = customer_selectors.customer_get(user=request.user, pk=data.validated_data["other"])
        merge = customer_services.customer_merge(survivor=survivor, merged=other, by=request.user)
        return Response(MergeOut(merge).data, status=status.HTTP_201_CREATED)


class CustomerUnmergeApi(APIView):
    @extend_schema(
        operation_id="customers_unmerge",
        request=None,
        responses={200: MergeOut, **error_responses(401, 403, 404, 409)},
        description="A manager undoes the merge of this (tombstone) record: exactly the cases "
        "it moved come back.",
    )
    def post(self, request: Request, customer_id: int) -> Response:
        merged = customer_selectors.customer_get(user=request.user, pk=customer_id)
        merge = customer_services.customer_unmerge(merged=merged, by=request.user)
        return Response(MergeOut(merge).data)


__all__ = [
    "Case",
    "CustomerDetailApi",
    "CustomerListApi",
    "CustomerMergeApi",
    "CustomerUnmergeApi",
    "SearchApi",
]
