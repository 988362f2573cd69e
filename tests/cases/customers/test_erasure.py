"""Right to erasure: a customer's personal data goes from everything the product stores and
shows; every figure stays; the erasure itself is recorded."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.admin import CustomerAdmin
from cases.customers import erasure
from cases.customers.erasure import ERASED_NAME, ERASED_TEXT, customer_erase, redact_json
from cases.customers.links import make_customer_token
from cases.customers.services import customer_merge
from cases.errors import CaseRuleError
from cases.models import (
    Case,
    CaseEvent,
    Channel,
    Contact,
    Customer,
    EventKind,
    Handoff,
    HandoffReview,
    InboundMessage,
    OwnerTask,
)
from commitments.models import Commitment
from notifications.models import DeliveryLog, Notification, NotificationChannel, RecipientKind
from notifications.rendering import render_email
from notifications.services import outbox_archive_batch
from tests.cases.customers.erasure_world import EMAIL, ErasureWorld, build, traces
from tests.factories import CaseFactory, CustomerFactory, TeamFactory, UserFactory, make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def w() -> ErasureWorld:
    return build()


def erase(w: ErasureWorld) -> None:
    customer_erase(customer=w.customer, by=w.staff)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def everything_shown(w: ErasureWorld) -> dict[str, str]:
    """Every page, API answer and email the product shows about the customer's case."""
    case = Case.objects.get(pk=w.case.pk)
    ref, customer_id = case.ref, w.customer.pk
    token = make_customer_token(case_id=case.pk, generation=case.link_generation)
    owner, manager, staff = logged_in(w.receiver), logged_in(w.manager), logged_in(w.staff)
    pages = {
        "case page": owner.get(f"/cases/{ref}/"),
        "case page (manager)": manager.get(f"/cases/{ref}/"),
        "queue": owner.get("/queue/"),
        "customer record": manager.get(f"/customers/{customer_id}/"),
        "search": manager.get("/search/", {"q": "Erased"}),
        "hand-off audit": manager.get("/manage/handoffs/"),
        "hand-off audit csv": manager.get("/manage/handoffs.csv"),
        "dashboard": manager.get("/manage/"),
        "promises report": manager.get("/manage/promises/"),
        "open cases": manager.get("/manage/open-cases/"),
        "unmatched mail": manager.get("/manage/inbound/"),
        "customer link page": Client().get(f"/c/{token}/"),
        "admin case": staff.get(f"/admin/cases/case/{case.pk}/change/"),
        "admin customer": staff.get(f"/admin/cases/customer/{customer_id}/change/"),
        "admin customers": staff.get("/admin/cases/customer/"),
        "admin contacts": staff.get("/admin/cases/contact/"),
        "admin inbound": staff.get("/admin/cases/inboundmessage/"),
        "admin hand-offs": staff.get(
            f"/admin/cases/handoff/{Handoff.objects.filter(case=case).first().pk}/change/"
        ),
        "admin notifications": staff.get("/admin/notifications/notification/"),
        "admin delivery log": staff.get("/admin/notifications/deliverylog/"),
        "admin commitments": staff.get("/admin/commitments/commitment/"),
    }
    api, boss = api_as(w.receiver), api_as(w.manager)
    answers = {
        "api cases": api.get("/api/v1/cases/"),
        "api case": api.get(f"/api/v1/cases/{ref}/"),
        "api contacts": api.get(f"/api/v1/cases/{ref}/contacts/"),
        "api hand-offs": api.get(f"/api/v1/cases/{ref}/handoffs/"),
        "api commitments": api.get(f"/api/v1/cases/{ref}/commitments/"),
        "api queue": api.get("/api/v1/queue/"),
        "api customer": boss.get(f"/api/v1/customers/{customer_id}/"),
        "api customers": boss.get("/api/v1/customers/"),
        "api search": boss.get("/api/v1/search/", {"q": "Erased"}),
        "api hand-off report": boss.get("/api/v1/reports/handoffs/"),
        "api commitments report": boss.get("/api/v1/reports/commitments/"),
        "api customer view": APIClient().get(f"/api/v1/customer/{token}/"),
    }
    shown = {}
    for name, response in {**pages, **answers}.items():
        assert response.status_code == 200, (name, response.status_code)
        shown[name] = body(response)
    for row in Notification.objects.order_by("pk"):
        shown[f"notification {row.pk} row"] = f"{row.recipient_address} {row.recipient_name}"
        if row.channel == NotificationChannel.EMAIL:
            mail = render_email(
                template=row.template, context=row.context, recipient_name=row.recipient_name
            )
            shown[f"email {row.pk}"] = f"{mail.subject}\n{mail.text}\n{mail.html or ''}"
        else:
            shown[f"webhook {row.pk}"] = json.dumps(row.context)
        shown[f"attachments {row.pk}"] = json.dumps(row.attachments)
    for log in DeliveryLog.objects.order_by("pk"):
        shown[f"delivery log {log.pk}"] = f"{log.recipient_address} {log.recipient_name}"
    return shown


