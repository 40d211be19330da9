"""Demo invoices: the last few months billed for the demo clients, so the demo company has
issued invoices (some of them overdue) to look at, and payments for them. Idempotent: billing a
period again creates nothing for clients already billed; clients with payments get no more."""

from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from clients.models import Client
from cms_project.money import period_bounds, previous_period, round_money

from .billing import clients_to_bill, run_billing
from .models import Invoice, PaymentMethod

DEMO_MONTHS = 3
BENCH_MONTHS = 12  # `seed_demo --clients N`: a year of invoices for the benchmark data set


def seed_demo_invoices(
    *, months: int = DEMO_MONTHS, progress: Callable[[int, int, int], None] | None = None
) -> int:
    """Bill the `months` months before the current one, oldest first, each issued on the
    day after its month ended (as the monthly schedule would have). Returns how many invoices
    were created. No emails or SMS are sent; PDFs are rendered on their first download.
    The invoices go through the real billing run (bulk inserts, numbers taken in blocks), so
    the benchmark data set follows every billing rule. `progress(year, month, created)`."""
    today = timezone.localdate()
    periods = []
    year, month = today.year, today.month
    for _ in range(months):
        year, month = previous_period(year, month)
        periods.append((year, month))
    created = 0
    for year, month in reversed(periods):
        unbilled = clients_to_bill(year=year, month=month).exclude(
            invoices__source=Invoice.Source.BILLING_RUN,
            invoices__period_year=year,
            invoices__period_month=month,
        )
        if not unbilled.exists():
            continue  # nothing new: no empty run rows on every seed_demo
        issue_date = period_bounds(year, month)[1] + timedelta(days=1)
        run = run_billing(
            year=year, month=month, notify=False, render_pdfs=False, issue_date=issue_date
        )
        created += run.created_count
        if progress:
            progress(year, month, run.created_count)
    return created


ALICE = "client@dataplusfiber.example"
BOB = "client2@dataplusfiber.example"
DEMO_METHODS = [
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.CARD_ONLINE,
    PaymentMethod.CHECK,
    PaymentMethod.CASH,
]


def _received_on(invoice: Invoice, today) -> date:
    """A few days before the due date, never before the issue date nor after today."""
    day = invoice.due_date - timedelta(days=3)
    return min(max(day, invoice.issue_date), today)


def seed_demo_payments() -> int:
    """Payments for the demo invoices, through `record_payment` like real ones: every client
    pays the invoices already due in full; the newest invoice (not due yet) stays open, except
    that Alice has paid half of hers; Bob has paid only his oldest, so one is overdue (the
    late-payers report and reminders have data). Clients that already have a payment are left
    alone, so running it again adds nothing. No receipt is sent. Returns payments created."""
    from .allocation import record_payment
    from .receipts import receipts_muted

    today = timezone.localdate()
    created = 0
    clients = (
        # The demo company's own clients only: `seed_demo --clients N` bills generated ones
        # (@example.net) too, and their invoices stay unpaid for the benchmarks.
        Client.objects.filter(email__endswith="dataplusfiber.example")
        .filter(invoices__status__in=Invoice.OPEN_STATUSES, payments__isnull=True)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    with receipts_muted():
        for n, client in enumerate(clients):
            email = client.user.email if client.user else ""
            invoices = list(client.invoices.open().order_by("due_date", "pk"))
            for i, invoice in enumerate(invoices):
                newest = i == len(invoices) - 1
                if email == BOB and i > 0:
                    break  # Bob stops paying: his second invoice goes overdue
                if newest and email != ALICE and invoice.due_date >= today:
                    break  # not due yet
                amount = invoice.balance
                if newest and email == ALICE:
                    amount = round_money(invoice.balance / 2)
                method = DEMO_METHODS[(n + i) % len(DEMO_METHODS)]
                record_payment(
                    client=client,
                    amount=amount,
                    method=method,
                    received_on=_received_on(invoice, today),
                    reference=f"DEMO-{invoice.number}",
                    card_brand="Visa" if method == PaymentMethod.CARD_ONLINE else "",
                    card_last4="4242" if method == PaymentMethod.CARD_ONLINE else "",
                )
                created += 1
    return created
