"""The running totals behind the dashboard and reports: every way a document is written adds
to them exactly (to the cent, with counts and the largest amount), they match a recomputation
from the documents, and a rebuild or the migration's backfill restores them."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clients.models import Client

from .. import metrics, running_totals
from ..allocation import record_payment, refund_credit, reverse_payment
from ..billing import run_billing
from ..credit_notes import create_credit_note
from ..models import ClientTotal, DailyTotal
from .factories import (
    ServiceFactory,
    SubscriberFactory,
    SubscriberLocationFactory,
    SubscriptionFactory,
    issued_invoice,
    line,
)

pytestmark = pytest.mark.django_db
D = Decimal
Measure = DailyTotal.Measure
NOV_1, NOV_3, NOV_5 = date(2026, 11, 1), date(2026, 11, 3), date(2026, 11, 5)
NOV_10, NOV_12, NOV_15 = date(2026, 11, 10), date(2026, 11, 12), date(2026, 11, 15)


def _subscribed(client: Client, service) -> None:
    SubscriptionFactory(
        service=service,
        location=SubscriberLocationFactory(client=client),
        start_date=date(2024, 1, 1),
    )


@pytest.fixture
def november():
    """Nov 1: billing run (two batches): Ann 60.00 (Fiber), Ben 30.00 + 10 % = 33.00 (TV).
    Nov 3: Cy's invoice by hand, 80.00 + 20.00 (no service). Nov 5: the 20.00 line credited.
    Nov 10: Ann pays 100.00, Ben 33.00. Nov 12: 5.00 of Ann's credit refunded.
    Nov 15: Ben's payment reversed (33.00)."""
    fiber = ServiceFactory(name="Fiber 1 Gig", price=D("60.00"), tax_rate=D("0"))
    tv = ServiceFactory(name="TV Basic", price=D("30.00"), tax_rate=D("10"))
    ann, ben, cy = (SubscriberFactory(name=n) for n in ("Ann", "Ben", "Cy"))
    _subscribed(ann, fiber)
    _subscribed(ben, tv)
    run_billing(year=2026, month=11, notify=False, batch_size=1, issue_date=NOV_1)
    by_hand = issued_invoice(
        client=cy,
        lines=[line(unit_price="80.00"), line("Cable", unit_price="20.00")],
        issue_date=NOV_3,
    )
    create_credit_note(
        invoice=by_hand,
        reason="Cable not laid",
        line_ids=[by_hand.lines.get(description="Cable").pk],
        issue_date=NOV_5,
    )
    ann_paid = record_payment(client=ann, amount=D("100.00"), method="cash", received_on=NOV_10)
    ben_paid = record_payment(client=ben, amount=D("33.00"), method="check", received_on=NOV_10)
    refund_credit(payment=ann_paid, amount=D("5.00"), reason="Asked", refunded_on=NOV_12)
    reverse_payment(payment=ben_paid, reason="Bounced", reversed_on=NOV_15)
    return {"ann": ann, "ben": ben, "cy": cy, "fiber": fiber, "tv": tv}


def _stored() -> dict:
    return {
        (t.day, t.measure, t.service_key): (t.amount, t.documents, t.largest)
        for t in DailyTotal.objects.all()
    }


def test_each_document_adds_to_its_days_total_to_the_cent(november):
    fiber, tv = november["fiber"].pk, november["tv"].pk
    assert _stored() == {
        (NOV_1, Measure.INVOICED, 0): (D("93.00"), 2, D("60.00")),
        (NOV_1, Measure.SERVICE, fiber): (D("60.00"), 1, D("60.00")),
        (NOV_1, Measure.SERVICE, tv): (D("30.00"), 1, D("30.00")),
        (NOV_3, Measure.INVOICED, 0): (D("100.00"), 1, D("100.00")),
        (NOV_3, Measure.SERVICE, 0): (D("100.00"), 2, D("80.00")),
        (NOV_5, Measure.CREDITED, 0): (D("20.00"), 1, D("20.00")),
        (NOV_10, Measure.PAID, 0): (D("133.00"), 2, D("100.00")),
        (NOV_12, Measure.REFUNDED, 0): (D("5.00"), 1, D("5.00")),
        (NOV_15, Measure.REFUNDED, 0): (D("33.00"), 1, D("33.00")),
    }
    kept = {
        t.client_id: (t.invoiced, t.credited, t.paid, t.refunded, t.balance, t.lifetime_value)
        for t in ClientTotal.objects.all()
    }
    # balance = invoiced − credited − paid + refunded; lifetime value = paid − refunded
    assert kept == {
        november["ann"].pk: (D("60.00"), D("0"), D("100.00"), D("5.00"), D("-35.00"), D("95.00")),
        november["ben"].pk: (D("33.00"), D("0"), D("33.00"), D("33.00"), D("33.00"), D("0")),
        november["cy"].pk: (D("100.00"), D("20.00"), D("0"), D("0"), D("80.00"), D("0")),
    }
    assert running_totals.differences() == []


