"""The schema describes what the API answers: lists as their envelope, and every error the
framework or a rule can give (the fuzz run in test_api_fuzz checks the rest)."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from caseowner.schema_links import LINKS, link_operations

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", {"format": "json"}).json()


def _ok_schema(schema: dict, path: str, method: str = "get") -> dict:
    answer = schema["paths"][path][method]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][ref]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/{ref}/commitments/",
        "/api/v1/cases/{ref}/handoffs/",
        "/api/v1/queue/",
        "/api/v1/reports/handoffs/",
    ],
)
def test_every_paginated_list_is_documented_as_its_envelope(schema, path):
    envelope = _ok_schema(schema, path)
    assert envelope["type"] == "object"
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])
    assert envelope["properties"]["results"]["type"] == "array"


def test_the_case_list_is_documented_as_its_cursor_envelope(schema):
    envelope = _ok_schema(schema, "/api/v1/cases/")
    assert set(envelope["properties"]) == {"next", "previous", "results"}
    names = {p["name"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert "cursor" in names and "page" not in names
    assert "400" in schema["paths"]["/api/v1/cases/"]["get"]["responses"]


def test_closing_a_case_with_open_promises_is_documented(schema):
    assert "409" in schema["paths"]["/api/v1/cases/{ref}/"]["patch"]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v1/reports/handoffs/"])
def test_an_invalid_page_is_documented(schema, path):
    assert "404" in schema["paths"][path]["get"]["responses"]


def test_the_health_check_documents_its_refusals(schema):
    responses = schema["paths"]["/api/v1/health/notifications/"]["get"]["responses"]
    assert {"401", "403"} <= set(responses)


def test_every_operation_documents_the_frameworks_answers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "404" in codes, (method, path)
            if not path.startswith("/api/v1/health/"):
                assert "429" in codes, (method, path)
            if not path.startswith("/api/v1/customer/"):
                assert {"401", "403"} <= codes, (method, path)


def test_created_objects_link_to_what_can_be_done_with_them(schema):
    """OpenAPI links chain a new case into its promises and hand-offs, and a new promise or
    hand-off into its own actions, with the id taken from the answer."""
    paths = schema["paths"]
    case_links = paths["/api/v1/cases/"]["post"]["responses"]["201"]["links"]
    assert case_links["CaseCommitmentsCreate"] == {
        "operationId": "case_commitments_create",
        "parameters": {"ref": "$response.body#/ref"},
    }
    assert case_links["CasesHandoffsCreate"]["parameters"] == {"ref": "$response.body#/ref"}
    promise = paths["/api/v1/cases/{ref}/commitments/"]["post"]["responses"]["201"]["links"]
    assert promise["CommitmentKeep"]["parameters"] == {"id": "$response.body#/id"}
    offer = paths["/api/v1/cases/{ref}/handoffs/"]["post"]["responses"]["201"]["links"]
    assert offer["HandoffsAccept"]["parameters"] == {"handoff_id": "$response.body#/id"}
    operation_ids = {
        op["operationId"] for item in paths.values() for op in item.values() if "operationId" in op
    }
    for item in paths.values():
        for op in item.values():
            for answer in op.get("responses", {}).values():
                for link in answer.get("links", {}).values():
                    assert link["operationId"] in operation_ids


def test_every_link_of_the_table_is_in_the_schema(schema):
    operations = {
        op["operationId"]: op for item in schema["paths"].values() for op in item.values()
    }
    for source, answers in LINKS.items():
        for status, targets in answers.items():
            links = operations[source]["responses"][status]["links"]
            assert {link["operationId"] for link in links.values()} == {t for t, _ in targets}


def test_a_link_to_a_renamed_operation_stops_the_schema(schema):
    renamed = {"cases_create": {"201": [("cases_fetch", {"ref": "$response.body#/ref"})]}}
    with pytest.raises(ImproperlyConfigured, match="cases_fetch"):
        link_operations(copy.deepcopy(schema), renamed)


def test_links_from_a_renamed_operation_stop_the_schema(schema):
    renamed = {"cases_make": {"201": [("cases_retrieve", {"ref": "$response.body#/ref"})]}}
    with pytest.raises(ImproperlyConfigured, match="cases_make"):
        link_operations(copy.deepcopy(schema), renamed)


def test_a_link_on_an_undocumented_answer_stops_the_schema(schema):
    wrong = {"cases_create": {"200": [("cases_retrieve", {"ref": "$response.body#/ref"})]}}
    with pytest.raises(ImproperlyConfigured, match="cases_create documents no 200"):
        link_operations(copy.deepcopy(schema), wrong)


@pytest.mark.django_db
def test_the_served_schema_is_generated_once_per_language(monkeypatch):
    """A third of a second of CPU per request, for a document that changes with the code
    only: each process generates it once per language; a language the site does not speak
    (``?lang=`` is the caller's) is generated for that answer and never kept."""
    from drf_spectacular.generators import SchemaGenerator

    from caseowner import schema_view

    schema_view._documents.clear()
    generated = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        generated.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    client = APIClient()
    first = client.get("/api/schema/?format=json")
    second = client.get("/api/schema/?format=json")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and len(generated) == 1
    client.get("/api/schema/?format=json&lang=de")
    assert len(generated) == 2
    for _ in range(2):
        assert client.get("/api/schema/?format=json&lang=xx-unknown").status_code == 200
    assert len(generated) == 4 and len(schema_view._documents) == 2
