"""The billing run: one invoice per client per period, to the cent, idempotent, resilient."""

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cms_project.company.models import get_company
from services.models import Service, Subscription
from services.monthly_bill import monthly_bill

from ..billing import clients_to_bill, issue_drafts_of_run, parse_period, run_billing
from ..models import BillingRun, Invoice
from .factories import (
    RentalEquipmentFactory,
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def subscribe(client=None, *, price="60.00", tax="0", start=date(2024, 1, 1), end=None, **kw):
    location = SubscriberLocationFactory(client=client or SubscriberFactory())
    service = kw.pop("service", None) or ServiceFactory(
        name=kw.pop("name", "Fiber 1 Gig"), price=D(price), tax_rate=D(tax)
    )
    return SubscriptionFactory(
        service=service, location=location, start_date=start, end_date=end, **kw
    )


def bill(year=2026, month=11, **kwargs) -> BillingRun:
    return run_billing(year=year, month=month, notify=False, **kwargs)


def only_line(subscription, year=2026, month=11):
    invoice = Invoice.objects.get(
        client=subscription.location.client, period_year=year, period_month=month
    )
    return invoice.lines.get()


# --- Money to the cent: proration edges ----------------------------------------------------
def test_a_subscription_starting_on_the_1st_bills_the_whole_month_without_proration_text():
    sub = subscribe(start=date(2026, 11, 1))
    bill()
    line = only_line(sub)
    assert line.net == D("60.00")
    assert line.description == "Fiber 1 Gig"


def test_a_subscription_ending_on_the_last_day_bills_the_whole_month():
    sub = subscribe(end=date(2026, 11, 30), status=Subscription.Status.CANCELLED)
    bill()
    assert only_line(sub).net == D("60.00")


def test_a_start_inside_the_month_is_prorated_by_days_and_says_how():
    sub = subscribe(start=date(2026, 11, 12))
    bill()
    line = only_line(sub)
    assert line.net == D("38.00")  # 60 x 19/30
    assert line.description == "Fiber 1 Gig — 12–30 Nov, 19/30 days"
    assert (line.period_start, line.period_end) == (date(2026, 11, 12), date(2026, 11, 30))


def test_a_one_day_subscription_bills_one_day():
    sub = subscribe(start=date(2026, 11, 30), end=date(2026, 11, 30))
    bill()
    line = only_line(sub)
    assert line.net == D("2.00")
    assert line.description == "Fiber 1 Gig — 30 Nov, 1/30 days"


def test_february_has_28_days():
    sub = subscribe(start=date(2026, 2, 15))
    bill(2026, 2)
    line = only_line(sub, 2026, 2)
    assert line.net == D("30.00")  # 60 x 14/28
    assert line.description.endswith("15–28 Feb, 14/28 days")


def test_a_leap_february_has_29_days():
    sub = subscribe(start=date(2028, 2, 15))
    bill(2028, 2)
    line = only_line(sub, 2028, 2)
    assert line.net == D("31.03")  # 60 x 15/29 = 31.0344…
    assert line.description.endswith("15–29 Feb, 15/29 days")


def test_a_price_change_mid_month_applies_from_the_next_month():
    sub = subscribe(start=date(2024, 1, 1))
    sub.service.prices.create(amount=D("75.00"), effective_from=date(2026, 11, 15))
    bill(2026, 11)
    bill(2026, 12)
    assert only_line(sub, 2026, 11).net == D("60.00")
    assert only_line(sub, 2026, 12).net == D("75.00")


def test_a_subscription_starting_after_a_mid_month_price_change_bills_the_new_price():
    sub = subscribe(start=date(2026, 11, 20))
    sub.service.prices.create(amount=D("75.00"), effective_from=date(2026, 11, 15))
    bill()
    assert only_line(sub).net == D("27.50")  # 75 x 11/30


def test_proration_rounds_half_up_to_the_cent():
    sub = subscribe(price="10.05", start=date(2026, 11, 16))
    bill()
    assert only_line(sub).net == D("5.03")  # 10.05 x 15/30 = 5.025 -> 5.03 (not 5.02)


def test_tax_is_computed_per_rate_on_the_summed_net_of_the_invoice():
    client = SubscriberFactory()
    gig = ServiceFactory(name="Fiber", price=D("10.05"), tax_rate=D("8.25"))
    tv = ServiceFactory(
        name="TV", category=Service.Category.TV, price=D("10.05"), tax_rate=D("8.25")
    )
    phone = ServiceFactory(
        name="Phone", category=Service.Category.PHONE, price=D("19.99"), tax_rate=D("0")
    )
    location = SubscriberLocationFactory(client=client)
    for service in (gig, tv):
        SubscriptionFactory(service=service, location=location, start_date=date(2026, 11, 16))
    SubscriptionFactory(service=phone, location=location, start_date=date(2024, 1, 1))
    bill()
    invoice = Invoice.objects.get(client=client)
    # 5.03 + 5.03 = 10.06 at 8.25 % -> 0.82995 -> 0.83 (per-line taxes would give 0.42 + 0.42).
    assert invoice.tax_breakdown == [
        {"rate": "0.000", "net": "19.99", "tax": "0.00"},
        {"rate": "8.250", "net": "10.06", "tax": "0.83"},
    ]
    assert (invoice.net, invoice.tax, invoice.total) == (D("30.05"), D("0.83"), D("30.88"))


def test_the_invoice_says_what_the_monthly_bill_says():
    client = SubscriberFactory()
    home = SubscriberLocationFactory(client=client, label="Home")
    shop = SubscriberLocationFactory(client=client, label="Shop")
    gig = ServiceFactory(name="Fiber 1 Gig", price=D("79.99"), tax_rate=D("8.25"))
    install = ServiceFactory(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.ONE_TIME,
        price=D("99.00"),
        tax_rate=D("8.25"),
    )
    router = ServiceFactory(
        name="Router rental", category=Service.Category.RENTAL, price=D("5.99"), tax_rate=D("8.25")
    )
    SubscriptionFactory(service=gig, location=home, start_date=date(2024, 1, 1))
    SubscriptionFactory(
        service=router,
        location=home,
        quantity=2,
        start_date=date(2024, 1, 1),
        equipment=RentalEquipmentFactory(location=home),
    )
    SubscriptionFactory(
        service=gig, location=shop, start_date=date(2026, 11, 12), agreed_price=D("59.99")
    )
    SubscriptionFactory(
        service=install, location=shop, start_date=date(2026, 11, 12), end_date=date(2026, 11, 12)
    )
    bill()
    invoice = Invoice.objects.get(client=client)
    expected = monthly_bill(client=client, year=2026, month=11)
    assert [(line.description, line.net) for line in invoice.lines.all()] == [
        (line.description, line.net) for line in expected.lines
    ]
    assert (invoice.net, invoice.tax, invoice.total) == (expected.net, expected.tax, expected.total)
    assert invoice.lines.filter(location_text__startswith="Shop:").count() == 2


def test_one_time_fees_bill_once_in_the_month_they_start():
    fee = ServiceFactory(
        name="Installation",
        category=Service.Category.FEE,
        billing_cycle=Service.BillingCycle.ONE_TIME,
        price=D("99.00"),
    )
    sub = subscribe(service=fee, start=date(2026, 11, 12), end=date(2026, 11, 12))
    bill(2026, 11)
    bill(2026, 12)
    assert only_line(sub).net == D("99.00")
    assert not Invoice.objects.filter(period_month=12).exists()


# --- The run -------------------------------------------------------------------------------
def test_a_run_issues_one_numbered_invoice_per_client_and_records_a_summary(december_2026):
    subs = [subscribe(), subscribe(), subscribe(price="10.00")]
    SubscriberFactory()  # no subscription: not billed, not counted
    run = bill()
    assert run.status == BillingRun.Status.FINISHED
    assert (run.clients_total, run.clients_processed) == (3, 3)
    assert (run.created_count, run.skipped_count, run.error_count) == (3, 0, 0)
    assert run.total_billed == D("130.00")
    invoices = Invoice.objects.order_by("number")
    assert [i.number for i in invoices] == [f"INV-2026-00000{n}" for n in (1, 2, 3)]
    assert {i.client_id for i in invoices} == {s.location.client_id for s in subs}
    assert all(i.status == Invoice.Status.ISSUED for i in invoices)
    assert all(i.issue_date == date(2026, 12, 1) for i in invoices)
    assert all(i.due_date == date(2026, 12, 16) for i in invoices)
    assert all(i.billing_run_id == run.pk and i.pdf_path for i in invoices)


def test_running_a_period_again_creates_nothing_new():
    subscribe()
    subscribe()
    first = bill()
    second = bill()
    assert (first.created_count, second.created_count, second.skipped_count) == (2, 0, 2)
    assert Invoice.objects.count() == 2


def test_the_database_refuses_a_second_run_invoice_for_the_same_client_and_period():
    from django.db import IntegrityError

    client = SubscriberFactory()
    Invoice.objects.create(client=client, source="billing_run", period_year=2026, period_month=11)
    with pytest.raises(IntegrityError):
        Invoice.objects.create(
            client=client, source="billing_run", period_year=2026, period_month=11
        )


def test_a_failing_client_is_recorded_and_does_not_stop_the_others(monkeypatch):
    good, bad, also_good = subscribe(), subscribe(), subscribe()
    from services import monthly_bill as mb

    real = mb.charge_for

    def flaky(subscription, **kwargs):
        if subscription.pk == bad.pk:
            raise ValueError("price history is corrupt")
        return real(subscription, **kwargs)

    monkeypatch.setattr("invoices.billing.charge_for", flaky)
    run = bill()
    assert (run.created_count, run.error_count) == (2, 1)
    error = run.errors.get()
    assert error.client_id == bad.location.client_id
    assert "price history is corrupt" in error.message
    # Fixed: running the period again bills only the client that failed.
    monkeypatch.setattr("invoices.billing.charge_for", real)
    again = bill()
    assert (again.created_count, again.skipped_count, again.error_count) == (1, 2, 0)
    assert Invoice.objects.filter(client=bad.location.client).exists()
    assert good and also_good


def test_a_database_error_in_a_batch_falls_back_to_one_client_at_a_time(monkeypatch):
    subs = [subscribe() for _ in range(3)]
    from invoices import billing

    real_insert = billing._insert_batch
    calls = []

    def insert(ctx, prepared):
        calls.append(len(prepared))
        if len(prepared) > 1:
            from django.db import IntegrityError

            raise IntegrityError("simulated: a concurrent run got there first")
        return real_insert(ctx, prepared)

    monkeypatch.setattr(billing, "_insert_batch", insert)
    run = bill()
    assert calls == [3, 1, 1, 1]
    assert run.created_count == 3 and run.error_count == 0
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-{date.today().year}-00000{n}" for n in (1, 2, 3)
    ]
    assert subs


