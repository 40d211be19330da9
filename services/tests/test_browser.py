"""In a real browser: a client subscribes a location in the portal, seeing the prorated cost
first; a staff member then activates the request."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cms_project.tests.browser import go_to
from services.models import Subscription
from services.subscriptions import subscribe_preview
from staff.tests.factories import TEST_PASSWORD

from .factories import ServiceFactory, SubscriberFactory, SubscriberLocationFactory

pytestmark = pytest.mark.browser


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def test_a_client_subscribes_with_a_prorated_preview_and_staff_activate_it(
    page, browser, live_server, alice_user, staff_user
):
    alice = SubscriberFactory(name="Alice Martin", user=alice_user)
    SubscriberLocationFactory(client=alice, label="Home", street="12 Oak Street")
    gig = ServiceFactory(name="Fiber 1 Gig", price=Decimal("89.99"), tax_rate=Decimal("8.25"))
    expected = subscribe_preview(service=gig)  # the same money functions, for today

    _log_in(page, live_server, alice_user.email)
    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Add a service").click()
    page.get_by_role("link", name="Subscribe to Fiber 1 Gig").click()
    page.get_by_role("link", name="Choose Home").click()

    first = page.get_by_test_id("first-month")
    expect(first).to_contain_text(_money(expected.first_total))
    expect(first).to_contain_text(f"{_money(expected.first_tax)} tax")
    if expected.prorated:
        expect(page.locator(".preview")).to_contain_text(
            f"{expected.days}/{expected.days_in_month} days"
        )
    expect(page.get_by_test_id("monthly")).to_contain_text("$97.41")  # 89.99 + 7.42 tax
    assert not Subscription.objects.exists()

    page.get_by_role("button", name="Confirm the subscription").click()
    expect(page.get_by_role("heading", name="My services")).to_be_visible()
    expect(page.locator(".list-group-item", has_text="Fiber 1 Gig")).to_contain_text("Pending")
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.PENDING

    staff_page = browser.new_page()
    _log_in(staff_page, live_server, staff_user.email)
    go_to(staff_page, "Catalog", "Subscriptions")
    staff_page.get_by_label("Status").select_option("pending")
    staff_page.get_by_role("button", name="Filter").click()
    staff_page.get_by_role("link", name="Fiber 1 Gig").click()
    expect(staff_page.get_by_label("Active from")).to_have_value(timezone.localdate().isoformat())
    staff_page.get_by_role("button", name="Activate").click()
    expect(staff_page.get_by_role("heading", name=re.compile("Fiber 1 Gig"))).to_contain_text(
        "Active"
    )
    staff_page.close()

    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
    page.reload()
    expect(page.locator(".list-group-item", has_text="Fiber 1 Gig")).to_contain_text("Active")
