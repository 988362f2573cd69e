"""The API speaks JSON both ways, in every mode: request bodies are JSON only (the raw MIME
inbound endpoint aside) and the schema says exactly that; every error answer under /api/ has
the error shape with DEBUG on as with it off, even where no view of ours answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import TeamFactory, make_agent

pytestmark = pytest.mark.django_db

RAW_MAIL = "/api/v1/inbound/email/"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def api():
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(make_agent())
    return client


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": code, "message": response.json()["message"], "fields": {}}
    assert response.json()["message"]


# --- request bodies --------------------------------------------------------------------------


def test_every_request_body_in_the_schema_is_json_only(schema):
    offered = {
        f"{method.upper()} {path}": sorted(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation and path != RAW_MAIL
    }
    assert offered
    assert {op: types for op, types in offered.items() if types != ["application/json"]} == {}


def test_every_default_in_a_request_schema_is_a_value_the_field_accepts(schema):
    """A generated client sends the defaults it read (openapi-python-client does): a default
    its own field refuses (``default: ''`` with ``minLength: 1``) broke case intake."""
    refused = []
    for name, component in schema["components"]["schemas"].items():
        for field, spec in (component.get("properties") or {}).items():
            if "default" not in spec:
                continue
            value = spec["default"]
            if isinstance(value, str) and len(value) < spec.get("minLength", 0):
                refused.append(f"{name}.{field}")
            if "enum" in spec and value not in spec["enum"]:
                refused.append(f"{name}.{field}")
    assert refused == []


def test_a_new_customer_sent_with_every_default_spelled_out_is_accepted():
    team = TeamFactory()
    client = APIClient()
    client.force_authenticate(make_agent(team))
    body = {
        "channel": "email",
        "subject": "Charged twice",
        "team": team.pk,
        "new_customer": {
            "name": "Ada Lovelace",
            "given_name": "",
            "family_name": "",
            "title": "",
            "addressed_as": "",
            "email": "ada@example.org",
            "phone": "",
        },
    }
    response = client.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["customer"]["name"] == "Ada Lovelace"


def test_a_form_body_is_refused_as_an_unsupported_media_type(api):
    response = api.post(
        "/api/v1/cases/",
        "channel=email&subject=Hi",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error_shape(response, 415, "unsupported_media_type")


def test_a_multipart_body_is_refused_as_an_unsupported_media_type(api):
    response = api.post("/api/v1/cases/", {"channel": "email", "subject": "Hi"}, format="multipart")
    assert_error_shape(response, 415, "unsupported_media_type")


# --- errors, DEBUG on and off ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nope/", "/api/v1/agents//absences/", "/api/v1/handoffs/abc/accept/"]
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_a_path_no_route_matches_is_404_json_in_every_mode(api, debug, path, method):
    assert_error_shape(getattr(api, method)(path), 404, "not_found")


def test_a_path_outside_any_version_is_404_json_in_every_mode(debug):
    assert_error_shape(Client().get("/api/nope"), 404, "not_found")


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_a_write_without_the_final_slash_is_404_json_in_every_mode(api, debug, method):
    # not Django's 301 (the write repeated as a GET), nor its crash with DEBUG on
    assert_error_shape(getattr(api, method)("/api/v1/cases"), 404, "not_found")


def test_a_read_without_the_final_slash_still_finds_its_page(api, debug):
    response = api.get("/api/v1/cases")
    assert (response.status_code, response["Location"]) == (301, "/api/v1/cases/")


def test_the_answer_keeps_its_headers(api, debug):
    response = api.get("/api/v1/nope/")
    assert response["X-Request-ID"]
    assert int(response.get("Content-Length", len(response.content))) == len(response.content)


def test_a_crash_is_500_json_in_every_mode(api, debug, monkeypatch):
    import cases.customers.api

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cases.customers.api, "search", crash)
    assert_error_shape(api.get("/api/v1/search/", {"q": "ada"}), 500, "server_error")


def test_an_unreadable_request_is_400_json_in_every_mode(debug):
    response = Client().get("/api/v1/nope/", headers={"host": "not a host"})
    assert_error_shape(response, 400, "bad_request")


def test_pages_keep_djangos_html_answers_in_every_mode(client, debug):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
