"""Sending invoices and credit notes to people: by email with the PDF attached (To, Cc, Bcc),
or by SMS with the number, amount, due date and a link to the invoice in the portal.

Every message goes through `cms_project.messaging.sending` (a Delivery row, sent by a task
after commit, retried with backoff, re-sendable from the invoice page), related to the
invoice so the invoice page lists its deliveries.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cms_project.messaging.models import Delivery
from cms_project.messaging.sending import queue_email, queue_sms
from cms_project.money import format_money

from .issuing import InvoiceError, schedule_pdf
from .models import CreditNote, Invoice

PDF = "application/pdf"
PURPOSE_ISSUED = "invoice"
PURPOSE_STAFF = "invoice-send"
PURPOSE_PORTAL = "invoice-portal"
PURPOSE_CREDIT_NOTE = "credit-note"
# "Email me this invoice" in the portal can send to an address the client types: a small
# daily allowance per invoice keeps it from being used to spam someone.
PORTAL_SENDS_PER_DAY = 5


def portal_link(invoice: Invoice) -> str:
    return settings.COMPANY["portal_url"].rstrip("/") + reverse(
        "invoices_portal:detail", args=[invoice.pk]
    )


def _context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "client_name": invoice.client_name,
        "total": format_money(invoice.total, invoice.currency),
        "balance": format_money(invoice.balance, invoice.currency),
        "portal_link": portal_link(invoice),
        "company_name": invoice.company_name,
    }


def default_email(invoice: Invoice) -> tuple[str, str]:
    """(subject, body) staff start from on the send page, and what automatic sends use."""
    context = _context(invoice)
    subject = render_to_string("invoices/email/invoice_subject.txt", context).strip()
    body = render_to_string("invoices/email/invoice_body.txt", context).strip() + "\n"
    return subject, body


def default_sms(invoice: Invoice) -> str:
    context = _context(invoice)
    return " ".join(render_to_string("invoices/email/invoice_sms.txt", context).split())


def _attachment(invoice: Invoice, *, ensure_pdf: bool = True) -> tuple[str, str, str]:
    if ensure_pdf and not invoice.pdf_ready:
        # Normally rendered right after issue; if that task has not run yet, ask again (it
        # renders once) so the file is there when the email task reads it.
        schedule_pdf(invoice.pk)
    return (invoice.pdf_filename, invoice.pdf_path, PDF)


def _require_issued(invoice: Invoice) -> None:
    if invoice.is_draft or not invoice.pdf_path:
        raise InvoiceError("Issue the invoice before sending it.")


def _by(delivery: Delivery | None, user) -> Delivery | None:
    if delivery is not None and user is not None:
        delivery.requested_by = user
        delivery.save(update_fields=["requested_by"])
    return delivery


def email_invoice(
    *,
    invoice: Invoice,
    to: list[str],
    cc: list[str] = (),
    bcc: list[str] = (),
    subject: str,
    body: str,
    requested_by=None,
    purpose: str = PURPOSE_STAFF,
) -> Delivery:
    """Queue the invoice by email with its PDF attached (read when the message is sent: the
    PDF may still be rendering, in which case the delivery waits and retries)."""
    _require_issued(invoice)
    delivery = queue_email(
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        body=body,
        attachments=[_attachment(invoice)],
        purpose=purpose,
        related=invoice,
    )
    return _by(delivery, requested_by)


def sms_invoice(*, invoice: Invoice, to: str, body: str, requested_by=None) -> Delivery | None:
    """Queue the SMS; None if the number has opted out (STOP)."""
    _require_issued(invoice)
    delivery = queue_sms(to=to, body=body, purpose=PURPOSE_STAFF, related=invoice)
    return _by(delivery, requested_by)


def can_sms(client) -> bool:
    """GUIDE §2: SMS only to clients who consented, on the number they gave."""
    return bool(client.consent_sms and client.phone)


def notify_client(*, invoice: Invoice) -> list[Delivery]:
    """Send a newly issued invoice by the client's preferences: email if they have an email
    address, SMS if they consented to SMS. Dedupe keys make a retried issue send nothing twice."""
    client = invoice.client
    sent = []
    if client.email:
        subject, body = default_email(invoice)
        delivery = queue_email(
            to=[client.email],
            subject=subject,
            body=body,
            # Issuing has just scheduled the render.
            attachments=[_attachment(invoice, ensure_pdf=False)],
            purpose=PURPOSE_ISSUED,
            related=invoice,
            dedupe_key=f"invoice:{invoice.pk}:issued:email",
        )
        if delivery:
            sent.append(delivery)
    if can_sms(client):
        delivery = queue_sms(
            to=str(client.phone),
            body=default_sms(invoice),
            purpose=PURPOSE_ISSUED,
            related=invoice,
            dedupe_key=f"invoice:{invoice.pk}:issued:sms",
        )
        if delivery:
            sent.append(delivery)
    return sent


def portal_sends_today(invoice: Invoice) -> int:
    since = timezone.now() - timedelta(days=1)
    return Delivery.objects.filter(
        related_type=ContentType.objects.get_for_model(Invoice),
        related_id=invoice.pk,
        purpose=PURPOSE_PORTAL,
        created_at__gte=since,
    ).count()


def email_invoice_from_portal(*, invoice: Invoice, user, other_address: str = "") -> Delivery:
    """ "Email me this invoice": to the client's own address, plus one other they typed."""
    if portal_sends_today(invoice) >= PORTAL_SENDS_PER_DAY:
        raise InvoiceError(
            "This invoice has been emailed several times today already; please try tomorrow."
        )
    own = invoice.client.email or user.email
    to = [own]
    if other_address and other_address.lower() != own.lower():
        to.append(other_address)
    subject, body = default_email(invoice)
    return email_invoice(
        invoice=invoice,
        to=to,
        subject=subject,
        body=body,
        requested_by=user,
        purpose=PURPOSE_PORTAL,
    )


def email_credit_note(*, credit_note: CreditNote, requested_by=None) -> Delivery | None:
    client = credit_note.client
    if not client.email:
        return None
    context = {"credit_note": credit_note, "total": format_money(credit_note.total)}
    subject = render_to_string("invoices/email/credit_note_subject.txt", context).strip()
    body = render_to_string("invoices/email/credit_note_body.txt", context).strip() + "\n"
    delivery = queue_email(
        to=[client.email],
        subject=subject,
        body=body,
        attachments=[(credit_note.pdf_filename, credit_note.pdf_path, PDF)],
        purpose=PURPOSE_CREDIT_NOTE,
        related=credit_note.invoice,
    )
    return _by(delivery, requested_by)
