"""`{% load invoice_tags %}`: money in a document's own currency, and the invoices of a
client for the staff client page (`invoices/_client_invoices.html`), and its money view
(`invoices/_client_money.html`)."""

from decimal import Decimal

from django import template

from cms_project.money import format_money

register = template.Library()


@register.filter
def money_in(value, currency: str = "") -> str:
    """`{{ invoice.total|money_in:invoice.currency }}`: an issued document shows the currency
    it was issued in, whatever the settings say today."""
    if value is None or value == "":
        return ""
    return format_money(Decimal(value), currency or None)


@register.simple_tag
def client_invoice_summary(client, limit: int = 10) -> dict:
    """The latest invoices of a client and their open balance: three queries."""
    from ..queries import client_invoice_summary as summary

    return summary(client=client, limit=limit)


@register.simple_tag
def client_money(client) -> dict:
    """Balance, credit, lifetime value and the latest payments of a client: two queries."""
    from ..payment_queries import client_money as money_view

    return money_view(client=client)


@register.simple_tag
def optional_url(name: str, *args) -> str:
    """`{% optional_url "invoices:portal_payments" as url %}`: the URL, or "" while no such
    page exists (pages other parts of the project add on their own schedule)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return ""
