from django.apps import apps
from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import (
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from caseowner.converters import IdConverter
from caseowner.schema_view import SchemaView

register_converter(IdConverter, "id")

api_v1 = [
    path("", include("cases.api_urls")),
    path("", include("commitments.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("reports.api_urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("caseowner.ops.urls")),
    path("", include("reports.urls")),
    path("", include("notifications.urls")),
    path("", include("commitments.urls")),
    path("", include("cases.urls")),
]

# Development pages (the mailbox at /dev/mail/) exist only while the demo app is installed,
# that is with DEBUG on; production never installs it, so there they are a 404.
if apps.is_installed("demo"):
    urlpatterns.insert(0, path("dev/", include("demo.urls")))

handler400 = "caseowner.api.bad_request"
handler404 = "caseowner.api.not_found"
handler500 = "caseowner.api.server_error"
