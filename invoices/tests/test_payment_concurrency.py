"""Two payments for the same invoice posted at once on PostgreSQL (real threads, each with its
own connection): the locks make them run one after the other, and balances stay right."""

import threading
from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection

from .. import running_totals
from ..allocation import Pick, record_payment
from ..ledger import client_balance
from ..models import Allocation, Invoice, PaymentMethod
from .factories import SubscriberFactory, issued_invoice, line

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)


def run_together(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors, results = [], []

    def worker(*args):
        try:
            barrier.wait(timeout=30)
            results.append(target(*args))
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def test_two_payments_at_once_for_one_invoice_never_over_allocate():
    client = SubscriberFactory()
    invoice = issued_invoice(client=client, lines=[line(unit_price="100.00")])

    def pay(amount):
        return record_payment(
            client=client, amount=amount, method=PaymentMethod.CASH, received_on=date.today()
        )

    results, errors = run_together(pay, [(D("70.00"),), (D("70.00"),)])
    assert errors == [] and len(results) == 2
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("100.00") and invoice.balance == D("0.00")
    assert invoice.status == Invoice.Status.PAID
    allocated = sorted(a.amount for a in Allocation.objects.filter(invoice=invoice))
    assert allocated == [D("30.00"), D("70.00")]
    assert client_balance(client) == D("-40.00")  # in credit
    # Both added to the same day's running total (an upsert each, one waiting for the other).
    assert running_totals.differences() == []
    assert sorted(p.number for p in results) == [
        f"RCT-{date.today().year}-000001",
        f"RCT-{date.today().year}-000002",
    ]


def test_two_picked_payments_for_the_whole_balance_one_is_refused():
    client = SubscriberFactory()
    invoice = issued_invoice(client=client, lines=[line(unit_price="50.00")])

    def pay():
        return record_payment(
            client=client,
            amount=D("50.00"),
            method=PaymentMethod.BANK_TRANSFER,
            received_on=date.today(),
            picks=[Pick(invoice.pk, D("50.00"))],
        )

    results, errors = run_together(pay, [(), ()])
    assert len(results) == 1 and len(errors) == 1
    assert "open invoices" in str(errors[0])  # paid by the first: no longer open
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("50.00") and invoice.balance == D("0.00")


def test_a_payment_committing_while_the_aging_rows_are_rebuilt_is_not_lost():
    """The rebuild waits for the payment's transaction (advisory lock: the payment's refresh
    shared, the rebuild exclusive), so it sees the payment; without the lock it would age the
    balance from before the payment and the payment's own refresh, for yesterday, is gone."""
    from django.db import transaction
    from django.utils import timezone

    from .. import aging_rows
    from ..models import ClientAging

    today = timezone.localdate()
    client = SubscriberFactory()
    invoice = issued_invoice(client=client, lines=[line(unit_price="100.00")])
    Invoice.objects.filter(pk=invoice.pk).update(due_date=date(2020, 1, 1))
    aging_rows.rebuild(date(2020, 6, 1))  # yesterday's rows, as before the collections run
    paid, release = threading.Event(), threading.Event()
    errors = []

    def pay():
        try:
            with transaction.atomic():
                record_payment(
                    client=client, amount=D("60.00"), method=PaymentMethod.CASH, received_on=today
                )
                paid.set()
                release.wait(timeout=10)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def rebuild():
        try:
            paid.wait(timeout=10)
            aging_rows.rebuild(today)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay), threading.Thread(target=rebuild)]
    for thread in threads:
        thread.start()
    paid.wait(timeout=10)
    threads[1].join(timeout=1)
    assert threads[1].is_alive()  # waiting for the payment's transaction
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and not any(thread.is_alive() for thread in threads)
    assert ClientAging.objects.get(client=client).overdue == D("40.00")
    assert aging_rows.differences(today) == []
