"""Every answer under /api/ has the error shape, even when no API view is reached."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.factories import make_agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(make_agent())
    return client


def assert_error_shape(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert body["fields"] == {}


def test_json_nested_past_the_decoders_depth_is_malformed_input(api):
    nested = "[" * 100_000 + "]" * 100_000
    response = api.post("/api/v1/cases/", nested, content_type="application/json")
    assert_error_shape(response, 400, "malformed_request")


def test_a_body_over_the_size_limit_is_413_with_the_error_shape(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = json.dumps({"subject": "x" * 5_000})
    response = api.post("/api/v1/cases/", body, content_type="application/json")
    assert_error_shape(response, 413, "request_too_large")


@pytest.mark.parametrize(
    "path", ["/api/v1/commitments/%C2%84/keep/", "/api/v1/handoffs/abc/accept/", "/api/v1/nope/"]
)
def test_a_path_no_api_view_matches_is_404_with_the_error_shape(api, path):
    assert_error_shape(api.post(path), 404, "not_found")


def test_pages_keep_djangos_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
