"""Browser: the staff dashboard draws its charts (canvas, no console error) and passes axe; a
staff member wins an opportunity on the pipeline board and the prospect becomes a client."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from clients.models import Client
from clients.tests.factories import ClientFactory, OpportunityFactory
from cms_project.tests.browser import go_to
from cms_project.tests.test_browser_foundation import log_in
from invoices.allocation import record_payment
from invoices.drafts import create_draft
from invoices.issuing import issue_invoice
from invoices.tests.factories import line
from services.tests.factories import (
    ServiceFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _some_data():
    gig = ServiceFactory(name="Fiber 1 Gig", price="89.99")
    for name in ("Ada Lovelace", "Grace Hopper", "Linus Torvalds"):
        client = ClientFactory(name=name)
        SubscriptionFactory(service=gig, location=SubscriberLocationFactory(client=client))
        issue_invoice(invoice=create_draft(client=client, lines=[line(unit_price="89.99")]))
        record_payment(
            client=client, amount=Decimal("50.00"), method="cash", received_on=date.today()
        )


def test_the_dashboard_draws_its_charts(page: Page, live_server, admin_user, axe):
    _some_data()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, live_server.url, admin_user.email)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    canvases = page.locator("canvas")
    expect(canvases).to_have_count(6)
    # Chart.js sized each canvas: it drew.
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every(c => c.width > 0 && c.height > 0)"
    )
    assert page.evaluate("() => Object.keys(Chart.instances).length") == 6
    expect(page.locator("[data-kpi=mrr]")).to_have_text("$269.97")
    page.screenshot(path="/tmp/reports-dashboard.png", full_page=True)
    assert errors == []
    axe(page, context="admin: dashboard")
    page.get_by_label("Period", exact=True).select_option("last_12_months")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/staff/?period=last_12_months")
    expect(canvases).to_have_count(6)


def test_staff_win_an_opportunity_and_the_prospect_becomes_a_client(
    page: Page, live_server, staff_user, axe
):
    prospect = ClientFactory(name="Nadia Rahman", status=Client.Status.PROSPECT)
    OpportunityFactory(
        client=prospect, name="Nadia home fiber", stage="negotiation", owner=staff_user
    )
    OpportunityFactory(name="Campus link", stage="proposal", value="12000.00", owner=staff_user)
    log_in(page, live_server.url, staff_user.email)
    go_to(page, "Clients", "Pipeline")
    expect(page.get_by_role("heading", name="Sales pipeline")).to_be_visible()
    expect(page.locator("[data-forecast=weighted]")).to_have_text("$6,750.00")
    page.screenshot(path="/tmp/reports-pipeline.png", full_page=True)
    axe(page, context="staff: pipeline board")

    card = page.locator("[data-opportunity]", has_text="Nadia home fiber")
    card.get_by_label("Move Nadia home fiber to").select_option("won")
    card.get_by_role("button", name="Move Nadia home fiber").click()
    expect(page.get_by_text("Nadia Rahman is now an active client.")).to_be_visible()
    expect(page.get_by_role("link", name="Subscribe Nadia Rahman to a service")).to_be_visible()
    prospect.refresh_from_db()
    assert prospect.status == Client.Status.ACTIVE
    page.screenshot(path="/tmp/reports-won.png", full_page=True)


def test_staff_open_a_report_from_the_menu(page: Page, live_server, staff_user):
    _some_data()
    log_in(page, live_server.url, staff_user.email)
    page.get_by_role("navigation", name="Staff workspace").get_by_role(
        "link", name="Reports", exact=True
    ).click()
    page.get_by_role("link", name="Revenue by service and month").click()
    table = page.locator("[data-report=main]")
    expect(table).to_contain_text("Other charges")
    expect(table.locator("tfoot")).to_contain_text("$269.97")
    page.screenshot(path="/tmp/reports-revenue.png", full_page=True)
    page.goto(f"{live_server.url}/staff/reports/accounts/")
    expect(page.locator("[data-report=main] tbody tr")).to_have_count(3)
    page.screenshot(path="/tmp/reports-accounts.png", full_page=True)


def test_the_client_dashboard_shows_the_balance_and_pay_now(
    page: Page, live_server, alice_user, axe
):
    from services.tests.factories import SubscriberFactory

    alice = SubscriberFactory(user=alice_user, name="Alice Martin")
    gig = ServiceFactory(name="Fiber 1 Gig", price="89.99")
    SubscriptionFactory(service=gig, location=SubscriberLocationFactory(client=alice, label="Home"))
    issue_invoice(invoice=create_draft(client=alice, lines=[line(unit_price="89.99")]))
    log_in(page, live_server.url, alice_user.email)
    expect(page.locator("[data-home=balance]")).to_contain_text("$89.99")
    expect(page.locator("[data-home=next-bill]")).to_have_text("$89.99")
    expect(page.locator("[data-home-service]")).to_contain_text("Fiber 1 Gig")
    expect(page.get_by_role("link", name="Pay now")).to_be_visible()
    page.screenshot(path="/tmp/reports-portal.png", full_page=True)
    axe(page, context="client: portal home")
