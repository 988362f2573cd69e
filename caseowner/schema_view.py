"""The OpenAPI document, generated once per process.

Generating it walks every view and serializer (a third of a second of CPU); it changes only
with the code, so each process keeps the document per API version and language and serves
it again. A settings change (tests) forgets them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

_documents: dict[tuple[Any, ...], Any] = {}


class SchemaView(SpectacularAPIView):
    def _get_schema_response(self, request: Request) -> Response:
        language = translation.get_language()
        # a document filtered by the reader's rights is never shared; nor is one in a language
        # the site does not speak (?lang= is the caller's: one copy each would have no end)
        if not self.serve_public or language not in dict(settings.LANGUAGES):
            return super()._get_schema_response(request)
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, language)
        if key not in _documents:
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            _documents[key] = generator.get_schema(request=request, public=True)
        filename = self._get_filename(request, version)
        return Response(
            data=_documents[key],
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )


@receiver(setting_changed)
def _forget(**kwargs: Any) -> None:
    _documents.clear()
