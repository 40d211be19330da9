"""Recording payments and applying them to invoices (GUIDE §2, payments).

Rules this module keeps, with the database checks in models.py as a second line:
- a payment is split into allocations, oldest due invoice first unless staff pick invoices and
  amounts; an allocation never exceeds the payment's unallocated amount nor the invoice balance;
- what is not allocated is client credit, applied to the next invoices (`apply_client_credit`,
  called when an invoice is issued); credit notes' unused credit is used before payments';
- nothing is edited: a refund or a reversal is a new entry, a reversal undoes allocations with
  negative rows;
- every function locks the client row first, then its invoices, so two payments for the same
  client (or the same invoice) run one after the other and neither over-allocates; always in
  that order, so they cannot deadlock.

`Invoice.amount_paid` is the sum of the invoice's allocations (payments and credit-note credit);
`Invoice.amount_credited` is what credit notes against that invoice took off its balance.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F, Sum
from django.dispatch import Signal
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import CENT, ZERO
from staff.audit import record

from . import aging_rows, running_totals
from .models import Allocation, CreditNote, Invoice, Payment, PaymentMethod, Refund
from .numbering import next_number

RECEIPT_SERIES = "RCT"
MAX_AMOUNT = Decimal("9999999999.99")  # what a DecimalField(12, 2) holds

AUDIT_ACTIONS = {
    "payment.record": "Recorded a payment",
    "payment.refund": "Refunded client credit",
    "payment.reverse": "Reversed a payment",
    "payment.credit_applied": "Applied client credit to invoices",
}

# Sent inside the transaction that recorded (or reversed) a payment; receivers that send
# anything enqueue it with transaction.on_commit. kwargs: payment.
payment_recorded = Signal()
payment_reversed = Signal()


class PaymentError(Exception):
    """A payment, refund or reversal that cannot be recorded; `field` names the form field
    the message belongs next to (None: the whole form)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Pick:
    """Staff's choice: this much of the payment goes to this invoice."""

    invoice_id: int
    amount: Decimal


def clean_amount(value, *, field: str = "amount") -> Decimal:
    """A positive amount of money with at most two decimals, or PaymentError."""
    if isinstance(value, bool | float):
        raise PaymentError("Enter the amount as a number such as 25.00.", field=field)
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PaymentError("Enter the amount as a number such as 25.00.", field=field) from None
    if not amount.is_finite():
        raise PaymentError("Enter the amount as a number such as 25.00.", field=field)
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise PaymentError("Amounts have at most two decimals (cents).", field=field)
    if amount <= 0:
        raise PaymentError("The amount must be more than zero.", field=field)
    if amount > MAX_AMOUNT:
        raise PaymentError("That amount is too large.", field=field)
    return amount.quantize(Decimal("0.01"))


def lock_client(client: Client) -> Client:
    """Lock the client's row: every change to a client's ledger starts here."""
    return Client.objects.select_for_update().get(pk=client.pk)


def invoice_balance(invoice: Invoice) -> Decimal:
    # The generated `balance` column is stale in memory once amounts change: compute it.
    return invoice.total - invoice.amount_paid - invoice.amount_credited


def status_after_change(invoice: Invoice) -> str:
    """The status an issued invoice has for its current amounts."""
    if invoice.status == Invoice.Status.VOID:
        return Invoice.Status.VOID
    if invoice_balance(invoice) <= ZERO:
        return Invoice.Status.PAID
    if invoice.amount_paid + invoice.amount_credited > ZERO:
        return Invoice.Status.PARTIALLY_PAID
    return Invoice.Status.ISSUED


def _payable_invoices(client_id: int) -> list[Invoice]:
    """The client's invoices with something left to pay, oldest due first, locked.
    A void invoice can owe again once a payment that had paid it is reversed."""
    return list(
        Invoice.objects.select_for_update()
        .filter(
            client_id=client_id,
            status__in=[*Invoice.OPEN_STATUSES, Invoice.Status.PAID, Invoice.Status.VOID],
            balance__gte=CENT,  # not > 0: SQLite's float arithmetic leaves 1e-14s
        )
        .order_by("due_date", "issue_date", "pk")
    )


def _allocate(invoice: Invoice, amount: Decimal) -> None:
    invoice.amount_paid += amount
    invoice.status = status_after_change(invoice)
    invoice.save(update_fields=["amount_paid", "status"])


