"""Payment receipts: what they say, their PDF, and sending them (GUIDE §2, payments; messages).

When a payment is recorded, `on_payment_recorded` (connected to
`allocation.payment_recorded` in apps.py) runs inside the recording transaction:
- it takes the receipt snapshot: company and client as they are now, what the payment paid
  (invoice numbers and amounts), the credit it left, and the client's balance and credit after
  it. A receipt is a document of that moment: later allocations, refunds or a reversal of the
  payment never change it (the payment page shows those);
- it chooses the receipt's unguessable storage name (`receipts/<uuid4 hex>.pdf`);
- it schedules the PDF render and queues the receipt by email (PDF attached) and/or SMS by the
  client's preferences, both after commit, so a rolled-back payment sends nothing.

The PDF is served only through permission-checked views (staff; the owning client).
"""

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import partial
from types import SimpleNamespace
from uuid import uuid4

from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import queue_email, queue_sms
from cms_project.money import format_money

from .issuing import billing_address_of, copy_client, copy_company
from .ledger import figures_for
from .models import Allocation, Payment
from .pdf import LOGO_URL, _store, write_pdf
from .sending import PDF, can_sms

logger = logging.getLogger(__name__)

PURPOSE_RECEIPT = "receipt"
PURPOSE_RECEIPT_AGAIN = "receipt-send"

# seed_demo records payments for the demo company: it must not email anybody.
_muted: ContextVar[bool] = ContextVar("receipts_muted", default=False)