def test_clients_are_streamed_in_batches_with_a_constant_number_of_queries_per_batch():
    def queries_for(clients: int, batch_size: int) -> int:
        Invoice.objects.all().delete()  # drafts only in this test
        for _ in range(clients):
            subscribe()
        company = get_company()
        company.issue_invoices_immediately = False
        company.save()
        with CaptureQueriesContext(connection) as ctx:
            bill(batch_size=batch_size)
        return len(ctx.captured_queries)

    small = queries_for(6, 3)  # two batches of 3
    Invoice.objects.all().delete()
    Subscription.objects.all().delete()
    large = queries_for(12, 6)  # two batches of 6
    assert small == large


def test_every_client_is_billed_whatever_the_batch_size():
    for _ in range(7):
        subscribe()
    run = bill(batch_size=2)
    assert run.created_count == 7 and Invoice.objects.count() == 7


def test_runs_leave_drafts_for_review_when_the_company_says_so(staff_user):
    company = get_company()
    company.issue_invoices_immediately = False
    company.save()
    subscribe()
    subscribe()
    run = bill()
    assert not run.issue_invoices
    drafts = Invoice.objects.filter(status=Invoice.Status.DRAFT)
    assert drafts.count() == 2 and set(drafts.values_list("number", flat=True)) == {""}
    assert issue_drafts_of_run(run=run, issued_by=staff_user) == 2
    assert not Invoice.objects.filter(status=Invoice.Status.DRAFT).exists()
    assert Invoice.objects.filter(number__startswith="INV-").count() == 2