def stored_rows() -> str:
    """Every row of the apps that hold customer data, as JSON."""
    rows = []
    for model in (
        Customer,
        Case,
        CaseEvent,
        Handoff,
        HandoffReview,
        Contact,
        InboundMessage,
        Commitment,
        Notification,
        DeliveryLog,
    ):
        rows.append(serializers.serialize("json", model.objects.all()))
    raw = b"".join(bytes(m.raw) for m in InboundMessage.objects.all())
    return "\n".join(rows) + raw.decode(errors="replace")


def test_before_an_erasure_the_customer_is_everywhere(w):
    """The detector works: the world's traces are found in what is shown and stored."""
    shown = everything_shown(w)
    assert traces(shown["case page"]) and traces(shown["api case"])
    assert any(traces(text) for name, text in shown.items() if name.startswith("email"))
    assert set(traces(stored_rows())) == {
        "zebulon",
        "quagmire",
        "featherstone",
        "xylophone",
        "zq.old",
        "privacy.example",
        "900777",
    }


def test_nothing_shown_or_stored_keeps_their_data_after_an_erasure(w):
    erase(w)
    found = {name: traces(text) for name, text in everything_shown(w).items() if traces(text)}
    assert found == {}
    assert traces(stored_rows()) == []


def test_the_record_stays_as_an_erased_customer_with_when(w):
    erase(w)
    customer = Customer.objects.get(pk=w.customer.pk)
    assert (customer.full_name, customer.email, customer.phone) == (ERASED_NAME, "", "")
    assert (customer.title, customer.addressed_as) == ("", "")
    assert customer.erased_at is not None
    case = Case.objects.get(pk=w.case.pk)
    assert (case.subject, case.description) == (ERASED_TEXT, "")


def test_the_erasure_is_on_each_case_timeline_with_who_and_when_only(w):
    erase(w)
    event = CaseEvent.objects.get(case=w.case, kind=EventKind.CUSTOMER_ERASED)
    customer = Customer.objects.get(pk=w.customer.pk)
    assert event.actor == w.staff
    assert event.at == customer.erased_at
    assert event.data == {"customer_id": customer.pk}


def test_the_timeline_keeps_its_rows_kinds_actors_times_and_codes(w):
    before = list(CaseEvent.objects.filter(case=w.case).order_by("pk").values())
    erase(w)
    after = list(
        CaseEvent.objects.filter(case=w.case)
        .exclude(kind=EventKind.CUSTOMER_ERASED)
        .order_by("pk")
        .values()
    )
    strip = {"data"}
    assert [{k: v for k, v in e.items() if k not in strip} for e in after] == [
        {k: v for k, v in e.items() if k not in strip} for e in before
    ]
    status = next(e for e in after if e["kind"] == EventKind.STATUS_CHANGED)
    assert status["data"] == {"from": "open", "to": "waiting_on_customer", "reason": ERASED_TEXT}
    note = next(e for e in after if e["kind"] == EventKind.NOTE)
    assert note["data"] == {"text": ERASED_TEXT}