@contextmanager
def receipts_muted():
    """Record payments without sending receipts nor rendering them now (demo data): the
    snapshot is still taken, and the PDF is rendered on its first download."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def new_receipt_path() -> str:
    """128 random bits: nothing about the client or the number."""
    return f"receipts/{uuid4().hex}.pdf"


# --- Snapshot --------------------------------------------------------------------------------
_COPIED = (
    "company_name",
    "company_address",
    "company_tax_id",
    "company_email",
    "company_phone",
    "company_logo",
    "client_name",
    "client_account_number",
    "billing_address",
)


def take_snapshot(payment: Payment) -> dict:
    """What the receipt of `payment` shows, as of now (JSON-safe: money as strings)."""
    client = Client.objects.get(pk=payment.client_id)
    holder = SimpleNamespace()
    copy_company(holder, get_company())
    copy_client(holder, client, billing_address=billing_address_of(client))
    paid = (
        Allocation.objects.filter(payment=payment, reversal=False)
        .select_related("invoice")
        .order_by("invoice__due_date", "invoice__pk", "pk")
    )
    figures = figures_for(client)
    return {
        **{name: getattr(holder, name) for name in _COPIED},
        "allocations": [
            {"invoice_id": a.invoice_id, "number": a.invoice.number, "amount": str(a.amount)}
            for a in paid
        ],
        "allocated": str(sum((a.amount for a in paid), Decimal("0.00"))),
        "credit_from_payment": str(payment.amount - payment.amount_allocated),
        "client_credit": str(figures.credit),
        "balance_after": str(figures.balance),
        "taken_at": timezone.now().isoformat(),
    }


def snapshot_of(payment: Payment) -> dict:
    # Payments recorded before receipts existed have none: take it now (best effort).
    return payment.receipt_snapshot or take_snapshot(payment)


def receipt_context(payment: Payment) -> dict:
    snap = snapshot_of(payment)
    doc = SimpleNamespace(
        **{name: snap.get(name, "") for name in _COPIED},
        number=payment.number,
        currency=payment.currency,
    )
    return {
        "doc": doc,
        "title": "Receipt",
        "payment": payment,
        "allocations": [
            {"number": a["number"], "amount": Decimal(a["amount"])} for a in snap["allocations"]
        ],
        "allocated": Decimal(snap["allocated"]),
        "credit_from_payment": Decimal(snap["credit_from_payment"]),
        "client_credit": Decimal(snap["client_credit"]),
        "balance_after": Decimal(snap["balance_after"]),
        "logo_url": LOGO_URL if doc.company_logo else "",
    }


# --- PDF -------------------------------------------------------------------------------------
def receipt_pdf_bytes(payment: Payment) -> bytes:
    context = receipt_context(payment)
    html = render_to_string("invoices/pdf/receipt.html", context)
    return write_pdf(html, logo=context["doc"].company_logo)


@transaction.atomic
def render_receipt_pdf(*, payment_id: int) -> str:
    """Render and store a payment's receipt, once (the row lock makes a second task wait and
    find it done)."""
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    fields = []
    if not payment.receipt_path:
        payment.receipt_path = new_receipt_path()
        fields.append("receipt_path")
    if payment.receipt_rendered_at and default_storage.exists(payment.receipt_path):
        return payment.receipt_path
    if not payment.receipt_snapshot:
        payment.receipt_snapshot = take_snapshot(payment)
        fields.append("receipt_snapshot")
    _store(payment.receipt_path, receipt_pdf_bytes(payment))
    payment.receipt_rendered_at = timezone.now()
    payment.save(update_fields=[*fields, "receipt_rendered_at"])
    return payment.receipt_path


def schedule_receipt(payment_id: int) -> None:
    from .tasks import render_receipt_pdf_task

    transaction.on_commit(partial(render_receipt_pdf_task.delay, payment_id))


def ensure_receipt(payment: Payment) -> Payment:
    """The receipt file exists (rendered now if the background task has not run yet)."""
    if not (payment.receipt_rendered_at and payment.receipt_path):
        render_receipt_pdf(payment_id=payment.pk)
        payment.refresh_from_db()
    return payment


# --- Messages --------------------------------------------------------------------------------
def _message_context(payment: Payment) -> dict:
    snap = snapshot_of(payment)
    currency = payment.currency
    return {
        "payment": payment,
        "client_name": snap["client_name"],
        "company_name": snap["company_name"],
        "amount": format_money(payment.amount, currency),
        "allocations": [
            f"{a['number']}: {format_money(Decimal(a['amount']), currency)}"
            for a in snap["allocations"]
        ],
        "credit": format_money(Decimal(snap["credit_from_payment"]), currency),
        "has_credit": Decimal(snap["credit_from_payment"]) > 0,
        "balance_after": format_money(Decimal(snap["balance_after"]), currency),
        "portal_link": portal_payments_link(),
    }


def portal_payments_link() -> str:
    from django.conf import settings

    return settings.COMPANY["portal_url"].rstrip("/") + reverse("invoices:portal_payments")


def receipt_email(payment: Payment) -> tuple[str, str]:
    context = _message_context(payment)
    subject = render_to_string("invoices/email/receipt_subject.txt", context).strip()
    body = render_to_string("invoices/email/receipt_body.txt", context).strip() + "\n"
    return subject, body


def receipt_sms(payment: Payment) -> str:
    context = _message_context(payment)
    return " ".join(render_to_string("invoices/email/receipt_sms.txt", context).split())


def send_receipt(*, payment: Payment, requested_by=None, again: bool = False) -> list[Delivery]:
    """Queue the receipt by the client's preferences: email (PDF attached) if they have an
    address, SMS if they agreed to SMS and have a number (GUIDE §2, as `sending.notify_client`).
    The first sending has dedupe keys, so a retried transaction sends nothing twice; "send
    again" from the payment page does not."""
    client = payment.client
    purpose = PURPOSE_RECEIPT_AGAIN if again else PURPOSE_RECEIPT
    sent = []
    if client.email:
        subject, body = receipt_email(payment)
        delivery = queue_email(
            to=[client.email],
            subject=subject,
            body=body,
            # Read when the message is sent; rendered by then (or the delivery retries).
            attachments=[(payment.receipt_filename, payment.receipt_path, PDF)],
            purpose=purpose,
            related=payment,
            dedupe_key=None if again else f"payment:{payment.pk}:receipt:email",
        )
        if delivery:
            sent.append(delivery)
    if can_sms(client):
        delivery = queue_sms(
            to=str(client.phone),
            body=receipt_sms(payment),
            purpose=purpose,
            related=payment,
            dedupe_key=None if again else f"payment:{payment.pk}:receipt:sms",
        )
        if delivery:
            sent.append(delivery)
    if requested_by is not None:
        for delivery in sent:
            delivery.requested_by = requested_by
            delivery.save(update_fields=["requested_by"])
    return sent


@transaction.atomic
def resend_receipt(*, payment: Payment, requested_by=None) -> list[Delivery]:
    """ "Send receipt again" (staff). Empty if the client has neither email nor SMS."""
    if not payment.receipt_path:
        ensure_receipt(payment)
    elif not payment.receipt_rendered_at:
        schedule_receipt(payment.pk)
    return send_receipt(payment=payment, requested_by=requested_by, again=True)


def on_payment_recorded(sender, *, payment: Payment, **kwargs) -> None:
    """Receiver of `payment_recorded`, inside the recording transaction (see module doc)."""
    payment.receipt_snapshot = take_snapshot(payment)
    payment.receipt_path = payment.receipt_path or new_receipt_path()
    payment.save(update_fields=["receipt_snapshot", "receipt_path"])
    if not _muted.get():
        schedule_receipt(payment.pk)
        send_receipt(payment=payment)
