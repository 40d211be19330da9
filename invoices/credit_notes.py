"""Credit notes: the only correction of an issued invoice (GUIDE §2 "Invoices").

A credit note has its own number series (company setting `credit_note_prefix`), refers to the
invoice, and credits whole lines of it: all remaining lines (a full credit, which voids the
invoice) or the lines staff pick. Each invoice line can be credited once (a database
constraint). Its amount first reduces the invoice's balance; whatever exceeds the balance (the
invoice was already paid) becomes credit of the client, applied to later invoices.

Figures come from cms_project.money like every document. The credit note that credits the last
remaining lines takes exactly what is left of the invoice per tax rate, so that crediting an
invoice in several parts adds up to the cent to the invoice (tax is rounded per document, so
the parts' taxes computed on their own could differ from the whole by a cent).
"""

from datetime import date
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import ZERO
from staff.audit import diff, record, snapshot

from . import aging_rows, running_totals
from .issuing import InvoiceError, apply_totals, copy_company, new_pdf_path
from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from .numbering import next_number


def remaining_lines(invoice: Invoice) -> list[InvoiceLine]:
    """Lines of the invoice not credited yet."""
    return list(invoice.lines.filter(credit_lines__isnull=True).order_by("position", "pk"))


def _remainder_breakdown(invoice: Invoice) -> list[dict]:
    """Per tax rate: what the invoice says minus what earlier credit notes took."""
    taken: dict[Decimal, list[Decimal]] = {}
    for breakdown in invoice.credit_notes.values_list("tax_breakdown", flat=True):
        for group in breakdown:
            net, tax = taken.setdefault(Decimal(group["rate"]), [ZERO, ZERO])
            taken[Decimal(group["rate"])] = [
                net + Decimal(group["net"]),
                tax + Decimal(group["tax"]),
            ]
    groups = []
    for group in invoice.tax_breakdown:
        rate = Decimal(group["rate"])
        net_taken, tax_taken = taken.get(rate, [ZERO, ZERO])
        net, tax = Decimal(group["net"]) - net_taken, Decimal(group["tax"]) - tax_taken
        if net or tax:
            groups.append({"rate": str(rate), "net": str(net), "tax": str(tax)})
    return groups


def _schedule_pdf(credit_note_id: int) -> None:
    from .tasks import render_credit_note_pdf_task

    transaction.on_commit(partial(render_credit_note_pdf_task.delay, credit_note_id))


# The invoice's side of a credit note, before and after, in the audit log.
CREDIT_AUDIT_FIELDS = ["status", "amount_credited", "credited_total"]


@transaction.atomic
def create_credit_note(
    *,
    invoice: Invoice,
    reason: str,
    created_by=None,
    line_ids: list[int] | None = None,
    issue_date: date | None = None,
    request: HttpRequest | None = None,
) -> CreditNote:
    """Credit lines of an issued invoice: `line_ids` None = every remaining line (full credit).
    Raises InvoiceError when there is nothing (left) to credit or a line is not creditable.
    Audited on the invoice (`invoice.credit_note`), so the invoice's history shows it."""
    return _credit(
        invoice=invoice,
        reason=reason,
        created_by=created_by,
        line_ids=line_ids,
        issue_date=issue_date,
        action="invoice.credit_note",
        request=request,
    )


def _credit(
    *,
    invoice: Invoice,
    reason: str,
    created_by,
    line_ids: list[int] | None,
    issue_date: date | None,
    action: str,
    request: HttpRequest | None,
) -> CreditNote:
    from .allocation import apply_client_credit, lock_client

    lock_client(invoice.client)  # client before invoice, as payments lock (no deadlocks)
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    before = snapshot(locked, CREDIT_AUDIT_FIELDS)
    if locked.is_draft:
        raise InvoiceError("A draft has nothing to credit: edit or delete it instead.")
    reason = " ".join(reason.split())
    if not reason:
        raise InvoiceError("Say why the invoice is being credited.")
    remaining = remaining_lines(locked)
    if not remaining:
        raise InvoiceError(f"Every line of invoice {locked.number} has been credited already.")
    if line_ids is None:
        chosen = remaining
    else:
        wanted = set(line_ids)
        chosen = [line for line in remaining if line.pk in wanted]
        if not wanted or len(chosen) != len(wanted):
            raise InvoiceError("Choose lines of this invoice that have not been credited yet.")

    company = get_company()
    issue_date = issue_date or timezone.localdate()
    note = CreditNote(
        invoice=locked,
        client_id=locked.client_id,
        number=next_number(series=company.credit_note_prefix, year=issue_date.year),
        issue_date=issue_date,
        reason=reason[:300],
        # The client's details as the corrected invoice shows them; the company's as today.
        client_name=locked.client_name,
        client_account_number=locked.client_account_number,
        billing_address=locked.billing_address,
        created_by=created_by,
        pdf_path=new_pdf_path(),
    )
    copy_company(note, company)
    note.currency = locked.currency
    if len(chosen) == len(remaining):
        groups = _remainder_breakdown(locked)
        note.tax_breakdown = groups
        note.net = sum((Decimal(g["net"]) for g in groups), ZERO)
        note.tax = sum((Decimal(g["tax"]) for g in groups), ZERO)
        note.total = note.net + note.tax
    else:
        apply_totals(note, chosen)

    balance = locked.total - locked.amount_paid - locked.amount_credited
    note.amount_applied = max(ZERO, min(note.total, balance))
    note.amount_to_credit = note.total - note.amount_applied
    note.save()
    running_totals.add_credit_note(note)
    CreditNoteLine.objects.bulk_create(
        [
            CreditNoteLine(
                credit_note=note,
                invoice_line=line,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                net=line.net,
            )
            for position, line in enumerate(chosen, start=1)
        ]
    )

    locked.amount_credited += note.amount_applied
    locked.credited_total += note.total
    if locked.credited_total >= locked.total:
        locked.status = Invoice.Status.VOID
    elif balance - note.amount_applied <= ZERO:
        locked.status = Invoice.Status.PAID
    locked.save(update_fields=["amount_credited", "credited_total", "status"])
    aging_rows.refresh([locked.client_id])
    record(
        actor=created_by,
        action=action,
        obj=locked,
        changes={
            "credit_note": [None, note.number],
            "credit_note_total": [None, note.total],
            **diff(before, locked, CREDIT_AUDIT_FIELDS),
        },
        note=note.reason,
        request=request,
    )
    if note.amount_to_credit > ZERO:
        # The part that became client credit pays the client's other open invoices.
        apply_client_credit(client=locked.client, by=created_by)
    _schedule_pdf(note.pk)
    return note


@transaction.atomic
def void_invoice(
    *, invoice: Invoice, reason: str, created_by=None, request: HttpRequest | None = None
) -> CreditNote:
    """Cancel an issued invoice: a credit note for everything not credited yet. One audit
    entry, `invoice.void`, which names the credit note."""
    return _credit(
        invoice=invoice,
        reason=reason,
        created_by=created_by,
        line_ids=None,
        issue_date=None,
        action="invoice.void",
        request=request,
    )


def credit_from_credit_notes(client: Client) -> Decimal:
    """Client credit created by credit notes (the part that exceeded an invoice's balance).
    Payments (a later module) apply it to the next invoices and record what they used."""
    total = CreditNote.objects.filter(client=client).aggregate(s=Sum("amount_to_credit"))["s"]
    return total or ZERO