def figures(w: ErasureWorld) -> dict:
    boss = api_as(w.manager)
    promises = boss.get("/api/v1/reports/commitments/").json()
    audit = boss.get("/api/v1/reports/handoffs/").json()
    kept = {
        "id",
        "status",
        "reason",
        "flags",
        "quality_score",
        "review_count",
        "review_average",
        "offered_at",
        "decided_at",
    }
    case = Case.objects.filter(pk=w.case.pk).values(
        "status", "owner_id", "owner_count", "next_due_at", "created_at", "closed_at"
    )
    return {
        "promises": {k: v for k, v in promises.items() if k in ("teams", "agents")},
        "audit count": audit["count"],
        "audit rows": [{k: v for k, v in r.items() if k in kept} for r in audit["results"]],
        "audit csv rows": len(body(logged_in(w.manager).get("/manage/handoffs.csv")).splitlines()),
        "case": list(case),
        "commitments": list(
            Commitment.objects.order_by("pk").values("status", "due_at", "ended_at", "owner_id")
        ),
        "events": CaseEvent.objects.exclude(kind=EventKind.CUSTOMER_ERASED).count(),
        "contacts": Contact.objects.count(),
        "reviews": list(HandoffReview.objects.values("context_complete", "next_step_clear")),
    }


def test_every_figure_is_the_same_after_an_erasure(w):
    before = figures(w)
    assert before["promises"]["teams"] and before["audit count"] == 2
    erase(w)
    assert figures(w) == before


def test_their_pending_notices_are_cancelled_and_their_old_links_revoked(w):
    old = make_customer_token(case_id=w.case.pk, generation=w.case.link_generation)
    pending = Notification.objects.filter(
        recipient_kind=RecipientKind.CUSTOMER, status="pending"
    ).count()
    assert pending
    erase(w)
    assert not Notification.objects.filter(
        recipient_kind=RecipientKind.CUSTOMER, status="pending"
    ).exists()
    assert Client().get(f"/c/{old}/").status_code == 404


def test_only_staff_erase(w):
    with pytest.raises(CaseRuleError) as refused:
        customer_erase(customer=w.customer, by=w.manager)
    assert refused.value.code == "not_staff"
    assert Customer.objects.get(pk=w.customer.pk).erased_at is None


def test_a_customer_is_erased_once(w):
    erase(w)
    with pytest.raises(CaseRuleError) as refused:
        erase(w)
    assert refused.value.code == "customer_erased"


def test_records_merged_into_theirs_are_erased_too_and_a_tombstone_is_refused(w):
    tombstone = CustomerFactory(full_name="Zebulon Q.", email="zq.tombstone@privacy.example")
    CaseFactory(team=w.case.team, customer=tombstone)
    customer_merge(survivor=w.customer, merged=tombstone, by=w.manager)
    with pytest.raises(CaseRuleError) as refused:
        customer_erase(customer=tombstone, by=w.staff)
    assert refused.value.code == "customer_merged"
    erase(w)
    tombstone.refresh_from_db()
    assert (tombstone.full_name, tombstone.email, tombstone.erased_at is not None) == (
        ERASED_NAME,
        "",
        True,
    )


def test_mail_from_them_that_matched_no_case_is_erased(w):
    from cases.conversations.inbound import inbound_mail_receive
    from tests.mail import raw_mail

    stray = inbound_mail_receive(
        raw=raw_mail(sender=f"Z <{EMAIL.upper()}>", subject="Featherstone?", text="xylophone"),
        via="http",
    ).message
    erase(w)
    stray.refresh_from_db()
    assert (stray.from_address, stray.subject, bytes(stray.raw)) == ("", ERASED_TEXT, b"")


def test_other_customers_keep_their_data(w):
    other = CustomerFactory(full_name="Ada Okafor")
    erase(w)
    other.refresh_from_db()
    assert other.full_name == "Ada Okafor" and other.erased_at is None


# --- a customer without an email address: the owner calls them -------------------------------


