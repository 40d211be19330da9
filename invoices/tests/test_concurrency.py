"""Concurrency on PostgreSQL with real threads, each with its own connection and transactions:
gapless numbering under contention, and two billing runs of the same period at once."""

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from cms_project.company.models import get_company

from ..billing import run_billing
from ..issuing import issue_invoice
from ..models import BillingRun, Invoice, NumberCounter
from .factories import (
    ServiceFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
    draft_invoice,
)

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_pdf_rendering(monkeypatch):
    # The PDFs are not what these tests are about; WeasyPrint in 20 threads only slows them.
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)
    monkeypatch.setattr("invoices.billing.schedule_pdfs", lambda invoice_ids: None)


def run_in_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    errors, results = [], []

    def worker(*args):
        try:
            barrier.wait(timeout=30)
            results.append(target(*args))
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=worker, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


class Rollback(Exception):
    pass


def test_twenty_concurrent_issues_get_dense_unique_numbers_even_when_some_roll_back():
    get_company()
    year = date.today().year
    keep = [draft_invoice().pk for _ in range(20)]
    roll_back = [draft_invoice().pk for _ in range(5)]

    def issue(pk, fail):
        with transaction.atomic():
            invoice = issue_invoice(invoice=Invoice.objects.get(pk=pk))
            if fail:
                raise Rollback(invoice.number)  # e.g. a later step of the request failed
        return invoice.number

    args = [(pk, False) for pk in keep] + [(pk, True) for pk in roll_back]
    results, errors = run_in_threads(issue, args)
    assert len(results) == 20
    assert len(errors) == 5 and all(isinstance(e, Rollback) for e in errors)
    numbers = sorted(Invoice.objects.exclude(number="").values_list("number", flat=True))
    assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 21)]
    assert sorted(results) == numbers
    assert NumberCounter.objects.get(series="INV", year=year).last_number == 20
    assert Invoice.objects.filter(pk__in=roll_back, status=Invoice.Status.DRAFT).count() == 5


def test_two_billing_runs_at_once_create_no_duplicates_and_dense_numbers():
    get_company()
    service = ServiceFactory(name="Fiber 1 Gig")
    for _ in range(40):
        SubscriptionFactory(
            service=service, location=SubscriberLocationFactory(), start_date=date(2024, 1, 1)
        )

    def bill(_):
        return run_billing(year=2026, month=11, notify=False, batch_size=7)

    runs, errors = run_in_threads(bill, [(1,), (2,)])
    assert errors == []
    assert len(runs) == 2
    invoices = Invoice.objects.filter(period_year=2026, period_month=11)
    assert invoices.count() == 40
    assert invoices.values("client").distinct().count() == 40
    year = date.today().year
    assert sorted(invoices.values_list("number", flat=True)) == [
        f"INV-{year}-{n:06d}" for n in range(1, 41)
    ]
    runs = list(BillingRun.objects.all())
    assert sum(r.created_count for r in runs) == 40
    assert sum(r.skipped_count for r in runs) == 40
    assert sum(r.error_count for r in runs) == 0


def test_a_billing_run_and_manual_issues_at_once_share_one_dense_series():
    get_company()
    service = ServiceFactory(name="Fiber 1 Gig")
    for _ in range(15):
        SubscriptionFactory(
            service=service, location=SubscriberLocationFactory(), start_date=date(2024, 1, 1)
        )
    drafts = [draft_invoice().pk for _ in range(5)]

    def work(kind, pk):
        if kind == "run":
            return run_billing(year=2026, month=11, notify=False, batch_size=4)
        return issue_invoice(invoice=Invoice.objects.get(pk=pk))

    _, errors = run_in_threads(work, [("run", None)] + [("issue", pk) for pk in drafts])
    assert errors == []
    year = date.today().year
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-{year}-{n:06d}" for n in range(1, 21)
    ]
