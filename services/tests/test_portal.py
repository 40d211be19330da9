"""The client portal: browse, subscribe with the cost shown first, cancel, see the bill —
and never anything of another client."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from services.models import Subscription

from .factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Status = Subscription.Status


@pytest.fixture
def alice(alice_user):
    client = SubscriberFactory(name="Alice Martin", user=alice_user)
    SubscriberLocationFactory(client=client, label="Home", street="12 Oak Street")
    return client


@pytest.fixture
def bob(bob_user):
    client = SubscriberFactory(name="Bob Nguyen", user=bob_user)
    SubscriberLocationFactory(client=client, label="Bob's flat", street="9 Pine Road")
    return client


@pytest.fixture
def gig():
    return ServiceFactory(name="Fiber 1 Gig", price=D("89.99"), tax_rate=D("8.25"))


def test_the_catalog_shows_active_client_visible_services(login, alice_user, alice, gig):
    ServiceFactory(name="Internal only", visible_to_clients=False)
    ServiceFactory(name="Retired", is_active=False)
    html = login(alice_user).get(reverse("services_portal:catalog")).content.decode()
    assert "Fiber 1 Gig" in html and "$89.99" in html
    assert "Internal only" not in html and "Retired" not in html


def test_the_cost_is_shown_before_confirming(login, alice_user, alice, gig, today):
    location = alice.locations.get()
    page = login(alice_user).get(reverse("services_portal:subscribe", args=[gig.pk, location.pk]))
    html = page.content.decode()
    # 89.99 x 19/30 = 56.99, tax 8.25 % = 4.70; then 89.99 + 7.42 = 97.41 a month
    assert "12–30 Nov, 19/30 days" in html
    assert "$56.99 + $4.70 tax = <strong>$61.69</strong>" in html
    assert "$89.99 + $7.42 tax = <strong>$97.41</strong> a month" in html
    assert "Confirm the subscription" in html
    assert not Subscription.objects.exists()  # GET never subscribes


def test_a_client_subscribes_and_the_request_waits_for_staff(login, alice_user, alice, gig, today):
    location = alice.locations.get()
    client = login(alice_user)
    response = client.post(reverse("services_portal:subscribe", args=[gig.pk, location.pk]))
    assert response["Location"] == reverse("services_portal:my_services")
    sub = Subscription.objects.get()
    assert (sub.location, sub.status, sub.start_date, sub.created_by) == (
        location,
        Status.PENDING,
        today,
        alice_user,
    )
    html = client.get(reverse("services_portal:my_services")).content.decode()
    assert "Pending" in html and "we will contact you" in html


def test_a_self_service_subscription_is_active_at_once(login, alice_user, alice, today):
    tv = ServiceFactory(name="TV Basic", category="tv", self_service=True, price=D("24.00"))
    location = alice.locations.get()
    login(alice_user).post(reverse("services_portal:subscribe", args=[tv.pk, location.pk]))
    assert Subscription.objects.get().status == Status.ACTIVE


def test_subscribing_twice_gives_a_clear_message(login, alice_user, alice, gig, today):
    location = alice.locations.get()
    SubscriptionFactory(service=gig, location=location, status=Status.PENDING)
    response = login(alice_user).post(
        reverse("services_portal:subscribe", args=[gig.pk, location.pk])
    )
    assert response.status_code == 200
    assert "already has “Fiber 1 Gig”" in response.content.decode()
    assert Subscription.objects.count() == 1
    page = login(alice_user).get(reverse("services_portal:service", args=[gig.pk]))
    assert "Already subscribed (pending)" in page.content.decode()


def test_alice_can_never_subscribe_or_see_bobs_location(login, alice_user, alice, bob, gig):
    bobs_location = bob.locations.get()
    client = login(alice_user)
    url = reverse("services_portal:subscribe", args=[gig.pk, bobs_location.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not Subscription.objects.exists()
    page = client.get(reverse("services_portal:service", args=[gig.pk])).content.decode()
    assert "Pine Road" not in page and "Oak Street" in page


def test_alice_can_never_see_or_cancel_bobs_subscription(login, alice_user, alice, bob, gig):
    bobs = SubscriptionFactory(service=gig, location=bob.locations.get())
    client = login(alice_user)
    assert client.post(reverse("services_portal:cancel", args=[bobs.pk])).status_code == 404
    bobs.refresh_from_db()
    assert bobs.end_date is None
    html = client.get(reverse("services_portal:my_services")).content.decode()
    assert "Pine Road" not in html and "Fiber 1 Gig" not in html


def test_hidden_or_inactive_services_cannot_be_subscribed(login, alice_user, alice):
    location = alice.locations.get()
    client = login(alice_user)
    for service in (ServiceFactory(visible_to_clients=False), ServiceFactory(is_active=False)):
        url = reverse("services_portal:subscribe", args=[service.pk, location.pk])
        assert client.post(url).status_code == 404
    assert not Subscription.objects.exists()


def test_a_client_cancels_at_the_end_of_the_period(login, alice_user, alice, gig, today):
    sub = SubscriptionFactory(service=gig, location=alice.locations.get())
    client = login(alice_user)
    response = client.post(reverse("services_portal:cancel", args=[sub.pk]), follow=True)
    sub.refresh_from_db()
    assert (sub.status, sub.end_date) == (Status.ACTIVE, date(2025, 11, 30))
    assert "ends on November 30, 2025" in response.content.decode()


def test_a_client_cancels_a_pending_request_at_once(login, alice_user, alice, gig, today):
    sub = SubscriptionFactory(service=gig, location=alice.locations.get(), status=Status.PENDING)
    login(alice_user).post(reverse("services_portal:cancel", args=[sub.pk]))
    sub.refresh_from_db()
    assert (sub.status, sub.end_date) == (Status.CANCELLED, None)


def test_my_services_shows_the_monthly_bill(login, alice_user, alice, gig, today):
    SubscriptionFactory(service=gig, location=alice.locations.get(), start_date=today)
    html = login(alice_user).get(reverse("services_portal:my_services")).content.decode()
    assert "Monthly bill — November 2025" in html
    assert "Fiber 1 Gig — 12–30 Nov, 19/30 days" in html
    assert "$61.69" in html  # 56.99 + 4.70


def test_a_login_without_client_account_is_told_so(login, alice_user):
    client = login(alice_user)
    assert (
        "not linked to a customer account"
        in client.get(reverse("services_portal:my_services")).content.decode()
    )
    service = ServiceFactory()
    assert client.get(reverse("services_portal:service", args=[service.pk])).status_code == 404


def test_staff_cannot_use_the_portal_pages(login, staff_user, gig):
    assert login(staff_user).get(reverse("services_portal:catalog")).status_code == 403


def test_my_services_takes_constant_queries(
    login, alice_user, alice, django_assert_max_num_queries, today
):
    client = login(alice_user)
    home = alice.locations.get()
    SubscriptionFactory.create_batch(3, location=home)
    with django_assert_max_num_queries(6):
        client.get(reverse("services_portal:my_services"))
    for index in range(20):
        SubscriptionFactory(location=SubscriberLocationFactory(client=alice, label=f"L{index}"))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("services_portal:my_services"))
    assert len(response.context["bill"].lines) == 23
