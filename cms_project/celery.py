"""Celery application. Tasks run eagerly in-process when CELERY_BROKER_URL is unset.

Workers and beat: `celery -A cms_project worker` / `celery -A cms_project beat` with
CELERY_BROKER_URL=redis://127.0.0.1:6379/0 (see docs/messaging.md). The beat schedule is
`CELERY_BEAT_SCHEDULE` in the settings.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms_project.settings.local")

app = Celery("cms_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _no_phantom_broker(sender, **kwargs):
    # Even eager calls acquire a producer; with no broker configured kombu would describe one
    # on amqp://localhost (and warn about it). The in-memory transport is the honest default.
    if sender.conf.task_always_eager and not sender.conf.broker_url:
        sender.conf.broker_url = "memory://localhost/"
