"""Celery application. Tasks run eagerly in-process when CELERY_BROKER_URL is unset."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms_project.settings.local")

app = Celery("cms_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
