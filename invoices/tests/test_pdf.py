"""Invoice and credit-note PDFs: real WeasyPrint output read back as text with pypdf."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pypdf import PdfReader

from cms_project.company.models import get_company

from ..credit_notes import create_credit_note
from ..pdf import (
    BASE_URL,
    ProjectFilesFetcher,
    RefusedURL,
    invoice_pdf_bytes,
    render_invoice_pdf,
    write_pdf,
)
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = pytest.mark.django_db

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@pytest.fixture
def company():
    company = get_company()
    company.name = "Data Plus Fiber"
    company.address = "100 Main Street\nSpringfield, IL 62701"
    company.tax_id = "US-12-3456789"
    company.payment_instructions = "Bank transfer: First Prairie Bank, account 0012345678"
    company.save()
    return company


def test_the_invoice_pdf_shows_everything_the_client_needs(company, settings):
    settings.COMPANY = {**settings.COMPANY, "portal_url": "https://my.dataplusfiber.example"}
    client = SubscriberFactory(
        name="Alice Martin", billing_street="12 Oak Street", billing_city="Springfield"
    )
    invoice = issued_invoice(
        client=client,
        lines=[
            line("Repair visit", "2", "45.00", "8.25"),
            line("Cable, per metre", "12.5", "1.10", "8.25"),
            line("Late fee", "1", "5.00", "0"),
        ],
        issue_date=date(2026, 11, 30),
    )
    text = pdf_text(invoice_pdf_bytes(invoice))
    for expected in [
        "Data Plus Fiber",
        "100 Main Street",
        "Tax ID: US-12-3456789",
        invoice.number,
        "Nov 30, 2026",  # issue date
        "Dec 15, 2026",  # due date (net 15)
        "Alice Martin",
        "12 Oak Street",
        "Repair visit",
        "Cable, per metre",
        "$13.75",  # 12.5 x 1.10
        "$90.00",
        "8.25%",
        "$103.75",  # net at 8.25 %
        "$8.56",  # 103.75 x 8.25 % = 8.559… -> 8.56
        "$108.75",  # net
        "$117.31",  # total
        "Balance due",
        "First Prairie Bank",
        f"https://my.dataplusfiber.example/portal/invoices/{invoice.pk}/",
        "Page 1 of 1",
    ]:
        assert expected in text, f"{expected!r} missing from the PDF"


def test_a_long_invoice_numbers_its_pages(company):
    invoice = issued_invoice(lines=[line(f"Item {n}", "1", "1.00") for n in range(80)])
    data = invoice_pdf_bytes(invoice)
    pages = PdfReader(BytesIO(data)).pages
    assert len(pages) >= 2
    assert f"Page 1 of {len(pages)}" in pages[0].extract_text()
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1].extract_text()
    assert invoice.number in pages[-1].extract_text()  # the number on every page


def test_the_logo_is_read_from_storage(company):
    company.logo.save("logo.png", ContentFile(PNG))
    invoice = issued_invoice()
    assert invoice.company_logo == company.logo.name
    reader = PdfReader(BytesIO(invoice_pdf_bytes(invoice)))
    assert len(reader.pages[0].images) == 1


def test_the_fetcher_serves_our_static_files_and_refuses_everything_else():
    fetcher = ProjectFilesFetcher(logo="company/logo.png")
    response = fetcher.fetch(f"{BASE_URL}static/css/invoice-pdf.css")
    assert b"@page" in response.read()
    for url in [
        "http://example.com/tracker.png",
        "https://example.com/static/css/invoice-pdf.css",
        "file:///etc/passwd",
        f"{BASE_URL}static/../../etc/passwd",
        f"{BASE_URL}static/%2e%2e/settings.py",
        f"{BASE_URL}media/invoices/x.pdf",
        "data:image/png;base64,AAAA",
    ]:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)


def test_rendering_never_reaches_the_network(monkeypatch):
    asked = []
    real = ProjectFilesFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(ProjectFilesFetcher, "fetch", spy)
    monkeypatch.setattr(
        "urllib.request.OpenerDirector.open",
        lambda *a, **k: pytest.fail("WeasyPrint tried to open a URL itself"),
    )
    html = '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"><img src="https://example.com/a.png"><p>Hi</p>'
    assert write_pdf(html).startswith(b"%PDF")
    assert asked == ["http://127.0.0.1:9/x.css", "https://example.com/a.png"]


def test_the_pdf_is_rendered_once_and_stored_under_its_unguessable_name(company):
    invoice = issued_invoice()
    path = render_invoice_pdf(invoice_id=invoice.pk)
    assert path == invoice.pdf_path
    first = default_storage.open(path).read()
    assert first.startswith(b"%PDF")
    company.name = "Renamed Later Inc"
    company.save()
    assert render_invoice_pdf(invoice_id=invoice.pk) == path
    assert default_storage.open(path).read() == first  # not rendered again
    assert "Renamed Later Inc" not in pdf_text(first)


def test_the_credit_note_pdf_refers_to_the_invoice(company):
    invoice = issued_invoice(
        lines=[line("Fiber 1 Gig", "1", "79.99", "8.25"), line("Router rental", "1", "5.99")]
    )
    note = create_credit_note(
        invoice=invoice, reason="Outage credit", line_ids=[invoice.lines.first().pk]
    )
    from ..pdf import credit_note_pdf_bytes

    text = pdf_text(credit_note_pdf_bytes(note))
    for expected in [
        "CREDIT NOTE",  # the heading is upper-cased by the PDF's CSS
        note.number,
        invoice.number,
        "Fiber 1 Gig",
        "$79.99",
        "$6.60",  # 79.99 x 8.25 % = 6.599…
        "$86.59",
        "Outage credit",
    ]:
        assert expected in text, f"{expected!r} missing from the PDF"
    assert "Router rental" not in text
    assert Decimal("86.59") == note.total
