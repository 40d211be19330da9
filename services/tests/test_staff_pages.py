"""Staff workspace pages: catalog, prices, subscriptions, the bill; rights of staff and admins;
bad input answered next to the field."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from services.models import Service, ServicePrice, Subscription

from .factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Status = Subscription.Status

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


# --- Catalog ---------------------------------------------------------------------------------
def test_staff_add_a_service_with_its_first_price(login, staff_user, today):
    response = login(staff_user).post(reverse("services:service_create"), NEW_SERVICE)
    service = Service.objects.get(name="Fiber 2 Gig")
    assert response.status_code == 302
    assert response["Location"] == reverse("services:service_detail", args=[service.pk])
    assert service.tax_rate == D("8.25") and service.visible_to_clients
    assert service.prices.get().amount == D("119.99")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"price": "-5"}, "price", "cannot be negative"),
        ({"price": "49.999"}, "price", "at most 2 decimal places"),
        ({"price": "abc"}, "price", "Enter a price"),
        ({"price": ""}, "price", "This field is required"),
        ({"name": ""}, "name", "This field is required"),
        ({"tax_rate": "-1"}, "tax_rate", "cannot be negative"),
        ({"tax_rate": "101"}, "tax_rate", "up to 100"),
        ({"category": "fee"}, "billing_cycle", "bill once"),
        ({"price_effective_from": "not a date"}, "price_effective_from", "valid date"),
    ],
)
def test_bad_service_input_is_answered_next_to_the_field(
    login, staff_user, today, changes, field, message
):
    response = login(staff_user).post(
        reverse("services:service_create"), {**NEW_SERVICE, **changes}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Service.objects.exists()
    assert not ServicePrice.objects.exists()


def test_a_second_active_entry_at_the_same_price_is_refused(login, staff_user, today):
    ServiceFactory(name="Fiber 2 Gig", price=D("119.99"))
    response = login(staff_user).post(reverse("services:service_create"), NEW_SERVICE)
    assert response.status_code == 200
    assert "one catalog entry per price point" in response.context["form"].errors["price"][0]


def test_staff_edit_a_service(login, staff_user, today):
    service = ServiceFactory(name="TV Basic", category="tv")
    data = {**NEW_SERVICE, "name": "TV  Basic Plus ", "category": "tv"}
    response = login(staff_user).post(reverse("services:service_edit", args=[service.pk]), data)
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name == "TV Basic Plus"


def test_staff_schedule_a_price_and_see_the_history(login, staff_user, today):
    service = ServiceFactory(price=D("49.99"))
    client = login(staff_user)
    response = client.post(
        reverse("services:service_price", args=[service.pk]),
        {"amount": "54.99", "effective_from": "2025-12-01"},
    )
    assert response.status_code == 302
    page = client.get(reverse("services:service_detail", args=[service.pk]))
    html = page.content.decode()
    assert "$54.99" in html and "Scheduled" in html and "In effect" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-1", "effective_from": "2025-12-01"}, "amount", "cannot be negative"),
        ({"amount": "1.234", "effective_from": "2025-12-01"}, "amount", "2 decimal places"),
        ({"amount": "54.99", "effective_from": "2025-11-11"}, "effective_from", "today or later"),
        ({"amount": "54.99", "effective_from": ""}, "effective_from", "required"),
    ],
)
def test_bad_price_changes_are_answered_next_to_the_field(
    login, staff_user, today, data, field, message
):
    service = ServiceFactory(price=D("49.99"))
    response = login(staff_user).post(reverse("services:service_price", args=[service.pk]), data)
    assert response.status_code == 200
    assert message in " ".join(response.context["price_form"].errors[field])
    assert service.prices.count() == 1


def test_catalog_list_takes_constant_queries(login, staff_user, django_assert_max_num_queries):
    client = login(staff_user)
    ServiceFactory.create_batch(5)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("services:catalog"))
    assert response.status_code == 200
    for service in ServiceFactory.create_batch(45):
        SubscriptionFactory(service=service)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("services:catalog"))
    assert len(response.context["page"]) == 50
    assert "Active subscribers" in response.content.decode()


# --- Rights -------------------------------------------------------------------------------------
def test_staff_cannot_delete_a_service(login, staff_user):
    service = ServiceFactory()
    assert (
        login(staff_user).post(reverse("services:service_delete", args=[service.pk])).status_code
        == 403
    )
    assert Service.objects.filter(pk=service.pk).exists()


def test_admins_delete_a_service_without_subscriptions(login, admin_user):
    service = ServiceFactory()
    response = login(admin_user).post(reverse("services:service_delete", args=[service.pk]))
    assert response["Location"] == reverse("services:catalog")
    assert not Service.objects.filter(pk=service.pk).exists()


def test_a_service_with_subscriptions_is_only_deactivated_and_the_page_says_why(login, admin_user):
    service = ServiceFactory(name="Fiber 300")
    SubscriptionFactory(service=service)
    client = login(admin_user)
    page = client.get(reverse("services:service_detail", args=[service.pk])).content.decode()
    assert "can only be deactivated" in page
    response = client.post(reverse("services:service_delete", args=[service.pk]), follow=True)
    assert Service.objects.filter(pk=service.pk).exists()
    assert "can only be deactivated" in response.content.decode()
    client.post(reverse("services:service_deactivate", args=[service.pk]))
    service.refresh_from_db()
    assert not service.is_active


def test_staff_see_no_delete_button(login, staff_user):
    service = ServiceFactory()
    page = login(staff_user).get(reverse("services:service_detail", args=[service.pk]))
    assert reverse("services:service_delete", args=[service.pk]) not in page.content.decode()


def test_clients_cannot_reach_staff_pages(login, alice_user):
    service = ServiceFactory()
    client = login(alice_user)
    assert client.get(reverse("services:catalog")).status_code == 403
    assert client.post(reverse("services:service_deactivate", args=[service.pk])).status_code == 403
    service.refresh_from_db()
    assert service.is_active


# --- Subscriptions ------------------------------------------------------------------------------
@pytest.fixture
def location():
    return SubscriberLocationFactory(city="Springfield")


def _subscribe_data(service, **changes):
    return {
        "service": service.pk,
        "quantity": "1",
        "start_date": "2025-11-12",
        "end_date": "",
        "status": "active",
        "agreed_price": "",
        "agreed_price_until": "",
        "equipment": "",
        **changes,
    }


def test_staff_assign_a_service_to_a_location(login, staff_user, location, today):
    service = ServiceFactory()
    response = login(staff_user).post(
        reverse("services:subscription_create", args=[location.pk]),
        _subscribe_data(service, quantity="2", agreed_price="39.99"),
    )
    sub = Subscription.objects.get()
    assert response["Location"] == reverse("services:subscription_detail", args=[sub.pk])
    assert (sub.quantity, sub.agreed_price, sub.status) == (2, D("39.99"), Status.ACTIVE)
    assert sub.created_by == staff_user


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "at least 1"),
        ({"quantity": "1.5"}, "quantity", "whole number"),
        ({"end_date": "2025-11-01"}, "end_date", "before the start date"),
        ({"agreed_price": "-3"}, "agreed_price", "cannot be negative"),
        ({"agreed_price": "9.999"}, "agreed_price", "2 decimal places"),
        ({"agreed_price_until": "2026-01-01"}, "agreed_price_until", "Set the agreed price"),
        ({"start_date": ""}, "start_date", "required"),
        ({"status": "cancelled"}, "status", "valid choice"),
    ],
)
def test_bad_subscription_input_is_answered_next_to_the_field(
    login, staff_user, location, today, changes, field, message
):
    service = ServiceFactory()
    response = login(staff_user).post(
        reverse("services:subscription_create", args=[location.pk]),
        _subscribe_data(service, **changes),
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Subscription.objects.exists()


def test_a_duplicate_subscription_is_answered_next_to_the_service(
    login, staff_user, location, today
):
    service = ServiceFactory(name="Fiber 1 Gig")
    SubscriptionFactory(service=service, location=location)
    response = login(staff_user).post(
        reverse("services:subscription_create", args=[location.pk]), _subscribe_data(service)
    )
    assert response.status_code == 200
    assert "already has “Fiber 1 Gig”" in response.context["form"].errors["service"][0]
    assert Subscription.objects.count() == 1


def test_staff_change_suspend_resume_and_cancel(login, staff_user, today):
    sub = SubscriptionFactory()
    client = login(staff_user)
    client.post(
        reverse("services:subscription_change", args=[sub.pk]),
        {"quantity": "3", "agreed_price": "10.00", "agreed_price_until": "2026-03-31"},
    )
    sub.refresh_from_db()
    assert (sub.quantity, sub.agreed_price, sub.agreed_price_until) == (
        3,
        D("10.00"),
        date(2026, 3, 31),
    )
    client.post(reverse("services:subscription_suspend", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.status == Status.SUSPENDED
    client.post(reverse("services:subscription_resume", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    client.post(reverse("services:subscription_cancel", args=[sub.pk]), {"effective_date": ""})
    sub.refresh_from_db()
    assert sub.end_date == date(2025, 11, 30)


def test_a_bad_change_or_cancellation_date_is_answered_next_to_the_field(login, staff_user, today):
    sub = SubscriptionFactory()
    client = login(staff_user)
    response = client.post(
        reverse("services:subscription_change", args=[sub.pk]),
        {"quantity": "0", "agreed_price": "", "agreed_price_until": ""},
    )
    assert "at least 1" in response.context["change_form"].errors["quantity"][0]
    response = client.post(
        reverse("services:subscription_cancel", args=[sub.pk]), {"effective_date": "2025-10-01"}
    )
    assert response.status_code == 200
    assert "current billing period" in response.context["cancel_form"].errors["effective_date"][0]
    sub.refresh_from_db()
    assert (sub.quantity, sub.end_date) == (1, None)


def test_acting_on_an_ended_subscription_is_refused_with_a_message(login, staff_user, today):
    sub = SubscriptionFactory(status=Status.CANCELLED, end_date=date(2025, 10, 31))
    client = login(staff_user)
    for name, data in [
        ("services:subscription_change", {"quantity": "2"}),
        ("services:subscription_cancel", {"effective_date": ""}),
        ("services:subscription_activate", {"start_date": "2025-11-12"}),
        ("services:subscription_suspend", {}),
    ]:
        response = client.post(reverse(name, args=[sub.pk]), data, follow=True)
        assert response.status_code == 200
        assert "cancelled subscription cannot be" in response.content.decode()
    sub.refresh_from_db()
    assert (sub.status, sub.quantity, sub.end_date) == (Status.CANCELLED, 1, date(2025, 10, 31))


def test_staff_activate_a_pending_request(login, staff_user, today):
    sub = SubscriptionFactory(status=Status.PENDING, start_date=date(2025, 11, 3))
    response = login(staff_user).post(
        reverse("services:subscription_activate", args=[sub.pk]), {"start_date": "2025-11-12"}
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.status, sub.start_date) == (Status.ACTIVE, today)


def test_subscription_list_filters_by_service_status_and_city(login, staff_user):
    gig = ServiceFactory(name="Fiber 1 Gig")
    hit = SubscriptionFactory(service=gig, location=SubscriberLocationFactory(city="Decatur"))
    SubscriptionFactory(service=gig, location=SubscriberLocationFactory(city="Peoria"))
    SubscriptionFactory(
        service=gig, status=Status.PENDING, location=SubscriberLocationFactory(city="Decatur")
    )
    SubscriptionFactory(location=SubscriberLocationFactory(city="Decatur"))
    response = login(staff_user).get(
        reverse("services:subscription_list"),
        {"service": gig.pk, "status": "active", "city": "decatur"},
    )
    assert list(response.context["page"]) == [hit]


def test_subscription_list_takes_constant_queries(login, staff_user, django_assert_max_num_queries):
    client = login(staff_user)
    SubscriptionFactory.create_batch(5)
    with django_assert_max_num_queries(7):
        assert client.get(reverse("services:subscription_list")).status_code == 200
    SubscriptionFactory.create_batch(50)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("services:subscription_list"), {"status": "active"})
    assert len(response.context["page"]) == 50


def test_the_location_search_finds_a_client_by_name(login, staff_user):
    location = SubscriberLocationFactory(client=SubscriberFactory(name="Zoe Quill"))
    SubscriberLocationFactory()
    response = login(staff_user).get(reverse("services:location_search"), {"q": "quill"})
    assert list(response.context["results"]) == [location]


# --- The monthly bill page -------------------------------------------------------------------
def test_staff_see_a_clients_monthly_bill(login, staff_user, today):
    client_record = SubscriberFactory(name="Alice Martin")
    home = SubscriberLocationFactory(client=client_record)
    SubscriptionFactory(
        service=ServiceFactory(name="Fiber 1 Gig", price=D("89.99")),
        location=home,
        start_date=date(2025, 11, 12),
    )
    url = reverse("services:client_bill", args=[client_record.pk])
    html = login(staff_user).get(url).content.decode()
    assert "Fiber 1 Gig — 12–30 Nov, 19/30 days" in html
    assert "$56.99" in html
    html = login(staff_user).get(url, {"month": "2025-12"}).content.decode()
    assert "December 2025" in html and "$89.99" in html
    # A bad month falls back to the current one rather than failing.
    assert login(staff_user).get(url, {"month": "2025-13"}).status_code == 200


def test_the_bill_fragment_renders_on_other_apps_pages(today):
    from django.template import Context, Template

    client_record = SubscriberFactory()
    SubscriptionFactory(
        service=ServiceFactory(name="TV Basic", price=D("24.50")),
        location=SubscriberLocationFactory(client=client_record),
    )
    html = Template("{% load services_bill %}{% monthly_bill client %}").render(
        Context({"client": client_record})
    )
    assert "TV Basic" in html and "$24.50" in html and "November 2025" in html
