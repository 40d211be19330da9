"""A real Celery worker on Redis (db 9) checks and imports a large CSV on PostgreSQL while
the page polls its status; a bad row imports nothing and lists the error."""

import time

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction
from django.urls import reverse
from kombu import pools

from clients import importing
from clients.models import Client, ClientImport, ServiceLocation
from cms_project.celery import app as celery_app

from .test_csv import _csv, _upload
from .test_import_progress import _rows

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKER = "redis://127.0.0.1:6379/9"


def _forget_broker_connections():
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def real_worker(monkeypatch):
    monkeypatch.setattr(importing, "BACKGROUND_ROWS", 10)
    redis.Redis.from_url(BROKER).flushdb()
    overrides = {
        "task_always_eager": False,
        "broker_url": BROKER,
        "worker_hijack_root_logger": False,
    }
    saved = {key: celery_app.conf[key] for key in overrides}
    celery_app.conf.update(overrides)
    _forget_broker_connections()
    from celery.contrib.testing.worker import start_worker

    try:
        with start_worker(celery_app, perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        celery_app.conf.update(saved)
        _forget_broker_connections()
        close_old_connections()


def _poll_until_done(browser, record: ClientImport, timeout: float = 60) -> list[dict]:
    """What the page's script does: read the JSON status until it says done."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = browser.get(reverse("clients:import_status", args=[record.pk])).json()
        seen.append(status)
        if status["done"]:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the worker did not finish: {seen[-1]}")


def test_a_worker_checks_and_imports_a_large_file_while_the_page_polls(
    real_worker, login, staff_user
):
    browser = login(staff_user)
    _upload(browser, _csv(*_rows(300)))
    record = ClientImport.objects.get()
    seen = _poll_until_done(browser, record)
    assert seen[-1]["status"] == "valid" and seen[-1]["percent"] == 100
    assert not Client.objects.exists()

    response = browser.post(reverse("clients:import_commit", args=[record.pk]), follow=True)
    assert "The import has started" in response.content.decode()
    seen = _poll_until_done(browser, record)
    assert seen[-1]["status"] == "imported"
    assert Client.objects.count() == 300 and ServiceLocation.objects.count() == 300
    record.refresh_from_db()
    assert (record.client_count, record.location_count, record.errors) == (300, 300, [])


def test_a_bad_row_makes_the_worker_list_the_error_and_import_nothing(
    real_worker, login, staff_user
):
    browser = login(staff_user)
    rows = _rows(50)
    rows[40]["location_postal_code"] = ""
    _upload(browser, _csv(*rows))
    record = ClientImport.objects.get()
    assert _poll_until_done(browser, record)[-1]["status"] == "invalid"
    page = browser.get(reverse("clients:import_preview", args=[record.pk])).content.decode()
    assert "Missing location postal code." in page and "<td>42</td>" in page
    browser.post(reverse("clients:import_commit", args=[record.pk]))
    assert not Client.objects.exists()


def test_progress_inside_the_import_transaction_is_visible_to_other_connections():
    record = ClientImport.objects.create(filename="x.csv", content="", status="importing")
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with transaction.atomic():
            importing.save_progress(import_id=record.pk, percent=40, note="Saved client 4 of 10")
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT progress, progress_note FROM clients_clientimport WHERE id = %s",
                    [record.pk],
                )
                assert cursor.fetchone() == (40, "Saved client 4 of 10")
    finally:
        other.close()
