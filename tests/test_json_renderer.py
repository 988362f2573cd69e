"""The API's JSON is DRF's, byte for byte, written faster."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from caseowner.api import JSONRenderer

PAYLOAD = {
    "at": datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=UTC),
    "local": datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))),
    "day": date(2026, 3, 2),
    "clock": time(12, 30, 0, 250000),
    "amount": Decimal("12.50"),
    "label": gettext_lazy("Promise kept"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    7: "an integer key",
    "text": "Zoë said “fine”\u2028and left\u2029.",
    "rows": [{"n": 1, "ok": True, "none": None, "ratio": 0.25}],
    "nested": ({"tuple": (1, 2)},),
}


def test_same_bytes_as_drf():
    assert JSONRenderer().render(PAYLOAD) == DrfJSONRenderer().render(PAYLOAD)


def test_u2028_is_escaped_like_drf():
    out = JSONRenderer().render({"t": "a\u2028b"})
    assert out == b'{"t":"a\\u2028b"}'


def test_indent_asked_for_is_honoured():
    out = JSONRenderer().render({"a": [1]}, "application/json; indent=2", {})
    assert out == DrfJSONRenderer().render({"a": [1]}, "application/json; indent=2", {})
    assert b"\n" in out


def test_integer_past_64_bits_still_written():
    assert JSONRenderer().render({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_none_is_empty_body():
    assert JSONRenderer().render(None) == b""


def test_api_answers_with_it(client, django_user_model):
    user = django_user_model.objects.create_user("renderer-probe", password="x")
    client.force_login(user)
    response = client.get("/api/v1/queue/", headers={"accept": "application/json"})
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