def phone_only_case(name: str, phone: str) -> Case:
    """A case opened by email for a customer with only a phone: its acknowledgement has no
    route, so the owner gets a task naming whom to call and on what number."""
    team = TeamFactory()
    owner = make_agent(team)
    customer = Customer.objects.create(full_name=name, phone=phone)
    return services.case_open(
        customer=customer,
        team=team,
        channel=Channel.EMAIL,
        subject="Kettle",
        by=owner,
        owner=owner,
    )


def test_the_owners_tasks_to_call_them_no_longer_name_them():
    case = phone_only_case("Phoebe Phone", "+447700900123")

    def queue() -> str:
        page = logged_in(case.owner).get("/queue/")
        return body(page) + body(api_as(case.owner).get("/api/v1/queue/"))

    assert "900123" in queue() and "Phoebe" in queue()
    customer_erase(customer=case.customer, by=UserFactory(is_staff=True, is_superuser=True))
    assert "900123" not in queue() and "Phoebe" not in queue()
    task = OwnerTask.objects.get(case=case)
    assert task.text == ERASED_TEXT
    assert task.reason == "customer has no email address (phone only)"


def test_the_delivery_log_forgets_whom_a_notice_without_an_address_was_for():
    erased_case = phone_only_case("Phoebe Phone", "+447700900123")
    kept_case = phone_only_case("Ruth Campbell", "+447700900456")
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        assert outbox_archive_batch() == 2
    customer_erase(customer=erased_case.customer, by=UserFactory(is_staff=True, is_superuser=True))
    rows = list(DeliveryLog.objects.values_list("tags", "recipient_name"))

    def names(case: Case) -> list[str]:
        return [name for tags, name in rows if f"case:{case.pk}" in tags]

    assert (names(erased_case), names(kept_case)) == ([""], ["Ruth Campbell"])


def test_redaction_keeps_ids_dates_and_codes_and_nothing_written():
    data = {
        "handoff_id": 3,
        "manager_ids": [1, 2],
        "due_at": "2026-03-02T10:00:00+00:00",
        "reason": "shift_end",
        "flags": ["back_to_previous_owner"],
        "changes": {"email": {"from": "a@b.example", "to": "c@d.example"}},
        "text": "anything",
        "truncated": False,
        "owner": {"name": "Sam", "email": "sam@x.example"},
    }
    assert redact_json(data) == {
        "handoff_id": 3,
        "manager_ids": [1, 2],
        "due_at": "2026-03-02T10:00:00+00:00",
        "reason": "shift_end",
        "flags": ["back_to_previous_owner"],
        "changes": {"email": {"from": ERASED_TEXT, "to": ERASED_TEXT}},
        "text": ERASED_TEXT,
        "truncated": False,
        "owner": {"name": ERASED_TEXT, "email": ERASED_TEXT},
    }


# --- the command and the admin action call the service --------------------------------------


