"""Factories for the invoices tests; clients, services and subscriptions come from the services
factories (SubscriberFactory is a clients.Client)."""

from decimal import Decimal

import factory

from cms_project.money import line_net
from services.tests.factories import (  # noqa: F401  (re-exported for the invoices tests)
    RentalEquipmentFactory,
    ServiceFactory,
    ServicePriceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

from ..drafts import LineData, create_draft
from ..issuing import issue_invoice
from ..models import Invoice


def line(description="Repair visit", quantity="1", unit_price="80.00", tax_rate="0") -> LineData:
    return LineData(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        tax_rate=Decimal(tax_rate),
    )


def draft_invoice(*, client=None, lines=None, notes="") -> Invoice:
    client = client or SubscriberFactory()
    return create_draft(client=client, lines=lines or [line()], notes=notes)


def issued_invoice(*, client=None, lines=None, issued_by=None, **kwargs) -> Invoice:
    return issue_invoice(
        invoice=draft_invoice(client=client, lines=lines), issued_by=issued_by, **kwargs
    )


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A bare draft with no lines (for list tests that only need rows)."""

    class Meta:
        model = Invoice

    client = factory.SubFactory(SubscriberFactory)
    currency = "USD"


def expected_net(quantity: str, unit_price: str) -> Decimal:
    return line_net(quantity=Decimal(quantity), unit_price=Decimal(unit_price))