def _plan(
    *, amount: Decimal, invoices: list[Invoice], picks: list[Pick] | None
) -> list[tuple[Invoice, Decimal]]:
    """Which invoice gets how much of the payment."""
    if picks is None:
        plan, left = [], amount
        for invoice in invoices:
            if left <= ZERO:
                break
            share = min(left, invoice_balance(invoice))
            if share > ZERO:
                plan.append((invoice, share))
            left -= share
        return plan

    by_id = {invoice.pk: invoice for invoice in invoices}
    plan, seen = [], set()
    for pick in picks:
        invoice = by_id.get(pick.invoice_id)
        if invoice is None or invoice.status == Invoice.Status.VOID:
            # Someone else's invoice, a paid or void one, a draft, or an id that was made up:
            # one answer for all, so the form reveals nothing about other clients.
            raise PaymentError("Choose open invoices of this client.", field="picks")
        if pick.invoice_id in seen:
            raise PaymentError(f"Invoice {invoice.number} is listed twice.", field="picks")
        seen.add(pick.invoice_id)
        share = clean_amount(pick.amount, field="picks")
        if share > invoice_balance(invoice):
            raise PaymentError(
                f"{share} is more than the balance of invoice {invoice.number} "
                f"({invoice_balance(invoice)}).",
                field="picks",
            )
        plan.append((invoice, share))
    if sum((share for _, share in plan), ZERO) > amount:
        raise PaymentError(
            "The amounts for the invoices add up to more than the payment.", field="picks"
        )
    return plan


def _clean_card(card_brand: str, card_last4: str) -> tuple[str, str]:
    card_last4 = (card_last4 or "").strip()
    if card_last4 and not (len(card_last4) == 4 and card_last4.isdigit()):
        # Never store more of a card number than its last four digits.
        raise PaymentError("Only the last four digits of a card are kept.", field="card_last4")
    return (card_brand or "").strip()[:20], card_last4


@transaction.atomic
def record_payment(
    *,
    client: Client,
    amount,
    method: str,
    received_on: date,
    reference: str = "",
    notes: str = "",
    recorded_by=None,
    picks: list[Pick] | None = None,
    provider: str = "",
    provider_reference: str = "",
    card_brand: str = "",
    card_last4: str = "",
) -> Payment:
    """Record money received and allocate it (oldest due first, or exactly `picks`); the rest
    is client credit. With a provider reference, recording the same one again returns the
    payment already recorded (webhooks are delivered more than once)."""
    amount = clean_amount(amount)
    if method not in PaymentMethod.values:
        raise PaymentError("Choose how the client paid.", field="method")
    if not isinstance(received_on, date):
        raise PaymentError("Enter the date the payment was received.", field="received_on")
    if received_on > timezone.localdate():
        raise PaymentError("A payment cannot be received in the future.", field="received_on")
    card_brand, card_last4 = _clean_card(card_brand, card_last4)
    provider_reference = (provider_reference or "").strip()

    locked = lock_client(client)
    if provider_reference:
        # Checked under the client lock: a redirect and a webhook for the same payment
        # arrive one after the other here, and the second finds the first's payment.
        existing = Payment.objects.filter(
            provider=provider, provider_reference=provider_reference
        ).first()
        if existing is not None:
            return existing

    plan = _plan(amount=amount, invoices=_payable_invoices(locked.pk), picks=picks)
    allocated = sum((share for _, share in plan), ZERO)
    company = get_company()
    payment = Payment.objects.create(
        client=locked,
        number=next_number(series=RECEIPT_SERIES, year=received_on.year),
        amount=amount,
        currency=company.currency,
        received_on=received_on,
        method=method,
        reference=reference.strip()[:100],
        notes=notes.strip(),
        provider=provider,
        provider_reference=provider_reference,
        card_brand=card_brand,
        card_last4=card_last4,
        amount_allocated=allocated,
        recorded_by=recorded_by,
    )
    running_totals.add_payment(payment)
    Allocation.objects.bulk_create(
        [Allocation(invoice=invoice, payment=payment, amount=share) for invoice, share in plan]
    )
    for invoice, share in plan:
        _allocate(invoice, share)
    aging_rows.refresh([locked.pk])
    if locked.last_payment_date is None or received_on > locked.last_payment_date:
        Client.objects.filter(pk=locked.pk).update(last_payment_date=received_on)
    record(
        actor=recorded_by,
        action="payment.record",
        obj=payment,
        changes={
            "amount": [None, amount],
            "method": [None, method],
            "client": [None, str(locked)],
            "allocations": [None, {invoice.number: share for invoice, share in plan}],
            "credit": [None, amount - allocated],
        },
    )
    payment_recorded.send(sender=Payment, payment=payment)
    return payment


def _credit_sources(client_id: int) -> list[CreditNote | Payment]:
    """Unused credit, locked: credit notes first (older first), then payments."""
    notes = list(
        CreditNote.objects.select_for_update()
        .filter(client_id=client_id, amount_to_credit__gt=F("credit_used"))
        .order_by("issue_date", "pk")
    )
    payments = list(
        Payment.objects.select_for_update()
        .filter(client_id=client_id, unallocated__gte=CENT)
        .order_by("received_on", "pk")
    )
    return [*notes, *payments]


def _unused(source: CreditNote | Payment) -> Decimal:
    if isinstance(source, CreditNote):
        return source.amount_to_credit - source.credit_used
    return source.amount - source.amount_allocated - source.amount_refunded


