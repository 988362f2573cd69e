"""The Celery application. Configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseowner.settings")

app = Celery("caseowner")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
