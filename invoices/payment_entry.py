"""Staff recording a payment from a form: turning what was typed into `record_payment`'s
arguments. The rules themselves (amounts, balances, whose invoices) stay in allocation.py."""

from datetime import date

from clients.models import Client
from cms_project.money import ZERO

from .allocation import PaymentError, Pick, clean_amount, invoice_balance, record_payment
from .models import Invoice, Payment
from .payment_queries import open_invoices_of

MAX_PICKS = 200  # more invoice fields than any client has open: a forged form


def parse_picks(raw: dict[str, str]) -> list[Pick] | None:
    """{invoice id as typed: amount as typed} -> picks; None when nothing was typed (oldest due
    first). An id that is not a number gets the same answer as someone else's invoice."""
    if not raw:
        return None
    if len(raw) > MAX_PICKS:
        raise PaymentError("Choose open invoices of this client.", field="picks")
    picks = []
    for key, value in raw.items():
        if not (key.isascii() and key.isdigit()) or len(key) > 18:
            raise PaymentError("Choose open invoices of this client.", field="picks")
        picks.append(Pick(int(key), clean_amount(value, field="picks")))
    return picks


def invoice_first(*, client: Client, invoice: Invoice, amount) -> list[Pick] | None:
    """From an invoice's page: that invoice first, up to its balance, then the client's other
    open invoices oldest due first; what is left is credit. None if it has nothing to pay."""
    amount = clean_amount(amount)
    invoices = open_invoices_of(client)
    if invoice.pk not in {i.pk for i in invoices}:
        return None
    ordered = [i for i in invoices if i.pk == invoice.pk] + [
        i for i in invoices if i.pk != invoice.pk
    ]
    picks, left = [], amount
    for candidate in ordered:
        if left <= ZERO:
            break
        share = min(left, invoice_balance(candidate))
        if share > ZERO:
            picks.append(Pick(candidate.pk, share))
            left -= share
    return picks


def record_staff_payment(
    *,
    client: Client,
    amount: str,
    received_on: date,
    method: str,
    reference: str = "",
    notes: str = "",
    card_brand: str = "",
    card_last4: str = "",
    picks: dict[str, str] | None = None,
    for_invoice: Invoice | None = None,
    recorded_by=None,
) -> Payment:
    """Record a payment typed by staff: their picks if they made any, else (from an invoice's
    page) that invoice first, else oldest due first."""
    clean_amount(amount)  # the amount's own error first, before any about the invoices
    chosen = parse_picks(picks or {})
    if chosen is None and for_invoice is not None:
        chosen = invoice_first(client=client, invoice=for_invoice, amount=amount)
    return record_payment(
        client=client,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=reference,
        notes=notes,
        card_brand=card_brand,
        card_last4=card_last4,
        picks=chosen,
        recorded_by=recorded_by,
    )
