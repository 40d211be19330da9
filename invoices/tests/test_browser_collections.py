"""Browser test of collections: staff open Late payers from the navigation, send a reminder
from a row, pause a client until a date; axe finds nothing serious on the pages. Admins open
the reminder texts. Playwright drives Debian's Chromium against live_server."""

import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cms_project.tests.browser import go_to
from cms_project.tests.test_browser_foundation import log_in, log_out

from ..allocation import record_payment
from ..models import Invoice, PaymentMethod, Reminder
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("COLLECT_SCREENSHOTS")  # a folder: save what the test sees


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def owe(client, amount: str, days_late: int) -> Invoice:
    invoice = issued_invoice(client=client, lines=[line(unit_price=amount)])
    Invoice.objects.filter(pk=invoice.pk).update(
        due_date=timezone.localdate() - timedelta(days=days_late)
    )
    return invoice


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_staff_send_a_reminder_and_pause_a_client_from_late_payers(
    page: Page, live_server, staff_user, admin_user, axe
):
    ann = SubscriberFactory(name="Ann Able", phone="+13125550111", consent_sms=True)
    owe(ann, "120.00", 45)
    owe(ann, "30.00", 5)
    bert = SubscriberFactory(name="Bert Bloggs")
    owe(bert, "80.50", 100)
    record_payment(
        client=bert,
        amount=Decimal("0.50"),
        method=PaymentMethod.CASH,
        received_on=timezone.localdate(),
    )

    log_in(page, live_server.url, staff_user.email)
    go_to(page, "Billing", "Late payers")
    expect(page.get_by_role("heading", name="Late payers")).to_be_visible()
    expect(page.locator("[data-total=overdue]")).to_have_text("$230.00")
    row = page.locator(f"tr[data-client='{ann.account_number}']")
    expect(row.locator("[data-figure=overdue]")).to_have_text("$150.00")
    expect(row.locator("[data-figure='31_60']")).to_have_text("$120.00")
    shot(page, "late-payers")
    axe(page, context="staff: late payers")

    row.get_by_role("button", name="Send reminder to Ann Able").click()
    expect(
        page.get_by_text(re.compile("Reminder about invoice .* sent to Ann Able"))
    ).to_be_visible()
    assert Reminder.objects.filter(client=ann, step__isnull=True).count() == 1
    row = page.locator(f"tr[data-client='{ann.account_number}']")
    expect(row).to_contain_text("Last ")

    until = timezone.localdate() + timedelta(days=10)
    row.get_by_label("Pause reminders for Ann Able until").fill(until.isoformat())
    row.get_by_role("button", name="Pause reminders for Ann Able").click()
    expect(page.get_by_text(re.compile("Reminders for Ann Able paused until"))).to_be_visible()
    row = page.locator(f"tr[data-client='{ann.account_number}']")
    expect(row).to_contain_text("Paused until")
    ann.refresh_from_db()
    assert ann.reminders_paused_until == until

    # Filter: paused only.
    page.get_by_label("Reminders", exact=True).select_option("yes")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)

    # The client page shows the reminder and the pause.
    page.get_by_role("link", name="Ann Able").click()
    collections = page.get_by_role("region", name="Collections")
    expect(collections).to_contain_text("Reminders paused until")
    expect(collections).to_contain_text("sent by hand")
    shot(page, "client-collections")
    axe(page, context="staff: client page with collections", phone=False)

    # The invoice page lists the reminder and pauses just that invoice.
    collections.get_by_role("link", name=re.compile("^INV-")).click()
    reminders = page.get_by_role("region", name="Reminders")
    expect(reminders).to_contain_text("sent by hand by Sam Staff")
    reminders.get_by_label("Pause until").fill(until.isoformat())
    reminders.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("region", name="Reminders")).to_contain_text("Paused until")
    shot(page, "invoice-reminders")
    axe(page, context="staff: invoice page with reminders", phone=False)
    log_out(page)

    log_in(page, live_server.url, admin_user.email)
    page.goto(f"{live_server.url}/staff/settings/reminders/")
    expect(page.get_by_role("heading", name="Reminder texts")).to_be_visible()
    page.get_by_label("Email subject").first.fill("Hello {nope}")
    page.get_by_role("button", name="Save reminder texts").click()
    expect(page.get_by_text(re.compile("Unknown placeholder"))).to_be_visible()
    shot(page, "reminder-texts")
    axe(page, context="admin: reminder texts")
