"""Browser test of the invoice journey: staff run billing for the month, open an invoice,
download its PDF, send it by email with a Cc; the client then sees it in the portal.
Playwright drives Debian's Chromium against live_server; tasks run eagerly after commit."""

import re
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from cms_project.tests.browser import go_to
from cms_project.tests.test_browser_foundation import log_in, log_out

from ..models import Invoice
from .factories import ServiceFactory, SubscriberLocationFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pdf_text(path: str | Path) -> str:
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_staff_bill_the_month_send_an_invoice_and_the_client_sees_it(
    page: Page, live_server, staff_user, alice_user, alice_client
):
    location = SubscriberLocationFactory(client=alice_client, label="Home", street="12 Oak Street")
    service = ServiceFactory(name="Fiber 1 Gig", price=Decimal("79.99"), tax_rate=Decimal("8.25"))
    SubscriptionFactory(service=service, location=location, start_date=date(2024, 1, 1))

    # Staff: run billing for the month the form proposes (the one that just ended).
    log_in(page, live_server.url, staff_user.email)
    go_to(page, "Billing", "Billing runs")
    page.get_by_role("button", name="Start billing run").click()
    expect(page.get_by_role("heading", name=re.compile("^Progress: Finished"))).to_be_visible()
    expect(page.locator("[data-run=created]")).to_have_text("1")

    invoice = Invoice.objects.get(client=alice_client)
    page.get_by_role("link", name=re.compile("^See the invoices of")).click()
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(invoice.number))).to_be_visible()
    expect(page.locator("[data-figure=total]")).to_have_text("$86.59")

    # Download the PDF.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    text = pdf_text(download.path())
    assert invoice.number in text and "Fiber 1 Gig" in text and "$86.59" in text

    # Send it by email with a Cc.
    mail.outbox.clear()
    page.get_by_role("link", name="Send by email").click()
    expect(page.get_by_label("To*", exact=True)).to_have_value("alice@test.example")
    page.get_by_label("Cc", exact=True).fill("accountant@test.example")
    page.get_by_label("Subject*", exact=True).fill(f"Your invoice {invoice.number}")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(
        page.get_by_text(f"Invoice {invoice.number} was queued to alice@test.example.")
    ).to_be_visible()
    deliveries = page.get_by_role("region", name="Messages sent")
    expect(deliveries).to_contain_text("cc accountant@test.example")
    expect(deliveries).to_contain_text("Sent")
    sent = [m for m in mail.outbox if m.subject == f"Your invoice {invoice.number}"]
    assert len(sent) == 1
    assert sent[0].to == ["alice@test.example"] and sent[0].cc == ["accountant@test.example"]
    assert sent[0].attachments[0].filename == f"{invoice.number}.pdf"
    log_out(page)

    # The client sees it in the portal and downloads it too.
    log_in(page, live_server.url, alice_user.email)
    page.get_by_role("navigation", name="Client portal").get_by_role(
        "link", name="Invoices"
    ).click()
    page.get_by_role("link", name=invoice.number, exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile(f"Invoice {invoice.number}"))
    ).to_be_visible()
    expect(page.locator("[data-figure=balance]")).to_have_text("$86.59")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    assert invoice.number in pdf_text(download_info.value.path())


def test_the_run_page_updates_its_counts_while_the_run_goes_on(page: Page, live_server, staff_user):
    from ..models import BillingRun

    run = BillingRun.objects.create(
        period_year=2026, period_month=11, status=BillingRun.Status.RUNNING, clients_total=10
    )
    log_in(page, live_server.url, staff_user.email)
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    expect(page.locator("[data-run=clients_processed]")).to_have_text("0")
    BillingRun.objects.filter(pk=run.pk).update(clients_processed=4, created_count=4)
    expect(page.locator("[data-run=clients_processed]")).to_have_text("4")
    expect(page.locator("[data-run=created]")).to_have_text("4")
    BillingRun.objects.filter(pk=run.pk).update(
        clients_processed=10, created_count=9, error_count=1, status=BillingRun.Status.FINISHED
    )
    expect(page.get_by_role("heading", name="Progress: Finished")).to_be_visible()
    expect(page.locator("[data-run=errors]")).to_have_text("1")
    expect(page.get_by_text(re.compile("^Finished. See the invoices"))).to_be_visible()