def test_suspended_pending_and_finished_subscriptions_are_not_billed():
    subscribe(status=Subscription.Status.SUSPENDED)
    subscribe(status=Subscription.Status.PENDING)
    subscribe(end=date(2026, 10, 31), status=Subscription.Status.CANCELLED)
    subscribe(start=date(2026, 12, 1))
    assert clients_to_bill(year=2026, month=11).count() == 0
    assert bill().created_count == 0


def test_a_free_service_makes_no_empty_invoice():
    subscribe(price="0.00")
    run = bill()
    assert (run.created_count, run.skipped_count) == (0, 1)


def test_issued_run_invoices_are_sent_to_clients_by_their_preferences(
    django_capture_on_commit_callbacks, mailoutbox
):
    client = SubscriberFactory(email="carol@test.example", consent_sms=True, phone="+12175550123")
    subscribe(client)
    with django_capture_on_commit_callbacks(execute=True):
        run_billing(year=2026, month=11)
    invoice = Invoice.objects.get(client=client)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["carol@test.example"]
    assert mailoutbox[0].attachments[0].filename == f"{invoice.number}.pdf"
    from cms_project.messaging.models import OutboxMessage

    sms = OutboxMessage.objects.get()
    assert invoice.number in sms.body and "$60.00" in sms.body and "/portal/invoices/" in sms.body


