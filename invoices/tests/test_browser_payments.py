"""Browser journey of payments: staff record a cash payment for part of an invoice from the
invoice page, see the balance, download the receipt; the client finds it in the portal. axe-core
checks every new page (staff and portal). Playwright drives Debian's Chromium against
live_server; tasks run eagerly after commit."""

import os
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from cms_project.tests.browser import go_to
from cms_project.tests.test_browser_foundation import log_in, log_out

from ..models import Invoice, Payment
from .factories import SubscriberFactory, issued_invoice, line
from .test_browser import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set PAYMENT_SCREENSHOTS=/some/dir to keep a screenshot of each page (to look at them).
SHOTS = os.environ.get("PAYMENT_SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_staff_record_a_cash_payment_for_part_of_an_invoice_and_download_the_receipt(
    page: Page, live_server, staff_user, alice_user, axe
):
    alice = SubscriberFactory(name="Alice Martin", email="alice@test.example", user=alice_user)
    older = issued_invoice(client=alice, lines=[line("Fiber 1 Gig", "1", "79.99", "0")])
    invoice = issued_invoice(client=alice, lines=[line("Installation", "1", "120.00", "0")])
    Invoice.objects.filter(pk=older.pk).update(due_date=date.today() - timedelta(days=20))

    log_in(page, live_server.url, staff_user.email)
    page.goto(f"{live_server.url}{invoice.get_absolute_url()}")
    payments = page.get_by_role("region", name="Payments")
    expect(payments).to_contain_text("Nothing paid yet.")
    shot(page, "invoice-page")
    payments.get_by_role("link", name="Record payment").click()

    expect(page.get_by_role("heading", name="Record a payment")).to_be_visible()
    expect(page.get_by_label("Amount*")).to_have_value("120.00")
    axe(page, context="staff: record a payment")
    shot(page, "payment-form")
    # A bad amount first: the message is next to the field, nothing is saved.
    page.get_by_label("Amount*").fill("10.005")
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#id_amount-error")).to_have_text(re.compile("at most two decimals"))
    axe(page, context="staff: record a payment, with errors")
    shot(page, "payment-form-errors")
    assert not Payment.objects.exists()

    page.get_by_label("Amount*").fill("50.00")
    page.get_by_label("Method*").select_option("cash")
    page.get_by_label("Reference").fill("Paid at the desk")
    page.get_by_role("button", name="Record payment").click()

    payment = Payment.objects.get()
    expect(page.get_by_text(f"receipt {payment.number}")).to_be_visible()
    expect(page.locator("[data-figure=amount]")).to_have_text("$50.00")
    expect(page.locator("[data-figure=allocated]")).to_have_text("$50.00")
    axe(page, context="staff: payment page")
    shot(page, "payment-page")

    # The invoice it paid (not the older one: it was recorded from this invoice's page).
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.locator("[data-figure=balance]").first).to_have_text("$70.00")
    expect(page.get_by_role("region", name="Payments")).to_contain_text(payment.number)
    assert Invoice.objects.get(pk=older.pk).balance == Decimal("79.99")

    page.go_back()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download receipt").click()
    download = download_info.value
    assert download.suggested_filename == f"{payment.number}.pdf"
    text = pdf_text(download.path())
    assert payment.number in text and "$50.00" in text and invoice.number in text

    # The payments list, the client page's money view.
    go_to(page, "Billing", "Payments")
    expect(page.locator("[data-total=amount]")).to_have_text("$50.00")
    axe(page, context="staff: payments list")
    shot(page, "payments-list")
    page.get_by_role("link", name="Alice Martin").click()
    expect(page.locator("[data-figure=client-balance]")).to_have_text("$149.99")
    axe(page, context="staff: client page")
    shot(page, "client-page")
    page.goto(f"{live_server.url}/staff/invoices/payments/new/")
    axe(page, context="staff: choose the client")
    log_out(page)

    # Alice finds the payment and its receipt in the portal.
    log_in(page, live_server.url, alice_user.email)
    page.get_by_role("navigation", name="Client portal").get_by_role(
        "link", name="Payments"
    ).click()
    expect(page.get_by_role("heading", name="Your payments")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text(payment.number)
    axe(page, context="client: payments")
    shot(page, "portal-payments")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(f"Receipt {payment.number}")).click()
    assert payment.number in pdf_text(download_info.value.path())