@pytest.fixture
def spy(monkeypatch) -> list:
    calls: list = []
    real = erasure.customer_erase

    def recording(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr("cases.management.commands.erase_customer.customer_erase", recording)
    monkeypatch.setattr("cases.admin.customer_erase", recording)
    return calls


def test_the_command_erases_through_the_service(w, spy):
    out = StringIO()
    call_command("erase_customer", str(w.customer.pk), "--by", w.staff.username, stdout=out)
    assert [(c["customer"].pk, c["by"]) for c in spy] == [(w.customer.pk, w.staff)]
    assert Customer.objects.get(pk=w.customer.pk).erased_at is not None
    assert "erased" in out.getvalue()


def test_the_command_refuses_a_non_staff_user_and_an_unknown_customer(w):
    with pytest.raises(CommandError, match="not_staff"):
        call_command("erase_customer", str(w.customer.pk), "--by", w.owner.username)
    with pytest.raises(CommandError, match="No customer"):
        call_command("erase_customer", "999999", "--by", w.staff.username)
    with pytest.raises(CommandError, match="No user"):
        call_command("erase_customer", str(w.customer.pk), "--by", "nobody-here")


def _action(client: Client, customer_ids: list[int], **confirm: str):
    return client.post(
        reverse("admin:cases_customer_changelist"),
        {"action": "erase_personal_data", "_selected_action": customer_ids, **confirm},
        follow=True,
    )


def _state(w: ErasureWorld) -> tuple:
    customer = Customer.objects.get(pk=w.customer.pk)
    return (
        customer.full_name,
        customer.email,
        customer.erased_at,
        Case.objects.get(pk=w.case.pk).subject,
        CaseEvent.objects.count(),
        sorted(Notification.objects.values_list("recipient_address", flat=True)),
    )


def test_the_admin_action_first_shows_what_will_be_erased_and_erases_nothing(w, spy):
    other = CustomerFactory(full_name="Ottoline Quist", email="ottoline@example.org")
    before = _state(w)

    response = _action(logged_in(w.staff), [w.customer.pk, other.pk])

    assert response.templates[0].name == "admin/cases/customer/erase_confirmation.html"
    [mine, theirs] = response.context["previews"]
    assert (mine.customer.pk, mine.cases, mine.notes) == (w.customer.pk, 1, 1)
    assert mine.handoffs == Handoff.objects.filter(case=w.case).count() > 0
    assert mine.contacts == Contact.objects.filter(case=w.case).count()
    assert mine.notifications > 0
    assert (theirs.cases, theirs.notes, theirs.notifications) == (0, 0, 0)
    page = response.content.decode()
    assert w.customer.full_name in page and "Ottoline Quist" in page
    assert "Erase 2 customer(s)" in page and 'name="confirmation"' in page
    assert spy == [] and _state(w) == before


def test_a_wrong_or_missing_typed_confirmation_erases_nothing(w, spy):
    before = _state(w)
    staff = logged_in(w.staff)
    for typed in ("", "erase", "yes"):
        response = _action(staff, [w.customer.pk], confirm="yes", confirmation=typed)
        assert "Nothing was erased: type ERASE to confirm." in response.content.decode()
    assert spy == [] and _state(w) == before


def test_cancelling_the_confirmation_changes_nothing(w, spy):
    before = _state(w)
    staff = logged_in(w.staff)
    page = _action(staff, [w.customer.pk])
    cancel = reverse("admin:cases_customer_changelist")
    assert f'href="{cancel}" class="button cancel-link"' in page.content.decode()

    assert staff.get(cancel).status_code == 200
    assert spy == [] and _state(w) == before


def test_the_typed_confirmation_erases_through_the_service(w, spy):
    response = _action(logged_in(w.staff), [w.customer.pk], confirm="yes", confirmation="ERASE")
    assert response.status_code == 200
    assert [(c["customer"].pk, c["by"]) for c in spy] == [(w.customer.pk, w.staff)]
    assert Customer.objects.get(pk=w.customer.pk).erased_at is not None
    assert "1 customer(s) erased." in response.content.decode()


def test_the_confirmation_page_says_which_customers_will_not_be_erased(w, spy):
    clerk = UserFactory(is_staff=True, is_superuser=True)
    erase(w)
    response = _action(logged_in(clerk), [w.customer.pk])
    page = response.content.decode()
    assert "Will not be erased: already erased" in page
    assert 'name="confirmation"' not in page
    assert "erase_personal_data" in site._registry[Customer].get_actions(
        response.wsgi_request
    ) and isinstance(site._registry[Customer], CustomerAdmin)


def test_the_admin_action_reports_a_refusal_without_erasing(w, spy):
    clerk = UserFactory(is_staff=True, is_superuser=True)
    erase(w)
    response = _action(logged_in(clerk), [w.customer.pk], confirm="yes", confirmation="ERASE")
    assert "already erased" in response.content.decode()
    assert "0 customer(s) erased." in response.content.decode()


def test_every_field_of_a_customer_is_personal_or_named_as_not():
    """An erasure blanks ``Customer.PERSONAL_FIELDS``; a field added to the model must be
    put on one side, so nothing personal is added without being erased."""
    not_personal = {
        "id",
        "preferred_channel",
        "time_zone",
        "language",
        "created_at",
        "merged_into",
        "erased_at",
    }
    fields = {f.name for f in Customer._meta.concrete_fields}
    assert fields == set(Customer.PERSONAL_FIELDS) | not_personal