# --- The command ---------------------------------------------------------------------------
def test_the_command_bills_a_period_and_reports_the_summary():
    subscribe()
    out, err = StringIO(), StringIO()
    call_command("run_billing", "--period", "2026-11", "--no-notify", stdout=out, stderr=err)
    assert "1 invoice created" in out.getvalue()
    assert "100%" in err.getvalue()
    assert Invoice.objects.filter(period_year=2026, period_month=11).count() == 1


def test_the_command_refuses_a_bad_period():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("run_billing", "--period", "2026-13")


def test_periods_are_parsed_strictly():
    assert parse_period("2026-11") == (2026, 11)
    for bad in ("2026/11", "11-2026", "2026-0", "abc", "2026-11-01"):
        with pytest.raises(ValueError):
            parse_period(bad)


# --- The schedule --------------------------------------------------------------------------
def test_celery_beat_bills_the_month_that_ended_on_the_1st_of_each_month(settings, december_2026):
    from ..tasks import monthly_billing_task

    entry = settings.CELERY_BEAT_SCHEDULE["invoices-monthly-billing-run"]
    assert entry["task"] == "invoices.tasks.monthly_billing_task"
    assert entry["schedule"].day_of_month == {1} and entry["schedule"].hour == {6}
    assert "messaging-requeue-stale-deliveries" in settings.CELERY_BEAT_SCHEDULE
    subscribe()
    run = BillingRun.objects.get(pk=monthly_billing_task())
    assert (run.period_year, run.period_month, run.created_count) == (2026, 11, 1)


def test_a_service_created_while_the_run_goes_on_is_still_billed(monkeypatch):
    from invoices import billing

    first = subscribe()
    real = billing.bill_batch
    late = []

    def bill_batch(ctx, clients):
        if not late:  # between two batches, a new service and a subscription to it appear
            late.append(subscribe(name="Fiber 2 Gig", price="99.00"))
        return real(ctx, clients)

    monkeypatch.setattr(billing, "bill_batch", bill_batch)
    run = bill(batch_size=1)
    assert run.created_count == 2
    assert only_line(late[0]).net == D("99.00") and only_line(first).net == D("60.00")
