"""The billing run's batch path: plain rows in, one locked counter update, one multi-row write
(COPY on PostgreSQL, bulk_create elsewhere) and one PDF task per batch — with the same invoices,
to the cent, as billing the clients one at a time."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from cms_project.company.models import get_company
from services.models import Service
from services.monthly_bill import monthly_bill

from .. import billing
from ..models import Invoice, NumberCounter
from .factories import (
    RentalEquipmentFactory,
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = date.today().year  # invoices are numbered in the year they are issued (today)


def bill(**kwargs):
    kwargs.setdefault("notify", False)
    return billing.run_billing(year=2026, month=11, **kwargs)


def varied_clients(count: int = 9) -> list:
    """Clients with what makes billing hard: proration, agreed prices, two tax rates, one-time
    fees, rentals with a quantity, several locations, company names, no billing address."""
    fiber = ServiceFactory(name="Fiber 1 Gig", price=D("79.99"), tax_rate=D("8.25"))
    tv = ServiceFactory(
        name="TV Basic", category=Service.Category.TV, price=D("10.05"), tax_rate=D("8.25")
    )
    phone = ServiceFactory(
        name="Phone", category=Service.Category.PHONE, price=D("19.99"), tax_rate=D("0")
    )
    router = ServiceFactory(
        name="Router rental", category=Service.Category.RENTAL, price=D("5.99"), tax_rate=D("7")
    )
    install = ServiceFactory(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.ONE_TIME,
        price=D("99.00"),
        tax_rate=D("8.25"),
    )
    clients = []
    for n in range(count):
        client = SubscriberFactory(
            company_name=f"Shop {n} LLC" if n % 3 == 0 else "",
            **({"billing_street": "", "billing_city": ""} if n % 4 == 1 else {}),
        )
        home = SubscriberLocationFactory(client=client, label="Home")
        SubscriptionFactory(
            service=fiber,
            location=home,
            start_date=date(2026, 11, 1 + n * 3),  # 1, 4, 7 … 25 Nov: prorated but the first
            agreed_price=D("59.99") if n % 2 else None,
        )
        SubscriptionFactory(service=tv, location=home, start_date=date(2026, 11, 16))
        if n % 2 == 0:
            SubscriptionFactory(
                service=router,
                location=home,
                quantity=2,
                start_date=date(2024, 1, 1),
                equipment=RentalEquipmentFactory(location=home),
            )
        if n % 3 == 2:
            shop = SubscriberLocationFactory(client=client, label="Annex")
            SubscriptionFactory(
                service=phone,
                location=shop,
                start_date=date(2025, 1, 1),
                end_date=date(2026, 11, 20),
                status="cancelled",
            )
            SubscriptionFactory(
                service=install, location=shop, start_date=date(2026, 11, 3), end_date=None
            )
        clients.append(client)
    return clients


def snapshot() -> list[tuple]:
    """Everything an invoice says, except what is random or a clock (PDF name, timestamps)."""
    rows = []
    for invoice in Invoice.objects.order_by("client_id").prefetch_related("lines"):
        rows.append(
            (
                invoice.client_id,
                invoice.number,
                invoice.status,
                invoice.issue_date,
                invoice.due_date,
                invoice.currency,
                invoice.client_name,
                invoice.client_account_number,
                invoice.billing_address,
                invoice.company_name,
                invoice.company_address,
                invoice.payment_instructions,
                invoice.portal_url,
                invoice.net,
                invoice.tax,
                invoice.total,
                invoice.balance,
                invoice.tax_breakdown,
                invoice.amount_paid,
                invoice.source,
                (invoice.period_year, invoice.period_month),
                bool(invoice.pdf_path),
                [
                    (
                        line.position,
                        line.description,
                        line.quantity,
                        line.unit_price,
                        line.tax_rate,
                        line.net,
                        line.subscription_id,
                        line.location_id,
                        line.location_text,
                        line.period_start,
                        line.period_end,
                    )
                    for line in invoice.lines.all()
                ],
            )
        )
    return rows


def one_at_a_time(monkeypatch):
    """Make every multi-client batch fail, so each client goes through the per-client path."""
    real = billing._insert_batch

    def insert(ctx, prepared):
        if len(prepared) > 1:
            raise RuntimeError("forced: bill this batch one client at a time")
        return real(ctx, prepared)

    monkeypatch.setattr(billing, "_insert_batch", insert)


# --- Same invoices, to the cent --------------------------------------------------------------
def test_the_batch_path_writes_to_the_cent_what_the_per_client_path_writes(monkeypatch):
    clients = varied_clients()
    with transaction.atomic():
        run = bill(batch_size=4)
        batched = snapshot()
        transaction.set_rollback(True)  # numbers, invoices and the counter go back
    assert run.created_count == len(clients) and run.error_count == 0
    one_at_a_time(monkeypatch)
    run = bill(batch_size=4)
    assert run.created_count == len(clients) and run.error_count == 0
    assert snapshot() == batched
    assert run.total_billed == sum((row[15] for row in batched), D("0"))


def test_each_run_invoice_says_what_the_clients_monthly_bill_says():
    clients = varied_clients()
    bill(batch_size=1000)
    for client in clients:
        invoice = Invoice.objects.get(client=client)
        expected = monthly_bill(client=client, year=2026, month=11)
        assert [(line.description, line.net) for line in invoice.lines.all()] == [
            (line.description, line.net) for line in expected.lines
        ]
        assert (invoice.net, invoice.tax, invoice.total) == (
            expected.net,
            expected.tax,
            expected.total,
        )
        assert invoice.tax_breakdown == [
            {"rate": str(g.rate), "net": str(g.net), "tax": str(g.tax)} for g in expected.tax_groups
        ]


@pytest.mark.postgres_only
def test_copy_writes_exactly_the_rows_bulk_create_writes(monkeypatch):
    varied_clients()
    with transaction.atomic():
        bill(batch_size=4)
        copied = snapshot()
        transaction.set_rollback(True)
    monkeypatch.setattr(billing, "_write_postgresql", billing._write_with_orm)
    bill(batch_size=4)
    assert snapshot() == copied


# --- Numbers ---------------------------------------------------------------------------------
def test_numbers_are_dense_and_follow_the_clients_order_across_batches():
    clients = varied_clients(7)
    bill(batch_size=3)
    numbers = list(Invoice.objects.order_by("client_id").values_list("number", flat=True))
    assert numbers == [f"INV-{YEAR}-{n:06d}" for n in range(1, 8)]
    assert [c.pk for c in clients] == sorted(c.pk for c in clients)
    assert NumberCounter.objects.get(series="INV", year=YEAR).last_number == 7


def test_each_batch_takes_its_numbers_with_one_counter_update(monkeypatch):
    varied_clients(7)
    taken = []
    real = billing.take_numbers

    def take_numbers(**kwargs):
        assert connection.in_atomic_block
        taken.append(kwargs["count"])
        return real(**kwargs)

    monkeypatch.setattr(billing, "take_numbers", take_numbers)
    bill(batch_size=3)
    assert taken == [3, 3, 1]


def test_a_run_continues_a_series_that_manual_invoices_started():
    from .factories import issued_invoice

    manual = issued_invoice()
    varied_clients(3)
    bill()
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-{YEAR}-{n:06d}" for n in range(1, 5)]
    assert manual.number == f"INV-{YEAR}-000001"


# --- Re-runs ---------------------------------------------------------------------------------
def test_running_the_period_again_in_batches_creates_nothing_and_takes_no_number():
    varied_clients(5)
    first = bill(batch_size=2)
    before = snapshot()
    again = bill(batch_size=2)
    assert (first.created_count, again.created_count, again.skipped_count) == (5, 0, 5)
    assert (again.clients_total, again.clients_processed) == (5, 5)
    assert again.total_billed == D("0.00")
    assert snapshot() == before
    assert NumberCounter.objects.get(series="INV", year=YEAR).last_number == 5


def test_a_client_added_to_a_billed_period_is_billed_alone_by_the_next_run():
    varied_clients(4)
    bill(batch_size=3)
    late = SubscriberFactory()
    SubscriptionFactory(
        service=Service.objects.get(name="Fiber 1 Gig"),
        location=SubscriberLocationFactory(client=late),
        start_date=date(2026, 11, 1),
    )
    run = bill(batch_size=3)
    assert (run.created_count, run.skipped_count) == (1, 4)
    assert Invoice.objects.get(client=late).number == f"INV-{YEAR}-000005"


# --- Errors ----------------------------------------------------------------------------------
def test_one_client_failing_inside_a_batch_is_reported_and_the_others_are_billed(monkeypatch):
    clients = varied_clients(5)
    bad = clients[2]
    real = billing.after_batch_issued
    calls = []

    def after_batch_issued(*, invoice_ids, client_ids):
        calls.append(list(client_ids))
        if bad.pk in client_ids:
            raise ValueError("credit ledger of this client is inconsistent")
        return real(invoice_ids=invoice_ids, client_ids=client_ids)

    monkeypatch.setattr(billing, "after_batch_issued", after_batch_issued)
    run = bill(batch_size=1000)
    # The whole batch first, then one client at a time.
    assert calls[0] == [c.pk for c in clients]
    assert calls[1:] == [[c.pk] for c in clients]
    assert (run.created_count, run.error_count, run.skipped_count) == (4, 1, 0)
    error = run.errors.get()
    assert error.client_id == bad.pk and "credit ledger" in error.message
    assert not Invoice.objects.filter(client=bad).exists()
    # Gapless: the failed client's number was given back to the series.
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-{YEAR}-{n:06d}" for n in range(1, 5)
    ]
    monkeypatch.setattr(billing, "after_batch_issued", real)
    again = bill()
    assert (again.created_count, again.skipped_count, again.error_count) == (1, 4, 0)
    assert Invoice.objects.get(client=bad).number == f"INV-{YEAR}-000005"


@pytest.mark.postgres_only
def test_a_row_postgresql_refuses_in_the_copy_fails_only_its_client(monkeypatch):
    clients = varied_clients(4)
    bad = clients[1]
    real = billing.lines_for_client

    def lines_for_client(subscriptions, **kwargs):
        lines = real(subscriptions, **kwargs)
        if subscriptions and subscriptions[0].location.pk in {
            loc.pk for loc in bad.locations.all()
        }:
            from dataclasses import replace

            lines[0] = replace(lines[0], description="x" * 301)  # the column holds 300
        return lines

    monkeypatch.setattr(billing, "lines_for_client", lines_for_client)
    run = bill()
    assert (run.created_count, run.error_count) == (3, 1)
    assert run.errors.get().client_id == bad.pk
    assert "DataError" in run.errors.get().message


# --- Drafts mode -----------------------------------------------------------------------------
def test_drafts_mode_writes_unnumbered_drafts_with_their_figures_and_no_pdf(
    monkeypatch, staff_user, django_capture_on_commit_callbacks
):
    company = get_company()
    company.issue_invoices_immediately = False
    company.save()
    clients = varied_clients(5)
    hooks = []
    monkeypatch.setattr(billing, "after_batch_issued", lambda **kw: hooks.append(kw))
    with django_capture_on_commit_callbacks() as callbacks:
        run = bill(batch_size=2)
    assert not run.issue_invoices and run.created_count == 5
    assert callbacks == [] and hooks == []  # nothing issued: no PDF, no hook
    assert not NumberCounter.objects.exists()
    for client in clients:
        draft = Invoice.objects.get(client=client)
        expected = monthly_bill(client=client, year=2026, month=11)
        assert (draft.status, draft.number, draft.pdf_path) == ("draft", "", "")
        assert (draft.net, draft.tax, draft.total) == (expected.net, expected.tax, expected.total)
        assert draft.client_name == client.display_name and draft.billing_address
        assert draft.lines.count() == len(expected.lines)
    assert billing.issue_drafts_of_run(run=run, issued_by=staff_user) == 5
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-{YEAR}-{n:06d}" for n in range(1, 6)
    ]


# --- After the batch: hook and PDFs ----------------------------------------------------------
def test_the_hook_gets_each_batchs_issued_invoices_inside_its_transaction(monkeypatch):
    clients = varied_clients(5)
    calls = []

    def after_batch_issued(*, invoice_ids, client_ids):
        assert connection.in_atomic_block
        # Inside the transaction the invoices exist, issued, for these clients.
        issued = dict(Invoice.objects.filter(pk__in=invoice_ids).values_list("pk", "client_id"))
        assert [issued[pk] for pk in invoice_ids] == client_ids
        calls.append(client_ids)

    monkeypatch.setattr(billing, "after_batch_issued", after_batch_issued)
    bill(batch_size=2)
    assert calls == [[c.pk for c in clients[i : i + 2]] for i in (0, 2, 4)]


def test_each_batch_queues_one_pdf_task_for_its_invoices_on_commit(
    django_capture_on_commit_callbacks,
):
    varied_clients(5)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        bill(batch_size=2, render_pdfs=True)
    assert len(callbacks) == 3  # three batches, three tasks (not five)
    invoices = Invoice.objects.order_by("pk")
    assert [callback.args[0] for callback in callbacks] == [
        [i.pk for i in invoices[n : n + 2]] for n in (0, 2, 4)
    ]
    assert all(invoice.pdf_rendered_at for invoice in invoices)


def test_the_batch_pdf_task_skips_invoices_already_rendered_so_a_retry_resumes():
    from ..pdf import render_invoice_pdf
    from ..tasks import render_invoice_pdfs_task

    varied_clients(2)
    bill()
    first, second = Invoice.objects.order_by("pk")
    render_invoice_pdf(invoice_id=first.pk)
    rendered_at = Invoice.objects.get(pk=first.pk).pdf_rendered_at
    render_invoice_pdfs_task([first.pk, second.pk])
    assert Invoice.objects.get(pk=first.pk).pdf_rendered_at == rendered_at
    assert Invoice.objects.get(pk=second.pk).pdf_rendered_at is not None


# --- Client credit --------------------------------------------------------------------------
def test_credit_the_client_holds_pays_the_run_invoice_in_the_same_transaction():
    from ..allocation import record_payment
    from ..credit_notes import create_credit_note
    from ..ledger import client_credit
    from ..models import PaymentMethod
    from .factories import issued_invoice, line

    clients = varied_clients(4)
    rich, noted, plain = clients[0], clients[1], clients[2]
    payment = record_payment(
        client=rich, amount=D("500.00"), method=PaymentMethod.CASH, received_on=date.today()
    )  # no open invoice: all of it is credit
    earlier = issued_invoice(client=noted, lines=[line(unit_price="20.00")])
    record_payment(
        client=noted, amount=D("20.00"), method=PaymentMethod.CASH, received_on=date.today()
    )
    create_credit_note(invoice=Invoice.objects.get(pk=earlier.pk), reason="Outage")  # 20.00
    assert (client_credit(rich), client_credit(noted)) == (D("500.00"), D("20.00"))

    bill()

    period = {"period_year": 2026, "period_month": 11}
    paid = Invoice.objects.get(client=rich, **period)
    assert (paid.amount_paid, paid.balance, paid.status) == (paid.total, D("0.00"), "paid")
    payment.refresh_from_db()
    assert payment.unallocated == D("500.00") - paid.total
    partly = Invoice.objects.get(client=noted, **period)
    assert partly.amount_paid == D("20.00") and partly.status == "partially_paid"
    assert partly.balance == partly.total - D("20.00")
    assert client_credit(noted) == D("0.00")
    untouched = Invoice.objects.get(client=plain, **period)
    assert (untouched.amount_paid, untouched.status) == (D("0.00"), "issued")


def test_finding_the_batchs_clients_with_credit_is_one_query():
    from django.test.utils import CaptureQueriesContext

    clients = varied_clients(3)
    with CaptureQueriesContext(connection) as queries:
        billing.after_batch_issued(invoice_ids=[], client_ids=[c.pk for c in clients])
    assert len(queries.captured_queries) == 1


# --- Two runs at once (PostgreSQL, real threads) ---------------------------------------------
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_in_big_batches_bill_each_client_once_with_dense_numbers():
    from .test_concurrency import run_in_threads

    get_company()
    fiber = ServiceFactory(name="Fiber 1 Gig", price=D("60.00"), tax_rate=D("8.25"))
    for n in range(150):
        SubscriptionFactory(
            service=fiber,
            location=SubscriberLocationFactory(),
            start_date=date(2026, 11, 16) if n % 10 == 0 else date(2024, 1, 1),
        )

    def run(_):
        return bill(batch_size=60, render_pdfs=False)

    runs, errors = run_in_threads(run, [(1,), (2,)])
    assert errors == [] and len(runs) == 2
    invoices = Invoice.objects.filter(period_year=2026, period_month=11)
    assert invoices.count() == 150
    assert invoices.values("client").distinct().count() == 150
    assert sorted(invoices.values_list("number", flat=True)) == [
        f"INV-{YEAR}-{n:06d}" for n in range(1, 151)
    ]
    assert sum(r.created_count for r in runs) == 150
    assert sum(r.skipped_count for r in runs) == 150
    assert sum(r.error_count for r in runs) == 0
    # 135 full months and 15 of 15/30 days, at 8.25 % tax per invoice.
    assert sum(r.total_billed for r in runs) == 135 * D("64.95") + 15 * D("32.48")
    assert sum(len(i.lines.all()) for i in invoices.prefetch_related("lines")) == 150


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_run_and_manual_issues_for_the_same_clients_at_once_never_deadlock(monkeypatch):
    # (Without the run locking its clients before the counter, this deadlocks.)
    monkeypatch.setattr("invoices.issuing.schedule_pdf", lambda invoice_id: None)
    from ..issuing import issue_invoice
    from .factories import draft_invoice
    from .test_concurrency import run_in_threads

    get_company()
    fiber = ServiceFactory(name="Fiber 1 Gig", price=D("60.00"), tax_rate=D("0"))
    locations = [SubscriberLocationFactory() for _ in range(30)]
    for location in locations:
        SubscriptionFactory(service=fiber, location=location, start_date=date(2024, 1, 1))
    # Staff issue manual invoices to clients the run is billing (reverse order: worst case).
    drafts = [draft_invoice(client=loc.client).pk for loc in reversed(locations[::3])]

    def work(kind, pk):
        if kind == "run":
            return bill(render_pdfs=False)
        return issue_invoice(invoice=Invoice.objects.get(pk=pk))

    results, errors = run_in_threads(work, [("run", None)] + [("issue", pk) for pk in drafts])
    assert errors == []
    run = next(r for r in results if not isinstance(r, Invoice))
    assert (run.created_count, run.error_count) == (30, 0)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-{YEAR}-{n:06d}" for n in range(1, 41)
    ]
