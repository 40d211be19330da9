"""The benchmark data set keeps the domain's rules: payments generated in bulk (SQL on
PostgreSQL, record_payment elsewhere) leave the same figures the allocation code would."""

import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from clients.models import Client
from invoices import running_totals
from invoices.demo import seed_demo_payments
from invoices.models import Allocation, Invoice, Payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_clients_makes_a_paid_year_that_follows_the_rules(capsys):
    call_command("seed_demo", clients=3, months=4, force=True)
    out = capsys.readouterr().out
    assert re.search(r"Billed the last 4 months: \d+ new invoices in [\d.]+ s", out)
    assert re.search(r"Payments: \d+ payments, \d+ allocations in [\d.]+ s", out)

    issued = Invoice.objects.issued()
    assert issued.filter(status=Invoice.Status.PAID).exists()
    for invoice in issued.annotate(allocated=Sum("allocations__amount")):
        assert invoice.amount_paid == (invoice.allocated or Decimal("0.00"))
        if invoice.status == Invoice.Status.PAID:
            assert invoice.balance == 0
        elif invoice.status == Invoice.Status.PARTIALLY_PAID:
            assert invoice.amount_paid > 0 and invoice.balance > 0
        else:
            assert invoice.amount_paid == 0
    by_year = defaultdict(list)
    for payment in Payment.objects.all():
        assert payment.unallocated == 0
        assert payment.amount == payment.allocations.get().amount
        year, number = payment.number.split("-")[1:]
        assert int(year) == payment.received_on.year
        by_year[year].append(int(number))
    for numbers in by_year.values():  # dense: 1..n in every year
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    for client in Client.objects.filter(payments__isnull=False).distinct():
        latest = client.payments.order_by("-received_on").first().received_on
        assert client.last_payment_date == latest

    # Payments written in bulk (on PostgreSQL) leave the dashboard's running totals exact.
    assert running_totals.differences() == []

    # Run again: nothing is paid twice.
    assert seed_demo_payments() == (0, 0)
    assert Allocation.objects.count() == Payment.objects.count()
