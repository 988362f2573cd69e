"""Logging in and out, what needs a login, and where the navigation leads."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.pages.conftest import case_url, client_for

pytestmark = pytest.mark.django_db


def test_the_login_page_renders_with_labelled_fields():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html


def test_logging_in_leads_to_the_queue(org):
    response = Client().post(
        "/accounts/login/",
        {"username": org["owner"].username, "password": "pw-for-tests-only"},
    )
    assert response.status_code == 302 and response["Location"] == "/start/"
    landing = Client()
    landing.force_login(org["owner"])
    assert landing.get("/start/")["Location"] == "/queue/"


def test_logout_is_a_post_form_in_the_header(org):
    html = client_for(org["owner"]).get("/queue/").content.decode()
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html


def test_pages_need_a_login(org):
    for url in ["/queue/", case_url(org["case"]), "/cases/new/", "/manage/handoffs/"]:
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_audit_link_shows_only_for_managers(org):
    assert "/manage/handoffs/" not in client_for(org["owner"]).get("/queue/").content.decode()
    assert "/manage/handoffs/" in client_for(org["manager"]).get("/queue/").content.decode()


def test_the_site_root_leads_to_the_queue_or_the_login(org):
    assert Client().get("/")["Location"] == "/accounts/login/"
    assert client_for(org["owner"]).get("/")["Location"] == "/queue/"
