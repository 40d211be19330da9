"""Project-wide test fixtures: the personas every test speaks of, and test-run policy.

Personas: an admin, a staff member, and two clients, Alice and Bob, who must never see each
other's data.
"""

import os
import shutil
from collections.abc import Sequence

import pytest
from django.db import connection

from staff.models import Role
from staff.tests.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API keeps an event loop running in the test thread for the whole session
# once a browser test has started; the ORM calls tests make are still sequential, so Django's
# async-safety guard does not apply. (Never set this in a deployment: check --deploy refuses.)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# --- Test-run policy ---------------------------------------------------------------------
_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    # CI sets CMS_FORBID_SKIPS=1: on PostgreSQL with Chromium present nothing may be skipped,
    # so a concurrency or browser test cannot silently stop running.
    if os.environ.get("CMS_FORBID_SKIPS") == "1" and _skipped:
        print("\nCMS_FORBID_SKIPS: these tests were skipped:\n  " + "\n  ".join(_skipped))
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "psql", "pgsql"))
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "browser" in item.keywords and not shutil.which(CHROMIUM):
            item.add_marker(
                pytest.mark.skip(reason=f"{CHROMIUM} missing: apt-get install chromium")
            )


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate limits and the cached security policy live in the cache: no test sees another's.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class QueuedSms(Sequence):
    """The SMS the real messaging layer has queued so far, oldest first, as {"to", "body",
    "purpose"} dicts (read from the delivery log each time, so it is always current)."""

    def _rows(self) -> list[dict]:
        from cms_project.messaging.models import Delivery

        return [
            {"to": d.to, "body": d.body, "purpose": d.purpose}
            for d in Delivery.objects.filter(channel=Delivery.Channel.SMS).order_by("pk")
        ]

    def __getitem__(self, index):
        return self._rows()[index]

    def __len__(self) -> int:
        return len(self._rows())

    def __eq__(self, other) -> bool:
        return self._rows() == list(other)


@pytest.fixture
def sent_sms(db) -> QueuedSms:
    """SMS queued through `cms_project.messaging.sending.queue_sms` during the test."""
    return QueuedSms()


# --- Personas ----------------------------------------------------------------------------
@pytest.fixture
def admin_user(db):
    return UserFactory(
        email="admin@test.example", first_name="Ada", last_name="Admin", role=Role.ADMIN
    )


@pytest.fixture
def staff_user(db):
    return UserFactory(
        email="staff@test.example", first_name="Sam", last_name="Staff", role=Role.STAFF
    )


@pytest.fixture
def alice_user(db):
    return UserFactory(email="alice@test.example", first_name="Alice", last_name="Martin")


@pytest.fixture
def bob_user(db):
    return UserFactory(email="bob@test.example", first_name="Bob", last_name="Nguyen")


@pytest.fixture
def login(client):
    """login(user) -> Django test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


# --- Browser (Playwright driving Debian's Chromium) ---------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
