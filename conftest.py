"""Project-wide test fixtures: the personas every test speaks of, and test-run policy.

Personas: an admin, a staff member, and two clients, Alice and Bob, who must never see each
other's data.
"""

import os
import shutil
import sys
import types

import pytest
from django.db import connection

from staff.models import Role
from staff.tests.factories import UserFactory

CHROMIUM = "/usr/bin/chromium"


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


@pytest.fixture
def fake_sms(monkeypatch):
    """Replaces `cms_project.messaging.sending` (the SMS queue, built in the messaging app)
    with a recorder: returns the list of {"to", "body"} texts queued during the test."""
    sent: list[dict] = []
    fake = types.ModuleType("cms_project.messaging.sending")

    def queue_sms(*, to, body, **kwargs):
        sent.append({"to": str(to), "body": body, **kwargs})

    fake.queue_sms = queue_sms
    monkeypatch.setitem(sys.modules, "cms_project.messaging.sending", fake)
    return sent


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


@pytest.fixture(scope="session", autouse=True)
def _allow_sync_orm_in_live_server_tests():
    # Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
    # alongside it are sequential, so Django's async-safety guard does not apply.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
