"""`{% load services_bill %}{% monthly_bill client %}`: the monthly bill fragment for pages of
other apps (the client page), which must not import the services app (GUIDE §3: dependencies
point one way; a higher app offers a template fragment instead)."""

from django import template

from services.monthly_bill import monthly_bill as compute_monthly_bill

register = template.Library()


@register.inclusion_tag("services/_monthly_bill.html")
def monthly_bill(client, year=None, month=None):
    return {"bill": compute_monthly_bill(client=client, year=year, month=month)}
