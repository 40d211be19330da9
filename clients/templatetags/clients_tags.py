"""Display helpers for clients: phone numbers, status badges."""

from django import template

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
