"""Invoice and credit-note PDFs with WeasyPrint.

Rendered once, after the issuing transaction commits (a Celery task), and stored in
default_storage under the unguessable name chosen at issue (`invoices/<uuid4 hex>.pdf`).
They are served only by permission-checked views, never from a media URL.

WeasyPrint fetches nothing from the network: the only URLs it may resolve are our own static
files and the company logo in storage (`ProjectFilesFetcher`); anything else is refused, so a
hostile string in an invoice line can never make the server fetch a URL.
"""

import logging
import mimetypes
from decimal import Decimal
from itertools import groupby
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcherResponse

from cms_project.pdf import SafeURLFetcher, UnsafeURL

from .models import CreditNote, Invoice

logger = logging.getLogger(__name__)

# A host that can never resolve (RFC 6761 .invalid): relative URLs in the template resolve
# against it, and only the fetcher below knows what it means.
PDF_HOST = "pdf.invalid"
BASE_URL = f"https://{PDF_HOST}/"
LOGO_URL = f"{BASE_URL}company-logo"


# The refusal the shared fetcher raises; kept under this name for callers of this module.
RefusedURL = UnsafeURL


class ProjectFilesFetcher(SafeURLFetcher):
    """The project's safe fetcher (`cms_project.pdf`: our static files only), narrowed to the
    PDF's own made-up host, plus the document's logo read from storage."""

    def __init__(self, *, logo: str = ""):
        super().__init__(allowed_protocols={"https"}, allow_redirects=False)
        self.logo = logo

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.netloc != PDF_HOST:
            raise RefusedURL(f"External URL refused in a PDF: {url[:200]}")
        if unquote(parts.path) == urlsplit(LOGO_URL).path and self.logo:
            with default_storage.open(self.logo, "rb") as f:
                body = f.read()
            mimetype = mimetypes.guess_type(self.logo)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mimetype})
        return super().fetch(url, headers)


def write_pdf(html: str, *, logo: str = "") -> bytes:
    return HTML(
        string=html, base_url=BASE_URL, url_fetcher=ProjectFilesFetcher(logo=logo)
    ).write_pdf()


def _tax_groups(document) -> list[dict]:
    return [
        {"rate": Decimal(g["rate"]), "net": Decimal(g["net"]), "tax": Decimal(g["tax"])}
        for g in document.tax_breakdown
    ]


def _by_location(lines) -> list[tuple[str, list]]:
    return [
        (text, list(group))
        for text, group in groupby(lines, key=lambda line: getattr(line, "location_text", ""))
    ]


def invoice_pdf_context(invoice: Invoice) -> dict:
    lines = list(invoice.lines.all())
    portal_base = (invoice.portal_url or settings.COMPANY["portal_url"]).rstrip("/")
    return {
        "doc": invoice,
        "title": "Invoice",
        "groups": _by_location(lines),
        "tax_groups": _tax_groups(invoice),
        "logo_url": LOGO_URL if invoice.company_logo else "",
        "pay_url": portal_base + reverse("invoices_portal:detail", args=[invoice.pk]),
    }


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    html = render_to_string("invoices/pdf/invoice.html", invoice_pdf_context(invoice))
    return write_pdf(html, logo=invoice.company_logo)


def credit_note_pdf_bytes(note: CreditNote) -> bytes:
    context = {
        "doc": note,
        "title": "Credit note",
        "groups": [("", list(note.lines.all()))],
        "tax_groups": _tax_groups(note),
        "logo_url": LOGO_URL if note.company_logo else "",
        "invoice": note.invoice,
    }
    html = render_to_string("invoices/pdf/credit_note.html", context)
    return write_pdf(html, logo=note.company_logo)


def _store(path: str, data: bytes) -> None:
    if default_storage.exists(path):
        # Left by an attempt whose transaction rolled back (pdf_rendered_at is unset):
        # replace it, or storage would pick another name and the path would not match.
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(data))
    if saved != path:  # pragma: no cover - storage backends that rename on their own
        raise OSError(f"Storage saved {path} as {saved}")


@transaction.atomic
def render_invoice_pdf(*, invoice_id: int) -> str:
    """Render and store an issued invoice's PDF, once. The row lock makes a second task
    (a redelivered message, a view asking for it at the same moment) wait and find it done."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.is_draft or not invoice.pdf_path:
        raise ValueError(f"Invoice {invoice_id} is a draft: it has no PDF.")
    if invoice.pdf_rendered_at and default_storage.exists(invoice.pdf_path):
        return invoice.pdf_path
    _store(invoice.pdf_path, invoice_pdf_bytes(invoice))
    invoice.pdf_rendered_at = timezone.now()
    invoice.save(update_fields=["pdf_rendered_at"])
    return invoice.pdf_path


@transaction.atomic
def render_credit_note_pdf(*, credit_note_id: int) -> str:
    note = CreditNote.objects.select_for_update().get(pk=credit_note_id)
    if note.pdf_rendered_at and default_storage.exists(note.pdf_path):
        return note.pdf_path
    _store(note.pdf_path, credit_note_pdf_bytes(note))
    note.pdf_rendered_at = timezone.now()
    note.save(update_fields=["pdf_rendered_at"])
    return note.pdf_path
