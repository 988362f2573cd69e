"""One search box for staff: cases and customers by reference, name, email, phone or the
words of a subject, limited to what the reader may see, in at most three queries (the
reader's teams, customers, cases).

What the text looks like decides what is asked: a reference ("CASE-000123", "123"), an email
(exact, any case), a phone number (any format, compared in E.164), otherwise a name and the
words of subjects. PostgreSQL finds name candidates through the GIN trigram index on the
folded name (``%>``: word similarity) and subjects through the full-text index; SQLite calls
the same functions in Python (``cases.search_text``). The order is decided in Python on both:
exact reference, email or phone first, then the closest name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from cases.models import OPEN_STATUSES, REF_PREFIX, Customer, parse_ref
from cases.models import Case as CaseRow
from cases.permissions import phone_region_for, visible_cases, visible_customers
from cases.phones import search_e164
from cases.search_text import WORD_SIMILARITY_THRESHOLD, fold, name_score, words

# Customers and cases shown at most; name candidates read from the database before ranking.
RESULT_LIMIT = 10
NAME_CANDIDATES = 50
OPEN_CASES_PER_CUSTOMER = 5
MAX_QUERY_LENGTH = 200


class Fold(Func):
    """``caseowner_fold(text)``: lower case, no accents (migration 0006; SQLite: Python)."""

    function = "caseowner_fold"
    output_field = CharField()


class NameSimilar(Func):
    """``query <% folded name``: the name is word-similar to the query (``pg_trgm``, served by
    ``customer_name_trgm``; the threshold is set on each connection by ``search_text``)."""

    output_field = BooleanField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" <%% ", **extra
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = self.as_sql(
            compiler, connection, function="caseowner_word_similarity", **extra
        )
        return f"({sql} >= {WORD_SIMILARITY_THRESHOLD})", params


class NameSimilarity(Func):
    """``word_similarity(query, folded name)``, for ordering the candidates."""

    output_field = FloatField()
    function = "word_similarity"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="caseowner_word_similarity", **extra)


class SubjectMatches(Func):
    """Every word of the query is a word of the subject (full-text, ``case_subject_fts``)."""

    output_field = BooleanField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(to_tsvector('simple'::regconfig, %(expressions)s))",
            arg_joiner=") @@ plainto_tsquery('simple'::regconfig, ",
            **extra,
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = self.as_sql(compiler, connection, function="caseowner_words_match", **extra)
        return f"({sql} = 1)", params


@dataclass(frozen=True)
class CustomerHit:
    customer: Customer
    # "email", "phone" or "name": why it was found.
    match: str
    score: float
    open_cases: list[CaseRow] = field(default_factory=list)


@dataclass(frozen=True)
class CaseHit:
    case: CaseRow
    # "ref" or "subject".
    match: str


@dataclass(frozen=True)
class SearchResults:
    query: str
    customers: list[CustomerHit]
    cases: list[CaseHit]

    @property
    def best(self) -> CustomerHit | CaseHit | None:
        """What the reader most likely wants: the exact reference, email or phone, else the
        closest name, else the first case by subject."""
        exact_case = next((h for h in self.cases if h.match == "ref"), None)
        if exact_case is not None:
            return exact_case
        if self.customers:
            return self.customers[0]
        return self.cases[0] if self.cases else None


@dataclass(frozen=True)
class _Reading:
    """What the search text may be."""

    ref_pk: int | None
    email: str | None
    phone: str | None
    text: str | None  # name and subject words


def _read(query: str, region: str) -> _Reading:
    has_prefix = query.upper().startswith(REF_PREFIX)
    ref_pk = parse_ref(query) if has_prefix or query.isdigit() else None
    email = query if "@" in query and " " not in query else None
    phone = None if email or has_prefix else search_e164(query, region)
    text = None if (email or phone or has_prefix or not words(query)) else query
    if text is not None and not any(ch.isalpha() for ch in text):
        text = None
    return _Reading(ref_pk=ref_pk, email=email, phone=phone, text=text)


def _customer_rows(user: Any, reading: _Reading) -> list[Customer]:
    exact = Q(pk__in=[])
    if reading.email:
        exact |= Q(email__iexact=reading.email)
    if reading.phone:
        exact |= Q(phone=reading.phone)
    condition = exact
    qs: QuerySet[Customer] = visible_customers(user).filter(merged_into__isnull=True)
    order: list[Any] = []
    if reading.text:
        # Each word typed is near a word of the name (the index intersects one scan per
        # word): "alex nugyen" is not every Alex and every Nguyen.
        folded_words = [w for w in words(reading.text) if len(w) > 1] or words(reading.text)
        each_word = Q()
        for word in folded_words:
            each_word &= Q(NameSimilar(Value(word, output_field=CharField()), Fold(F("full_name"))))
        condition |= each_word
        folded = Value(fold(reading.text), output_field=CharField())
        qs = qs.annotate(similarity=NameSimilarity(folded, Fold(F("full_name"))))
        order.append(F("similarity").desc())
    elif not (reading.email or reading.phone):
        return []
    qs = qs.annotate(
        exact=Case(When(exact, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    return list(
        qs.filter(condition)
        .only("pk", "full_name", "title", "addressed_as", "email", "phone", "time_zone")
        .order_by("exact", *order, "pk")[:NAME_CANDIDATES]
    )


def _customer_hits(rows: list[Customer], reading: _Reading) -> list[CustomerHit]:
    hits = []
    for row in rows:
        if reading.email and row.email.lower() == reading.email.lower():
            match, score = "email", 3.0
        elif reading.phone and row.phone == reading.phone:
            match, score = "phone", 2.0
        else:
            match, score = "name", name_score(reading.text or "", row.full_name)
        hits.append(CustomerHit(customer=row, match=match, score=score))
    hits.sort(key=lambda h: (-h.score, h.customer.full_name, h.customer.pk))
    return hits[:RESULT_LIMIT]


def _case_rows(user: Any, reading: _Reading, customer_ids: list[int]) -> list[CaseRow]:
    by_ref = Q(pk=reading.ref_pk) if reading.ref_pk else Q(pk__in=[])
    of_customers = Q(customer_id__in=customer_ids, status__in=OPEN_STATUSES)
    condition = by_ref | of_customers
    if reading.text:
        condition |= Q(
            SubjectMatches(Fold(F("subject")), Fold(Value(reading.text, output_field=CharField())))
        )
    if not (reading.ref_pk or customer_ids or reading.text):
        return []
    rank = Case(
        When(by_ref, then=Value(0)),
        When(of_customers, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    limit = RESULT_LIMIT * (OPEN_CASES_PER_CUSTOMER + 1)
    return list(
        visible_cases(user)
        .filter(condition)
        .annotate(rank=rank)
        .select_related("customer", "owner__agent_profile")
        .only(
            "pk",
            "subject",
            "status",
            "priority",
            "next_due_at",
            "created_at",
            "team_id",
            "customer__id",
            "customer__full_name",
            "customer__email",
            "owner__id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "owner__agent_profile__display_name",
        )
        .order_by("rank", F("next_due_at").asc(nulls_last=True), "-created_at", "-pk")[:limit]
    )


def search(*, user: Any, query: str) -> SearchResults:
    """Cases and customers the user may see that answer ``query``, best first."""
    query = " ".join(query.split())[:MAX_QUERY_LENGTH]
    if not query or not getattr(user, "is_authenticated", False):
        return SearchResults(query=query, customers=[], cases=[])
    reading = _read(query, phone_region_for(user))
    hits = _customer_hits(_customer_rows(user, reading), reading)
    rows = _case_rows(user, reading, [h.customer.pk for h in hits])
    open_by_customer: dict[int, list[CaseRow]] = {}
    cases: list[CaseHit] = []
    for row in rows:
        if row.rank == 0:  # type: ignore[attr-defined]
            cases.append(CaseHit(case=row, match="ref"))
        elif row.rank == 1:  # type: ignore[attr-defined]
            open_by_customer.setdefault(row.customer_id, []).append(row)
        elif len(cases) < RESULT_LIMIT:
            cases.append(CaseHit(case=row, match="subject"))
    customers = [
        CustomerHit(
            customer=h.customer,
            match=h.match,
            score=h.score,
            open_cases=open_by_customer.get(h.customer.pk, [])[:OPEN_CASES_PER_CUSTOMER],
        )
        for h in hits
    ]
    return SearchResults(query=query, customers=customers, cases=cases)
