"""`{% load collections_tags %}`: the collections fragments other pages include — the client
page's reminders/suspension card (the clients app never imports invoices, GUIDE §3) and the
invoice page's reminders card."""

from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("invoices/_client_collections.html", takes_context=True)
def client_collections(context, client) -> dict:
    """Three queries: open suspension, overdue figures, reminders."""
    from django.db.models import Count, Sum

    from ..models import Invoice
    from ..reminders import reminders_of_client
    from ..suspension import open_suspension

    today = timezone.localdate()
    overdue = (
        Invoice.objects.overdue(today)
        .filter(client=client)
        .aggregate(balance=Sum("balance"), invoices=Count("pk"))
    )
    return {
        "client": client,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "today": today,
        "paused": bool(client.reminders_paused_until and client.reminders_paused_until > today),
        "suspension": open_suspension(client),
        "overdue_invoices": overdue["invoices"],
        "overdue_balance": overdue["balance"] or 0,
        "reminders": list(reminders_of_client(client, limit=10)),
    }


@register.inclusion_tag("invoices/_invoice_reminders.html", takes_context=True)
def invoice_reminders(context, invoice) -> dict:
    from ..reminders import reminders_of_invoice

    today = timezone.localdate()
    until = invoice.reminders_paused_until
    client_until = invoice.client.reminders_paused_until
    return {
        "invoice": invoice,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "paused": bool(until and until > today),
        "client_paused": bool(client_until and client_until > today),
        "reminders": list(reminders_of_invoice(invoice)[:50]),
    }
