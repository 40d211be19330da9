"""Two requests subscribing the same location to the same service at the same moment: the
database constraint lets exactly one through, and the other gets a clear message (PostgreSQL,
real threads and transactions)."""

import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from services import subscriptions
from services.models import Subscription

from .factories import ServiceFactory, SubscriberFactory, SubscriberLocationFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race_past_the_friendly_check(monkeypatch, parties: int = 2):
    """Make every request wait at the pre-check until all have passed it, so they all reach
    the INSERT: only the database constraint can then decide."""
    barrier = threading.Barrier(parties, timeout=10)
    real = subscriptions.open_subscription_exists
    seen = threading.local()

    def check(**kwargs):
        exists = real(**kwargs)
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return exists

    monkeypatch.setattr(subscriptions, "open_subscription_exists", check)


def _run_at_once(*jobs):
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            results[index] = job()
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_portal_requests_at_once_create_one_subscription(alice_user, monkeypatch):
    alice = SubscriberFactory(user=alice_user)
    location = SubscriberLocationFactory(client=alice)
    service = ServiceFactory(name="Fiber 1 Gig")
    url = reverse("services_portal:subscribe", args=[service.pk, location.pk])
    browsers = [HttpClient(), HttpClient()]
    for browser in browsers:
        browser.force_login(alice_user)
    _race_past_the_friendly_check(monkeypatch)

    responses = _run_at_once(*(lambda b=b: b.post(url) for b in browsers))

    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    assert "already has “Fiber 1 Gig”" in refused.content.decode()
    assert Subscription.objects.filter(service=service, location=location).count() == 1


def test_a_staff_and_a_portal_request_at_once_create_one_subscription(
    alice_user, staff_user, monkeypatch
):
    alice = SubscriberFactory(user=alice_user)
    location = SubscriberLocationFactory(client=alice)
    service = ServiceFactory(name="TV Basic", category="tv")
    portal, workspace = HttpClient(), HttpClient()
    portal.force_login(alice_user)
    workspace.force_login(staff_user)
    _race_past_the_friendly_check(monkeypatch)

    responses = _run_at_once(
        lambda: portal.post(reverse("services_portal:subscribe", args=[service.pk, location.pk])),
        lambda: workspace.post(
            reverse("services:subscription_create", args=[location.pk]),
            {
                "service": service.pk,
                "quantity": "1",
                "start_date": "2025-11-12",
                "status": "active",
            },
        ),
    )

    assert sorted(r.status_code for r in responses) == [200, 302]
    assert Subscription.objects.filter(service=service, location=location).count() == 1
