"""Names and subjects are one line with no control characters; every free-text field has a
length limit. The rule holds at the services' door (pages, API, anything else) and the API
documents the limits."""

from __future__ import annotations

import pytest

from caseowner import text
from caseowner.errors import RuleError
from cases.customers.services import customer_create
from cases.handoffs import services as hs
from cases.intake import CaseIntake, NewCustomer, case_intake
from cases.models import Case, Customer
from cases.services import case_add_note
from tests.cases.conftest import assert_error, client_for
from tests.factories import CustomerFactory, good_summary

pytestmark = pytest.mark.django_db

CONTROL = [
    "Ada\r\nBcc: x@example.org",
    "Ada\tLovelace",
    "Ada\x00",
    "Ada\x7f",
    "Ada\x85",
    "A\u2028B",
]


@pytest.mark.parametrize("name", CONTROL)
def test_a_customer_name_with_a_control_character_is_refused(name):
    with pytest.raises(RuleError) as caught:
        customer_create(full_name=name)
    assert (caught.value.code, list(caught.value.fields)) == ("invalid_input", ["name"])
    assert not Customer.objects.exists()


@pytest.mark.parametrize("field", ["addressed_as", "phone", "email"])
def test_the_other_customer_fields_are_single_line_too(field):
    with pytest.raises(RuleError) as caught:
        customer_create(full_name="Ada", **{field: "x\ny"})
    assert list(caught.value.fields) == [field]


@pytest.mark.parametrize("subject", CONTROL)
def test_a_subject_with_a_control_character_is_refused_at_intake(world, subject):
    intake = CaseIntake(channel="email", subject=subject, customer_id=CustomerFactory().pk)
    with pytest.raises(RuleError) as caught:
        case_intake(intake=intake, by=world["owner"])
    assert (caught.value.code, list(caught.value.fields)) == ("invalid_input", ["subject"])


def test_a_new_customer_at_intake_with_a_crlf_name_writes_nothing(world):
    before = Case.objects.count()
    intake = CaseIntake(
        channel="email", subject="Hello", new_customer=NewCustomer(full_name="Ada\r\nX")
    )
    with pytest.raises(RuleError):
        case_intake(intake=intake, by=world["owner"])
    assert Case.objects.count() == before
    assert not Customer.objects.filter(full_name__startswith="Ada").exists()


def test_a_description_keeps_its_line_breaks_but_not_other_controls(world):
    base = {"channel": "email", "subject": "Hi", "customer_id": CustomerFactory().pk}
    case = case_intake(
        intake=CaseIntake(description="line one\r\nline two\tok", **base), by=world["owner"]
    )
    assert case.description == "line one\r\nline two\tok"
    with pytest.raises(RuleError) as caught:
        case_intake(intake=CaseIntake(description="bell\x07", **base), by=world["owner"])
    assert list(caught.value.fields) == ["description"]


def test_a_description_longer_than_the_limit_is_refused(world):
    intake = CaseIntake(
        channel="email",
        subject="Hi",
        customer_id=CustomerFactory().pk,
        description="x" * (text.DESCRIPTION_MAX + 1),
    )
    with pytest.raises(RuleError) as caught:
        case_intake(intake=intake, by=world["owner"])
    assert list(caught.value.fields) == ["description"]


def test_a_note_with_a_control_character_is_refused(world):
    with pytest.raises(RuleError) as caught:
        case_add_note(case=world["case"], by=world["owner"], text="escape \x1b[31m red")
    assert list(caught.value.fields) == ["text"]


def test_a_summary_field_with_a_control_character_is_refused(world):
    summary = good_summary(next_step="Call back\x00 tomorrow")
    with pytest.raises(RuleError) as caught:
        hs.handoff_offer(
            case=world["case"],
            by=world["owner"],
            to=world["receiver"],
            summary=summary,
            reason="shift_end",
        )
    assert list(caught.value.fields) == ["next_step"]


def test_the_api_answers_400_invalid_input_with_the_field(world):
    client = client_for(world["owner"])
    body = {"new_customer": {"name": "Ada\r\nBcc: x"}, "channel": "email", "subject": "Hi"}
    error = assert_error(client.post("/api/v1/cases/", body, format="json"), 400, "invalid_input")
    assert list(error["fields"]) == ["new_customer.name"]
    body = {"customer": CustomerFactory().pk, "channel": "email", "subject": "Hi\nthere"}
    error = assert_error(client.post("/api/v1/cases/", body, format="json"), 400, "invalid_input")
    assert list(error["fields"]) == ["subject"]


def test_the_api_refuses_a_huge_description(world):
    body = {
        "customer": CustomerFactory().pk,
        "channel": "email",
        "subject": "Hi",
        "description": "x" * 2_400_000,
    }
    response = client_for(world["owner"]).post("/api/v1/cases/", body, format="json")
    # under the request size limit: the field's own limit refuses it
    assert list(assert_error(response, 400, "invalid_input")["fields"]) == ["description"]
    assert not Case.objects.filter(subject="Hi").exists()


def test_the_schema_documents_the_limits(world):
    schema = client_for(world["owner"]).get("/api/schema/", {"format": "json"}).json()
    parts = schema["components"]["schemas"]
    assert parts["CaseCreateInRequest"]["properties"]["description"]["maxLength"] == (
        text.DESCRIPTION_MAX
    )
    assert parts["NewCustomerInRequest"]["properties"]["name"]["maxLength"] == text.NAME_MAX
    assert parts["NoteInRequest"]["properties"]["text"]["maxLength"] == text.NOTE_MAX
    offer = parts["OfferInRequest"]["properties"]
    assert offer["next_step"]["maxLength"] == text.SUMMARY_MAX


def test_the_intake_page_shows_the_field_error(world):
    from tests.pages.conftest import client_for as page_client

    response = page_client(world["owner"]).post(
        "/cases/new/",
        {
            "new_name": "Ada\r\nBcc: x",
            "team": world["team"].pk,
            "channel": "email",
            "subject": "Hello",
        },
    )
    assert response.status_code == 400
    assert "Control characters" in response.content.decode()
    assert not Customer.objects.filter(full_name__startswith="Ada").exists()
