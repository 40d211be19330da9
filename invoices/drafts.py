"""Manual invoices: staff write a draft with free lines (one-off charges, repairs), edit it
while it is a draft, then issue it (`issuing.issue_invoice`). Drafts have no number."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import line_net

from .issuing import InvoiceError, apply_totals
from .models import Invoice, InvoiceLine


@dataclass(frozen=True)
class LineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal


def _build_lines(invoice: Invoice, lines: list[LineData]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line.description.strip(),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            net=line_net(quantity=line.quantity, unit_price=line.unit_price),
        )
        for position, line in enumerate(lines, start=1)
    ]


@transaction.atomic
def create_draft(
    *, client: Client, lines: list[LineData], notes: str = "", created_by=None
) -> Invoice:
    invoice = Invoice.objects.create(
        client=client,
        source=Invoice.Source.MANUAL,
        notes=notes,
        created_by=created_by,
        currency=get_company().currency,
    )
    return _replace_lines(invoice, lines)


@transaction.atomic
def update_draft(*, invoice: Invoice, lines: list[LineData], notes: str = "") -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not locked.is_draft:
        raise InvoiceError(f"Invoice {locked.number} is issued and can no longer be edited.")
    locked.notes = notes
    return _replace_lines(locked, lines)


def _replace_lines(invoice: Invoice, lines: list[LineData]) -> Invoice:
    invoice.lines.all().delete()
    new_lines = InvoiceLine.objects.bulk_create(_build_lines(invoice, lines))
    recalculate(invoice, new_lines)
    return invoice


def recalculate(invoice: Invoice, lines: list[InvoiceLine] | None = None) -> None:
    """Keep a draft's figures current (the list and the page show them before issue)."""
    if lines is None:
        lines = list(invoice.lines.all())
    apply_totals(invoice, lines)
    invoice.save()


@transaction.atomic
def delete_draft(*, invoice: Invoice) -> None:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if not locked.is_draft:
        raise InvoiceError(f"Invoice {locked.number} is issued and can never be deleted.")
    locked.delete()
