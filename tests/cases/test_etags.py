"""No lost updates: a case and a customer answer their ETag, and a PATCH with If-Match is
refused (412 precondition_failed, nothing changed) when the record changed since."""

from __future__ import annotations

import pytest

from caseowner.errors import RuleError
from caseowner.preconditions import etag_of, if_match_holds
from cases.customers.services import CustomerChanges, customer_update
from cases.models import Case, Customer
from cases.services import case_update
from tests.cases.conftest import assert_error, client_for

pytestmark = pytest.mark.django_db


def _case_path(world) -> str:
    return f"/api/v1/cases/{world['case'].ref}/"


def _customer_path(world) -> str:
    return f"/api/v1/customers/{world['case'].customer_id}/"


def test_a_case_answers_its_etag_and_a_patch_a_new_one(world):
    client = client_for(world["owner"])
    read = client.get(_case_path(world))
    etag = read["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(_case_path(world))["ETag"] == etag  # nothing changed, same version
    changed = client.patch(
        _case_path(world), {"priority": "high"}, format="json", headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != etag
    assert client.get(_case_path(world))["ETag"] == changed["ETag"]


def test_a_patch_against_a_stale_case_is_refused_and_changes_nothing(world):
    owner, manager = client_for(world["owner"]), client_for(world["manager"])
    etag = owner.get(_case_path(world))["ETag"]
    # the manager changes the case in between
    changed = manager.patch(_case_path(world), {"priority": "urgent"}, format="json")
    assert changed.status_code == 200, changed.content
    stale = owner.patch(
        _case_path(world), {"priority": "low"}, format="json", headers={"If-Match": etag}
    )
    assert_error(stale, 412, "precondition_failed")
    world["case"].refresh_from_db()
    assert world["case"].priority == "urgent"


def test_a_stale_patch_answers_the_records_current_etag_to_read_again(world):
    owner, manager = client_for(world["owner"]), client_for(world["manager"])
    for path in (_case_path(world), _customer_path(world)):
        etag = owner.get(path)["ETag"]
        change = {"priority": "urgent"} if "cases" in path else {"addressed_as": "Sam"}
        assert manager.patch(path, change, format="json").status_code == 200
        current = owner.get(path)["ETag"]
        stale = owner.patch(path, change, format="json", headers={"If-Match": etag})
        assert_error(stale, 412, "precondition_failed")
        assert stale["ETag"] == current != etag
        # with it the client's next PATCH applies
        again = owner.patch(path, change, format="json", headers={"If-Match": stale["ETag"]})
        assert again.status_code == 200, again.content


@pytest.mark.parametrize(
    "if_match,status", [(None, 200), ("*", 200), ("W/{etag}", 412), ('"nope", {etag}', 200)]
)
def test_if_match_forms(world, if_match, status):
    client = client_for(world["owner"])
    etag = client.get(_case_path(world))["ETag"]
    headers = {} if if_match is None else {"If-Match": if_match.format(etag=etag)}
    response = client.patch(_case_path(world), {"priority": "high"}, format="json", headers=headers)
    assert response.status_code == status, response.content


def test_the_service_refuses_a_stale_version_with_the_row_locked(world):
    case = world["case"]
    stale = etag_of(case)
    case_update(case=case, by=world["owner"], priority="high")
    with pytest.raises(RuleError) as refused:
        case_update(case=case, by=world["owner"], priority="low", if_match=stale)
    assert (refused.value.code, refused.value.status_code) == ("precondition_failed", 412)
    assert Case.objects.get(pk=case.pk).priority == "high"
    current = etag_of(Case.objects.get(pk=case.pk))
    case_update(case=case, by=world["owner"], priority="low", if_match=current)
    assert Case.objects.get(pk=case.pk).priority == "low"


def test_a_customer_answers_its_etag_and_honours_if_match(world):
    client = client_for(world["owner"])
    etag = client.get(_customer_path(world))["ETag"]
    changed = client.patch(
        _customer_path(world),
        {"addressed_as": "Sam"},
        format="json",
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] not in ("", etag)
    stale = client.patch(
        _customer_path(world),
        {"addressed_as": "Samuel"},
        format="json",
        headers={"If-Match": etag},
    )
    assert_error(stale, 412, "precondition_failed")
    assert Customer.objects.get(pk=world["case"].customer_id).addressed_as == "Sam"


def test_the_customer_service_refuses_a_stale_version(world):
    customer = Customer.objects.get(pk=world["case"].customer_id)
    stale = etag_of(customer)
    customer_update(customer=customer, by=world["owner"], changes=CustomerChanges(language="de"))
    with pytest.raises(RuleError) as refused:
        customer_update(
            customer=customer,
            by=world["owner"],
            changes=CustomerChanges(language="fr"),
            if_match=stale,
        )
    assert refused.value.status_code == 412
    assert Customer.objects.get(pk=customer.pk).language == "de"


def test_if_match_compares_strongly():
    assert if_match_holds('"a"', '"a"')
    assert if_match_holds('"b", "a"', '"a"')
    assert if_match_holds("*", '"a"')
    assert if_match_holds("a", '"a"')  # unquoted, read as quoted
    assert not if_match_holds('W/"a"', '"a"')
    assert not if_match_holds('"b"', '"a"')


def test_the_schema_documents_etag_and_if_match(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/cases/{ref}/", "/api/v1/customers/{customer_id}/"):
        patch = schema["paths"][path]["patch"]
        assert "If-Match" in {p["name"] for p in patch["parameters"] if p["in"] == "header"}
        assert "412" in patch["responses"]
        for method in ("get", "patch"):
            assert "ETag" in schema["paths"][path][method]["responses"]["200"]["headers"]
        assert "ETag" in patch["responses"]["412"]["headers"]