def test_the_figures_read_from_the_totals(november):
    money = metrics.money_between(NOV_1, date(2026, 11, 30))
    assert (money.invoiced, money.credited, money.collected) == (
        D("193.00"),
        D("20.00"),
        D("95.00"),
    )
    assert money.invoice_count == 3
    early = metrics.money_between(NOV_1, NOV_10)  # a range inside the month is exact too
    assert (early.invoiced, early.collected) == (D("193.00"), D("133.00"))
    assert metrics.revenue_by_service(NOV_1, date(2026, 11, 30)) == [
        {"service": "Other charges", "revenue": D("100.00")},
        {"service": "Fiber 1 Gig", "revenue": D("60.00")},
        {"service": "TV Basic", "revenue": D("30.00")},
    ]
    sales = metrics.sales_metrics(NOV_1, date(2026, 11, 30))
    assert (sales.count, sales.total, sales.average, sales.largest) == (
        2, D("133.00"), D("66.50"), D("100.00"),
    )  # fmt: skip
    assert metrics.lifetime_value_totals() == {"total": D("95.00")}
    top = metrics.top_clients_by_lifetime_value(limit=10)
    assert [(r["client"].name, r["lifetime_value"]) for r in top] == [
        ("Ann", D("95.00")),
        ("Ben", D("0.00")),
    ]


def test_a_rebuild_restores_totals_that_went_wrong(november):
    before = _stored()
    DailyTotal.objects.filter(measure=Measure.PAID).delete()
    ClientTotal.objects.filter(client=november["ann"]).update(paid=D("1.00"))
    found = running_totals.differences()
    assert len(found) == 2
    assert any("paid" in f and "133.00" in f for f in found)
    with pytest.raises(CommandError, match="2 kept totals differ"):
        call_command("rebuild_totals", "--check", stdout=io.StringIO())
    call_command("rebuild_totals", stdout=io.StringIO())
    assert _stored() == before
    assert running_totals.differences() == []
    assert ClientTotal.objects.get(client=november["ann"]).lifetime_value == D("95.00")


def _state(migration: str):
    return MigrationExecutor(connection).loader.project_state(("invoices", migration)).apps


def test_the_migrations_backfill_from_the_documents_with_historical_models(november):
    before = _stored()
    DailyTotal.objects.all().delete()
    ClientTotal.objects.all().delete()
    # 0007 kept paid and refunded alone: its backfill writes only those columns
    running_totals.rebuild(registry=_state("0007_running_totals"))
    assert _stored() == before
    ann = ClientTotal.objects.get(client=november["ann"])
    assert (ann.paid, ann.lifetime_value, ann.invoiced, ann.balance) == (
        D("100.00"), D("95.00"), D("0"), D("0"),
    )  # fmt: skip
    # 0009 adds invoiced, credited and the balance, and fills them
    running_totals.rebuild(registry=_state("0009_client_ledger_totals"))
    assert running_totals.differences() == []
    assert ClientTotal.objects.get(client=november["ann"]).balance == D("-35.00")


def test_a_kept_balance_that_does_not_add_up_is_a_difference(november):
    ClientTotal.objects.filter(client=november["cy"]).update(balance=D("79.99"))
    (found,) = running_totals.differences()
    assert f"client {november['cy'].pk}" in found and "does not add up" in found
