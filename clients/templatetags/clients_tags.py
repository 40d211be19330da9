"""Display helpers for clients: phone numbers, status badges, balances."""

from django import template
from django.utils.html import format_html

from cms_project.money import format_money

from .. import ledger_hooks
from ..validation import phone_for_display

register = template.Library()

_BADGES = {
    # client statuses
    "prospect": "text-bg-info",
    "active": "text-bg-success",
    "suspended": "text-bg-warning",
    "cancelled": "text-bg-secondary",
    # locations
    "planned": "text-bg-info",
    "inactive": "text-bg-secondary",
    # equipment
    "installed": "text-bg-success",
    "in_stock": "text-bg-light border",
    "returned": "text-bg-secondary",
    "faulty": "text-bg-danger",
    # tasks
    "open": "text-bg-primary",
    "in_progress": "text-bg-info",
    "done": "text-bg-success",
}


@register.filter
def phone(value) -> str:
    """E.164 → national format (international for numbers of other countries)."""
    return phone_for_display(value)


@register.filter
def badge_class(status: str) -> str:
    return _BADGES.get(str(status), "text-bg-light border")


@register.filter
def balance(value) -> str:
    """A client's ledger balance as the list and the client page show it: owed (bold), in
    credit, or settled; "—" where no ledger is registered. A filter rather than an included
    template, which cost more than the rest of a client list row."""
    amount = ledger_hooks.money(value)
    if amount is None:
        return "—"
    if amount < 0:
        return format_html(
            '{} <span class="small text-success">(in credit)</span>', format_money(amount)
        )
    if amount > 0:
        return format_html(
            '<span class="fw-semibold">{}</span> <span class="small text-body-secondary">owed'
            "</span>",
            format_money(amount),
        )
    return format_money(amount)
