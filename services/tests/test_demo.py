"""The demo catalog and subscriptions: realistic, and safe to load twice."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from services.catalog import price_in_effect
from services.demo import seed_demo_catalog, seed_demo_subscriptions
from services.models import Service, Subscription
from services.monthly_bill import monthly_bill

from .factories import SubscriberFactory, SubscriberLocationFactory

pytestmark = pytest.mark.django_db


def test_the_demo_catalog_has_a_price_history(today):
    services = seed_demo_catalog()
    assert set(services) >= {
        "Fiber 300",
        "Fiber 1 Gig",
        "Fiber 2 Gig",
        "TV Basic",
        "Home Phone",
        "Wi-Fi router rental",
        "Mesh unit rental",
        "Installation fee",
    }
    gig = services["Fiber 1 Gig"]
    assert gig.prices.count() == 2
    assert price_in_effect(service=gig, on=today) == Decimal("89.99")
    assert price_in_effect(service=gig, on=date(2024, 6, 1)) == Decimal("79.99")
    assert services["Installation fee"].billing_cycle == Service.BillingCycle.ONE_TIME


def test_without_clients_the_demo_subscribes_nobody(today):
    assert seed_demo_subscriptions() == 0
    assert Service.objects.count() == 8


def test_every_location_gets_subscriptions_once(today):
    for _ in range(3):
        client = SubscriberFactory(signup_date=date(2024, 3, 1))
        SubscriberLocationFactory(client=client)
    recent = SubscriberLocationFactory(client=SubscriberFactory(signup_date=date(2025, 11, 1)))
    created = seed_demo_subscriptions()
    assert created == Subscription.objects.count() > 4
    assert seed_demo_subscriptions() == 0  # idempotent
    assert Subscription.objects.filter(service__category="internet").count() == 4
    assert recent.subscriptions.filter(service__name="Installation fee").exists()
    bill = monthly_bill(client=recent.client)
    assert bill.total > 0


def test_seed_demo_loads_the_catalog(settings, today):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    output = StringIO()
    call_command("seed_demo", stdout=output)
    assert "0 new subscriptions" in output.getvalue()
    assert Service.objects.count() == 8
