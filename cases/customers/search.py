"""One search box for staff: cases and customers by reference, name, email, phone or the
words of a subject, limited to what the reader may see, in at most three queries (the
reader's teams, customers, cases).

What the text looks like decides what is asked: a reference ("CASE-000123", "123"), an email
(exact, any case), a phone number (any format, compared in E.164), otherwise a name and the
words of subjects. PostgreSQL finds name candidates in tiers, closest first, through the GIN
index of the name's words and their one-letter-off forms (``customer_name_keys``), then the
GIN trigram index on the folded name (``%>``: word similarity), and subjects through the
full-text index; SQLite calls the same functions in Python (``cases.customers.search_text``). The
order is decided in Python on both: exact reference, email or phone first, then the closest
name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connections
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

from caseowner.parsing import SEARCH_MAX, parse_search
from cases.customers.phones import search_e164
from cases.customers.search_text import (
    WORD_SIMILARITY_THRESHOLD,
    fold,
    name_score,
    name_tsqueries,
    query_words,
    words,
)
from cases.models import OPEN_STATUSES, REF_PREFIX, Customer, parse_ref
from cases.models import Case as CaseRow
from cases.permissions import phone_region_for, visible_cases, visible_customers

# Customers and cases shown at most; name candidates read from the database before ranking.
RESULT_LIMIT = 10
NAME_CANDIDATES = 50
OPEN_CASES_PER_CUSTOMER = 5
MAX_QUERY_LENGTH = SEARCH_MAX


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


class NameKeysMatch(Func):
    """``caseowner_name_keys(name) @@ (SELECT tsquery)``: tiers 0–2 of a name search, served
    by ``customer_name_keys`` (migration 0016). The ``tsquery`` is a sub-select so the planner
    takes it as one unknown value: a tier of many alternatives is then never estimated to
    match half the table, which would choose a scan computing the keys of every row."""

    output_field = BooleanField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        name_sql, name_params = compiler.compile(self.source_expressions[0])
        query_sql, query_params = compiler.compile(self.source_expressions[1])
        sql = f"(caseowner_name_keys({name_sql}) @@ (SELECT ({query_sql})::tsquery))"
        return sql, (*name_params, *query_params)


class NameTier(Func):
    """SQLite: ``caseowner_name_tier(typed words, name)``, the tier (0–3) the name answers
    in, else NULL (``cases.customers.search_text.name_tier``)."""

    function = "caseowner_name_tier"
    output_field = IntegerField()


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
    qs: QuerySet[Customer] = (
        visible_customers(user)
        .filter(merged_into__isnull=True)
        .only("pk", "full_name", "title", "addressed_as", "email", "phone", "time_zone")
    )
    if reading.text:
        return _name_rows(qs, reading.text)
    if not (reading.email or reading.phone):
        return []
    exact = Q(pk__in=[])
    if reading.email:
        exact |= Q(email__iexact=reading.email)
    if reading.phone:
        exact |= Q(phone=reading.phone)
    return list(qs.filter(exact).order_by("pk")[:NAME_CANDIDATES])


def _name_rows(qs: QuerySet[Customer], text: str) -> list[Customer]:
    """Name candidates, closest tier first (``cases.customers.search_text``).

    PostgreSQL: one statement, the tiers as ``UNION ALL`` parts of ``NAME_CANDIDATES`` each
    under one ``LIMIT``, so a later tier is never run once the earlier ones have filled it:
    "Alex Nguyen" is answered from the name-keys index alone, without weighing every Alex
    Nguyen by trigrams. A name found in two tiers comes twice and is kept once. SQLite: the
    tier of each row worked out in Python, in the same order.
    """
    typed = query_words(text)
    folded = Value(fold(text), output_field=CharField())
    similarity = NameSimilarity(folded, Fold(F("full_name")))
    each_word = Q()
    for word in typed:
        each_word &= Q(NameSimilar(Value(word, output_field=CharField()), Fold(F("full_name"))))
    if connections[qs.db].vendor != "postgresql":
        tier = NameTier(Value(" ".join(typed), output_field=CharField()), F("full_name"))
        trigram_order = Case(When(tier=3, then=similarity), default=Value(0.0))
        return list(
            qs.annotate(tier=tier)
            .filter(tier__isnull=False)
            .order_by("tier", trigram_order.desc(), "full_name", "pk")[:NAME_CANDIDATES]
        )
    # A tier is taken as the index finds it, unsorted: a common name ("John Smith") has
    # thousands of namesakes in a tier, and sorting them meant reading every one of their
    # rows for 50. Candidates of one tier score alike and are ordered in Python
    # (``_customer_hits``), so only which 50 namesakes come back is left to the index.
    tiers = [
        qs.filter(
            NameKeysMatch(F("full_name"), Value(tsquery, output_field=CharField()))
        ).order_by()[:NAME_CANDIDATES]
        for tsquery in name_tsqueries(typed)
    ]
    trigram = qs.filter(each_word).order_by(similarity.desc(), "full_name", "pk")
    rows = tiers[0].union(*tiers[1:], trigram[:NAME_CANDIDATES], all=True)[:NAME_CANDIDATES]
    seen: set[int] = set()
    unique = []
    for row in rows:
        if row.pk not in seen:
            seen.add(row.pk)
            unique.append(row)
    return unique


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
    """Cases and customers the user may see that answer ``query``, best first. A query
    ``caseowner.parsing`` refuses (a NUL, longer than ``MAX_QUERY_LENGTH``) is
    ``invalid_input`` on ``q``."""
    query = parse_search(query, field="q", max_length=MAX_QUERY_LENGTH)
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
