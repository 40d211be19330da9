"""The audit trail of the services app: catalog changes, prices and every step of a
subscription leave one entry each, with the actor, the object and the values before and after."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from services.models import Service, Subscription
from services.tests.factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)
from staff.audit import action_labels
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db
D = Decimal

NEW_SERVICE = {
    "name": "Fiber 2 Gig",
    "category": "internet",
    "billing_cycle": "monthly",
    "description": "Symmetric 2 Gbit/s.",
    "tax_rate": "8.25",
    "visible_to_clients": "on",
    "price": "119.99",
    "price_effective_from": "2025-11-12",
}


def _only(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def test_adding_a_service_records_its_details_and_first_price(login, staff_user, today):
    login(staff_user).post(reverse("services:service_create"), NEW_SERVICE)
    service = Service.objects.get()
    entry = _only("service.create")
    assert (entry.actor, entry.object_type, entry.object_id) == (
        staff_user,
        "services.service",
        str(service.pk),
    )
    assert entry.changes["price"] == [None, "119.99"]
    assert entry.changes["tax_rate"] == [None, "8.25"]
    assert entry.note == "price from 2025-11-12"


def test_editing_a_service_records_before_and_after(login, staff_user, today):
    service = ServiceFactory(name="TV Basic", category="tv", tax_rate=D("8.25"))
    data = {**NEW_SERVICE, "name": "TV Basic Plus", "category": "tv"}
    login(staff_user).post(reverse("services:service_edit", args=[service.pk]), data)
    entry = _only("service.update")
    assert entry.actor == staff_user
    assert entry.changes["name"] == ["TV Basic", "TV Basic Plus"]
    assert entry.changes["description"] == ["", "Symmetric 2 Gbit/s."]


def test_a_price_change_records_the_old_and_new_price_and_the_day(login, staff_user, today):
    service = ServiceFactory(price=D("49.99"))
    login(staff_user).post(
        reverse("services:service_price", args=[service.pk]),
        {"amount": "54.99", "effective_from": "2025-12-01"},
    )
    entry = _only("service.price_change")
    assert entry.actor == staff_user
    assert entry.object_id == str(service.pk)
    assert entry.changes == {"price": ["49.99", "54.99"]}
    assert entry.note == "from 2025-12-01"


def test_replacing_and_withdrawing_a_scheduled_price_are_recorded(login, staff_user, today):
    service = ServiceFactory(price=D("49.99"))
    browser = login(staff_user)
    url = reverse("services:service_price", args=[service.pk])
    browser.post(url, {"amount": "54.99", "effective_from": "2025-12-01"})
    browser.post(url, {"amount": "52.99", "effective_from": "2025-12-01"})
    replaced = AuditEntry.objects.filter(action="service.price_change").order_by("pk").last()
    assert replaced.changes == {"price": ["54.99", "52.99"]}
    assert "replaces a scheduled price" in replaced.note
    scheduled = service.prices.get(effective_from=date(2025, 12, 1))
    browser.post(reverse("services:price_withdraw", args=[service.pk, scheduled.pk]))
    assert _only("service.price_withdraw").changes == {"price": ["52.99", None]}


def test_deactivating_reactivating_and_deleting_a_service_are_recorded(
    login, staff_user, admin_user, today
):
    service = ServiceFactory()
    browser = login(staff_user)
    browser.post(reverse("services:service_deactivate", args=[service.pk]))
    browser.post(reverse("services:service_reactivate", args=[service.pk]))
    assert _only("service.deactivate").changes == {"is_active": [True, False]}
    assert _only("service.reactivate").changes == {"is_active": [False, True]}
    pk = service.pk
    login(admin_user).post(reverse("services:service_delete", args=[pk]))
    entry = _only("service.delete")
    assert (entry.actor, entry.object_id) == (admin_user, str(pk))
    assert entry.changes["name"][1] is None


def test_a_refused_deletion_records_nothing(login, admin_user, today):
    sub = SubscriptionFactory()
    login(admin_user).post(reverse("services:service_delete", args=[sub.service.pk]))
    assert not AuditEntry.objects.filter(action="service.delete").exists()


def test_every_step_of_a_subscription_is_recorded(login, staff_user, today):
    location = SubscriberLocationFactory()
    service = ServiceFactory(name="Fiber 1 Gig")
    browser = login(staff_user)
    browser.post(
        reverse("services:subscription_create", args=[location.pk]),
        {
            "service": service.pk,
            "quantity": "1",
            "start_date": "2025-11-12",
            "end_date": "",
            "status": "pending",
            "agreed_price": "",
            "agreed_price_until": "",
            "equipment": "",
        },
    )
    sub = Subscription.objects.get()
    created = _only("subscription.create")
    assert (created.actor, created.object_type, created.object_id) == (
        staff_user,
        "services.subscription",
        str(sub.pk),
    )
    assert created.changes["status"] == [None, "pending"]
    assert created.changes["service"] == [None, f"{service} (#{service.pk})"]

    browser.post(
        reverse("services:subscription_activate", args=[sub.pk]), {"start_date": "2025-11-12"}
    )
    assert _only("subscription.activate").changes == {"status": ["pending", "active"]}
    browser.post(
        reverse("services:subscription_change", args=[sub.pk]),
        {"quantity": "3", "agreed_price": "10.00", "agreed_price_until": "2026-03-31"},
    )
    assert _only("subscription.change").changes == {
        "quantity": [1, 3],
        "agreed_price": [None, "10.00"],
        "agreed_price_until": [None, "2026-03-31"],
    }
    browser.post(reverse("services:subscription_suspend", args=[sub.pk]))
    assert _only("subscription.suspend").changes == {"status": ["active", "suspended"]}
    browser.post(reverse("services:subscription_resume", args=[sub.pk]))
    assert _only("subscription.resume").changes == {"status": ["suspended", "active"]}
    browser.post(reverse("services:subscription_cancel", args=[sub.pk]), {"effective_date": ""})
    cancel = _only("subscription.cancel")
    assert cancel.changes == {"end_date": [None, "2025-11-30"]}
    assert cancel.actor == staff_user
    assert (
        AuditEntry.objects.filter(
            object_type="services.subscription", object_id=str(sub.pk)
        ).count()
        == 6
    )


def test_a_refused_change_records_nothing(login, staff_user, today):
    sub = SubscriptionFactory(status="cancelled", end_date=date(2025, 10, 31))
    login(staff_user).post(reverse("services:subscription_suspend", args=[sub.pk]))
    assert not AuditEntry.objects.filter(action__startswith="subscription.").exists()


def test_a_client_subscribing_and_cancelling_in_the_portal_is_recorded(login, alice_user, today):
    client = SubscriberFactory(user=alice_user)
    location = SubscriberLocationFactory(client=client)
    gig = ServiceFactory(name="Fiber 1 Gig", self_service=True)
    browser = login(alice_user)
    browser.post(reverse("services_portal:subscribe", args=[gig.pk, location.pk]))
    sub = Subscription.objects.get()
    created = _only("subscription.create")
    assert (created.actor, created.note) == (alice_user, "from the client portal")
    browser.post(reverse("services_portal:cancel", args=[sub.pk]))
    assert _only("subscription.cancel").actor == alice_user


def test_a_suspension_by_the_system_records_no_actor_and_says_why(today):
    from services.subscriptions import suspend_subscription

    sub = SubscriptionFactory()
    suspend_subscription(subscription=sub, note="invoices overdue by 30 days")
    entry = _only("subscription.suspend")
    assert (entry.actor, entry.actor_label, entry.note) == (None, "", "invoices overdue by 30 days")


def test_every_action_of_the_services_app_has_a_label():
    labels = action_labels()
    assert {a for a in labels if a.startswith(("service.", "subscription."))} == {
        "service.create",
        "service.update",
        "service.price_change",
        "service.price_withdraw",
        "service.deactivate",
        "service.reactivate",
        "service.delete",
        "subscription.create",
        "subscription.change",
        "subscription.activate",
        "subscription.suspend",
        "subscription.resume",
        "subscription.cancel",
    }
