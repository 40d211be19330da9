"""Issue 6 in one browser story: a client pays part of an overdue invoice with the sandbox card
and sees the new balance and the receipt; staff take the rest in cash; the invoice shows paid
and the reminder schedule stops sending for it."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cms_project.tests.test_browser_foundation import log_in, log_out

from ..models import Invoice, Payment, Reminder
from ..reminders import send_reminders
from .factories import issued_invoice, line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_client_pays_part_online_staff_take_the_rest_in_cash_and_reminders_stop(
    page: Page, live_server, alice_user, alice_client, staff_user
):
    page.set_default_timeout(15_000)
    invoice = issued_invoice(client=alice_client, lines=[line("Fiber 1 Gig", unit_price="79.99")])
    today = timezone.localdate()
    Invoice.objects.filter(pk=invoice.pk).update(
        issue_date=today - timedelta(days=20), due_date=today - timedelta(days=7)
    )
    assert send_reminders(today=today) == 1  # the +7 days step goes out
    assert Reminder.objects.filter(invoice=invoice).count() == 1

    # Alice pays $30.00 of it with the sandbox card.
    log_in(page, live_server.url, alice_user.email)
    page.goto(f"{live_server.url}/portal/invoices/")
    page.get_by_role("link", name=f"Pay {invoice.number}").click()
    page.get_by_label(f"Amount to pay on {invoice.number}").fill("30.00")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/29")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    expect(page.get_by_role("heading", name="Thank you — payment received")).to_be_visible()
    expect(page.locator("#new-balance")).to_have_text("$49.99")
    online = Payment.objects.get()
    expect(page.get_by_text(online.number).first).to_be_visible()
    page.get_by_role("navigation", name="Client portal").get_by_role(
        "link", name="Payments"
    ).click()
    expect(page.get_by_role("link", name=re.compile(f"Receipt {online.number}"))).to_be_visible()
    log_out(page)

    # Staff take the rest in cash from the invoice page.
    log_in(page, live_server.url, staff_user.email)
    page.goto(f"{live_server.url}{invoice.get_absolute_url()}")
    page.get_by_role("region", name="Payments").get_by_role("link", name="Record payment").click()
    expect(page.get_by_label("Amount*")).to_have_value("49.99")
    page.get_by_label("Method*").select_option("cash")
    page.get_by_role("button", name="Record payment").click()
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("[data-figure=balance]").first).to_have_text("$0.00")
    expect(page.get_by_role("heading", name=re.compile(invoice.number))).to_contain_text("Paid")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.balance) == ("paid", Decimal("0.00"))

    # The +14 days step comes and goes: nothing is sent for a paid invoice.
    assert send_reminders(today=today + timedelta(days=7)) == 0
    assert send_reminders(today=today + timedelta(days=30)) == 0
    assert Reminder.objects.filter(invoice=invoice).count() == 1
