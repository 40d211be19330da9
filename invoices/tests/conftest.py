"""Fixtures of the invoices tests: PDFs and storage in a temporary folder, a fixed today."""

import pytest
import time_machine

from services.tests.factories import SubscriberFactory


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def december_2026():
    """Tuesday 1 December 2026, 09:00 in Chicago: the day November 2026 is billed."""
    with time_machine.travel("2026-12-01 09:00:00-06:00", tick=False):
        yield


@pytest.fixture
def alice_client(alice_user):
    return SubscriberFactory(name="Alice Martin", email="alice@test.example", user=alice_user)


@pytest.fixture
def bob_client(bob_user):
    return SubscriberFactory(name="Bob Nguyen", email="bob@test.example", user=bob_user)
