"""Issuing an invoice: the one way from draft to issued.

In one transaction, with the invoice row locked: the next number of the series (counter row
locked too, see `numbering`), the issue and due dates (company payment terms), a copy of the
client's name and billing address and of the company's details, and the figures computed by
`cms_project.money` from the lines. After commit, the PDF is rendered once in a background task
and, if asked, the invoice is sent to the client by their preferred channels.
"""

from datetime import date, timedelta
from functools import partial
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import CompanySettings, get_company
from cms_project.money import TaxGroup, tax_summary, totals_of_groups
from staff.audit import diff, record, snapshot

from . import aging_rows, running_totals
from .models import Invoice, InvoiceLine
from .numbering import next_number

# What the audit log keeps of an invoice when it is issued, voided or credited.
AUDIT_FIELDS = ["status", "number", "issue_date", "due_date", "net", "tax", "total"]


class InvoiceError(Exception):
    """An action the invoice's state does not allow; the message is for the user."""


def billing_address_of(client: Client, *, locations=None) -> str:
    """The address printed on the invoice: the billing address, or if the client has none,
    the address of their first service location (from `locations` when already loaded)."""
    lines = []
    if client.company_name:
        lines.append(client.name)
    if client.billing_street or client.billing_city:
        lines.append(client.billing_street)
        lines.append(" ".join(p for p in (client.billing_city, client.billing_postal_code) if p))
    else:
        if locations is not None:
            location = min(locations, key=lambda loc: loc.pk, default=None)
        else:
            location = client.locations.order_by("pk").first()
        if location is not None:
            lines.append(location.street)
            lines.append(f"{location.city} {location.postal_code}".strip())
    return "\n".join(line for line in lines if line)


def location_text(location) -> str:
    return f"{location.label}: {location.street}, {location.city} {location.postal_code}".strip()


def new_pdf_path() -> str:
    """An unguessable storage name: 128 random bits, nothing about the client or number."""
    return f"invoices/{uuid4().hex}.pdf"


def apply_totals(document, lines, *, groups: list[TaxGroup] | None = None) -> None:
    """Net, tax, total and the tax summary of a document (invoice or credit note), from its
    lines, through cms_project.money: per-line nets, tax per rate on the sum of the nets.
    `groups`: `tax_summary(lines)` when the caller already computed it."""
    if groups is None:
        groups = tax_summary(lines)
    figures = totals_of_groups(groups)
    document.net, document.tax, document.total = figures.net, figures.tax, figures.total
    document.tax_breakdown = [
        {"rate": str(group.rate), "net": str(group.net), "tax": str(group.tax)} for group in groups
    ]


def copy_company(document, company: CompanySettings) -> None:
    document.company_name = company.name
    document.company_address = company.address
    document.company_tax_id = company.tax_id
    document.company_email = company.email
    document.company_phone = str(company.phone or "")
    document.company_logo = company.logo.name if company.logo else ""
    document.currency = company.currency


def copy_client(document, client: Client, *, billing_address: str | None = None) -> None:
    document.client_name = client.display_name
    document.client_account_number = client.account_number
    document.billing_address = (
        billing_address if billing_address is not None else billing_address_of(client)
    )


def finalise(
    invoice: Invoice,
    *,
    lines: list[InvoiceLine],
    client: Client,
    company: CompanySettings,
    number: str,
    issue_date: date,
    issued_by=None,
    billing_address: str | None = None,
    groups: list[TaxGroup] | None = None,
) -> None:
    """Turn a draft (in memory) into an issued invoice: number, dates, copies, figures.
    The caller saves it, inside the transaction that took the number. `invoice` may be any
    object taking attributes (the billing run fills plain rows through it)."""
    invoice.number = number
    invoice.status = Invoice.Status.ISSUED
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=company.payment_terms_days)
    invoice.issued_at = timezone.now()
    invoice.issued_by = issued_by
    copy_client(invoice, client, billing_address=billing_address)
    copy_company(invoice, company)
    invoice.payment_instructions = company.payment_instructions
    invoice.portal_url = settings.COMPANY["portal_url"]
    apply_totals(invoice, lines, groups=groups)
    invoice.pdf_path = new_pdf_path()


def schedule_pdf(invoice_id: int) -> None:
    """Render the PDF after the issuing transaction commits (never inside it)."""
    from .tasks import render_invoice_pdf_task

    transaction.on_commit(partial(render_invoice_pdf_task.delay, invoice_id))


def schedule_pdfs(invoice_ids: list[int]) -> None:
    """One background task for a whole batch of issued invoices (the billing run): a task
    per invoice would cost 100,000 broker messages a month for nothing."""
    from .tasks import render_invoice_pdfs_task

    if invoice_ids:
        transaction.on_commit(partial(render_invoice_pdfs_task.delay, list(invoice_ids)))


@transaction.atomic
def issue_invoice(
    *,
    invoice: Invoice,
    issued_by=None,
    issue_date: date | None = None,
    notify: bool = False,
    request: HttpRequest | None = None,
) -> Invoice:
    """Issue a draft. Raises InvoiceError if it is not a draft or has no lines.
    `notify`: also send it to the client per their preferences (email, SMS) after commit."""
    from .allocation import apply_client_credit, lock_client

    # The client first, then the invoice: the order payments lock in (no deadlocks).
    lock_client(invoice.client)
    locked = Invoice.objects.select_for_update().select_related("client").get(pk=invoice.pk)
    if not locked.is_draft:
        raise InvoiceError(f"Invoice {locked.number} is already issued.")
    lines = list(locked.lines.all())
    if not lines:
        raise InvoiceError("An invoice needs at least one line before it can be issued.")
    before = snapshot(locked, AUDIT_FIELDS)
    company = get_company()
    issue_date = issue_date or timezone.localdate()
    number = next_number(series=company.invoice_prefix, year=issue_date.year)
    finalise(
        locked,
        lines=lines,
        client=locked.client,
        company=company,
        number=number,
        issue_date=issue_date,
        issued_by=issued_by,
    )
    locked.save()
    running_totals.add_issued_invoice(locked)
    aging_rows.refresh([locked.client_id])
    record(
        actor=issued_by,
        action="invoice.issue",
        obj=locked,
        changes=diff(before, locked, AUDIT_FIELDS),
        # The figures were already on the draft (so not in the diff); the entry says them.
        note=f"total {locked.total} {locked.currency}",
        request=request,
    )
    # Credit the client holds (an overpayment, a credit note) pays the new invoice at once.
    if apply_client_credit(client=locked.client, by=issued_by):
        locked.refresh_from_db()
    schedule_pdf(locked.pk)
    if notify:
        from .sending import notify_client

        notify_client(invoice=locked)
    return locked