@transaction.atomic
def apply_client_credit(*, client: Client, by=None) -> Decimal:
    """Apply the client's unused credit to invoices with a balance, oldest due first.
    Returns the amount applied."""
    locked = lock_client(client)
    invoices = _payable_invoices(locked.pk)
    if not invoices:
        return ZERO
    sources = [s for s in _credit_sources(locked.pk) if _unused(s) > ZERO]
    applied, rows = ZERO, []
    for invoice in invoices:
        while sources and invoice_balance(invoice) > ZERO:
            source = sources[0]
            share = min(_unused(source), invoice_balance(invoice))
            if isinstance(source, CreditNote):
                source.credit_used += share
                rows.append(Allocation(invoice=invoice, credit_note=source, amount=share))
            else:
                source.amount_allocated += share
                rows.append(Allocation(invoice=invoice, payment=source, amount=share))
            invoice.amount_paid += share
            applied += share
            if _unused(source) <= ZERO:
                sources.pop(0)
        if not sources:
            break
    if not rows:
        return ZERO
    Allocation.objects.bulk_create(rows)
    for source in {
        id(r.credit_note or r.payment): r.credit_note or r.payment for r in rows
    }.values():
        fields = ["credit_used"] if isinstance(source, CreditNote) else ["amount_allocated"]
        source.save(update_fields=fields)
    for invoice in {r.invoice.pk: r.invoice for r in rows}.values():
        invoice.status = status_after_change(invoice)
        invoice.save(update_fields=["amount_paid", "status"])
    aging_rows.refresh([locked.pk])
    record(
        actor=by,
        action="payment.credit_applied",
        obj=locked,
        changes={"applied": [None, applied]},
    )
    return applied


def _locked_payment(payment: Payment) -> Payment:
    lock_client(payment.client)
    return Payment.objects.select_for_update().get(pk=payment.pk)


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise PaymentError("Say why.", field="reason")
    return reason[:300]


@transaction.atomic
def refund_credit(
    *, payment: Payment, amount, reason: str, by=None, refunded_on: date | None = None
) -> Refund:
    """Give back money of a payment that is still client credit (not allocated)."""
    amount = clean_amount(amount)
    reason = _clean_reason(reason)
    locked = _locked_payment(payment)
    unused = _unused(locked)
    if amount > unused:
        raise PaymentError(
            f"Only {unused} of payment {locked.number} is unused credit; "
            "reverse the payment to undo what it paid.",
            field="amount",
        )
    refund = Refund.objects.create(
        payment=locked,
        kind=Refund.Kind.REFUND,
        amount=amount,
        refunded_on=refunded_on or timezone.localdate(),
        reason=reason,
        created_by=by,
    )
    running_totals.add_refund(refund, client_id=locked.client_id)
    locked.amount_refunded += amount
    locked.save(update_fields=["amount_refunded"])
    record(
        actor=by,
        action="payment.refund",
        obj=locked,
        changes={"refunded": [None, amount]},
        note=reason,
    )
    return refund


@transaction.atomic
def reverse_payment(
    *, payment: Payment, reason: str, by=None, reversed_on: date | None = None
) -> Refund:
    """Undo a payment recorded by mistake (bounced check, wrong client): negative allocations
    reopen the invoices it paid, and a reversal entry takes the rest of its amount out."""
    reason = _clean_reason(reason)
    locked = _locked_payment(payment)
    if locked.refunds.filter(kind=Refund.Kind.REVERSAL).exists():
        raise PaymentError(f"Payment {locked.number} has already been reversed.")
    per_invoice = (
        Allocation.objects.filter(payment=locked)
        .values("invoice")
        .annotate(net=Sum("amount"))
        .filter(net__gt=0)
    )
    nets = {row["invoice"]: row["net"] for row in per_invoice}
    taken_back = locked.amount - locked.amount_refunded
    if taken_back <= ZERO:
        raise PaymentError(f"Payment {locked.number} has been refunded in full already.")
    invoices = Invoice.objects.select_for_update().filter(pk__in=nets).order_by("pk")
    rows = []
    for invoice in invoices:
        net = nets[invoice.pk]
        rows.append(Allocation(invoice=invoice, payment=locked, amount=-net, reversal=True))
        invoice.amount_paid -= net
        invoice.status = status_after_change(invoice)
        invoice.save(update_fields=["amount_paid", "status"])
    Allocation.objects.bulk_create(rows)
    aging_rows.refresh([locked.client_id])
    locked.amount_allocated = ZERO
    locked.amount_refunded = locked.amount
    locked.save(update_fields=["amount_allocated", "amount_refunded"])
    reversal = Refund.objects.create(
        payment=locked,
        kind=Refund.Kind.REVERSAL,
        amount=taken_back,
        refunded_on=reversed_on or timezone.localdate(),
        reason=reason,
        created_by=by,
    )
    running_totals.add_refund(reversal, client_id=locked.client_id)
    record(
        actor=by,
        action="payment.reverse",
        obj=locked,
        changes={"reversed": [None, taken_back]},
        note=reason,
    )
    payment_reversed.send(sender=Payment, payment=locked)
    # Credit the client still has (another payment, a credit note) covers what reopened.
    apply_client_credit(client=locked.client, by=by)
    return reversal
