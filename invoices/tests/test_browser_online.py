"""Chromium: Alice pays part of an invoice on the sandbox test-card page and sees her new
balance; a declined card shows its message; axe-core on each new page; screenshots of them
go to $SCREENSHOT_DIR when it is set (for looking at, not for asserting)."""

import os
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from cms_project.tests.test_browser_foundation import log_in, log_out

from ..models import Payment
from .factories import issued_invoice, line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def test_alice_pays_part_of_an_invoice_then_a_card_is_declined(
    page: Page, live_server, alice_user, alice_client, staff_user, axe
):
    invoice = issued_invoice(client=alice_client, lines=[line("Fiber 1 Gig", unit_price="79.99")])
    other = issued_invoice(client=alice_client, lines=[line("Router rental", unit_price="5.00")])
    log_in(page, live_server.url, alice_user.email)

    page.goto(f"{live_server.url}/portal/invoices/")
    page.get_by_role("link", name=f"Pay {invoice.number}").click()
    expect(page.get_by_role("heading", name="Pay online")).to_be_visible()
    expect(page.get_by_label(f"Pay invoice {invoice.number}")).to_be_checked()
    expect(page.get_by_label(f"Pay invoice {other.number}")).not_to_be_checked()
    amount = page.get_by_label(f"Amount to pay on {invoice.number}")
    expect(amount).to_have_value("79.99")
    axe(page, context="portal: pay online")
    shot(page, "portal-pay")

    # Too much first: the message is next to the amount.
    amount.fill("80.00")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_text(f"more than the balance of {invoice.number}")).to_be_visible()
    page.get_by_label(f"Amount to pay on {invoice.number}").fill("50.00")
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", name=re.compile("TEST MODE"))).to_be_visible()
    expect(page.get_by_text("no real money", exact=False).first).to_be_visible()
    axe(page, context="portal: sandbox card page")
    shot(page, "portal-sandbox-card")

    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/29")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.locator("#declined")).to_have_text(
        "Your card was declined. Nothing was charged; try another card."
    )
    expect(page.get_by_label("Card number")).to_have_value("")
    assert Payment.objects.count() == 0
    axe(page, context="portal: declined card", phone=False)
    shot(page, "portal-sandbox-declined")

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/29")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.get_by_role("heading", name="Thank you — payment received")).to_be_visible()
    # Balance: 79.99 + 5.00 − 50.00
    expect(page.locator("#new-balance")).to_have_text("$34.99")
    payment = Payment.objects.get()
    assert payment.amount == Decimal("50.00") and payment.card_last4 == "4242"
    expect(page.get_by_text(payment.number).first).to_be_visible()
    axe(page, context="portal: payment received")
    shot(page, "portal-payment-received")

    page.get_by_role("link", name="Statement").first.click()
    expect(page.locator("#statement-balance")).to_have_text("$34.99")
    axe(page, context="portal: statement")
    shot(page, "portal-statement")
    log_out(page)

    log_in(page, live_server.url, staff_user.email)
    page.goto(f"{live_server.url}/staff/invoices/statements/{alice_client.pk}/")
    expect(page.locator("#statement-balance")).to_have_text("$34.99")
    axe(page, context="staff: client statement")
    shot(page, "staff-statement")
