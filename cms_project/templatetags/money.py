"""`{% load money %}`: `{{ amount|money }}` and `{{ rate|tax_rate }}` for every page.

Registered in settings (TEMPLATES OPTIONS "libraries") because `cms_project` is not an app;
every app formats money the same way, through `cms_project.money`.
"""

from decimal import Decimal

from django import template

from cms_project.money import format_money, format_rate

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return format_money(Decimal(value))


@register.filter
def tax_rate(value) -> str:
    if value is None or value == "":
        return ""
    return format_rate(Decimal(value))
