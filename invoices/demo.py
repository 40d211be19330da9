"""Demo invoices: the last few months billed for the demo clients, so the demo company has
issued invoices (some of them overdue) to look at, and payments for them. Idempotent: billing a
period again creates nothing for clients already billed; clients with payments get no more."""

from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from clients.models import Client
from cms_project.money import period_bounds, previous_period, round_money

from . import aging_rows, running_totals
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


# --- Payments of the demo and benchmark data set ---------------------------------------------
# Who pays how, decided by the client's id so that a client behaves the same on every invoice
# (late payers and aging need clients with several unpaid invoices, not scattered ones):
GOOD_PAYERS = 85  # client id % 100 below this: every invoice paid in full
PARTIAL_PAYERS = 93  # below this: recent invoices (last PARTIAL_MONTHS) paid half
LATE_MONTHS = 4  # late payers: invoices of the last LATE_MONTHS months not paid at all
PARTIAL_MONTHS = 3
NOT_YET_DAYS = 10  # an invoice issued fewer days ago than this is not paid yet by anyone
METHODS = ["bank_transfer", "card_online", "check", "cash"]


def _payment_plan(*, invoice_id: int, client_id: int, issue_date, balance, today):
    """(amount, received_on) for an unpaid issued invoice, or None when it stays unpaid.
    Mirrored in SQL by `_PLAN_SQL` (the bulk path on PostgreSQL): change both."""
    from cms_project.money import round_money

    age = (today - issue_date).days
    if age < NOT_YET_DAYS:
        return None
    kind = client_id % 100
    late = 30 if kind >= PARTIAL_PAYERS else 0  # late payers pay a month after the others
    received_on = min(issue_date + timedelta(days=invoice_id % 14 + late), today)
    if kind < GOOD_PAYERS:
        return balance, received_on
    if kind < PARTIAL_PAYERS:
        if age <= PARTIAL_MONTHS * 31:
            return round_money(balance / 2), received_on
        return balance, received_on
    if age <= LATE_MONTHS * 31:
        return None
    return balance, received_on


_PLAN_SQL = """
CREATE TEMP TABLE bench_payment_plan ON COMMIT DROP AS
WITH candidates AS (
    SELECT i.id AS invoice_id, i.client_id, i.currency, i.number AS invoice_number,
           i.balance, i.issue_date, (%(today)s::date - i.issue_date) AS age,
           i.client_id %% 100 AS kind
    FROM invoices_invoice i
    WHERE i.status = 'issued' AND i.amount_paid = 0 AND i.balance > 0
      AND i.issue_date <= %(today)s::date - %(not_yet)s
      AND NOT EXISTS (SELECT 1 FROM invoices_allocation a WHERE a.invoice_id = i.id)
), planned AS (
    SELECT invoice_id, client_id, currency, invoice_number, balance,
        CASE
            WHEN kind < %(good)s THEN balance
            WHEN kind < %(partial)s AND age <= %(partial_days)s THEN round(balance / 2, 2)
            WHEN kind < %(partial)s THEN balance
            WHEN age <= %(late_days)s THEN NULL
            ELSE balance
        END AS amount,
        LEAST(issue_date + (invoice_id %% 14)::int
                  + CASE WHEN kind >= %(partial)s THEN 30 ELSE 0 END,
              %(today)s::date) AS received_on
    FROM candidates
)
SELECT planned.*, (ARRAY['bank_transfer', 'card_online', 'check', 'cash'])[invoice_id %% 4 + 1]
       AS method,
       row_number() OVER (PARTITION BY extract(year FROM received_on)
                          ORDER BY received_on, invoice_id) AS seq
FROM planned WHERE amount > 0
"""


def seed_demo_payments(*, today=None) -> tuple[int, int]:
    """Payments for the issued invoices nobody has paid yet, as clients would have paid them:
    most in full within two weeks, some clients half of their recent invoices, a few (late
    payers) nothing for the last four months. One payment per invoice, allocated to it.
    Returns (payments, allocations) created. Idempotent: paid invoices are skipped.

    PostgreSQL: in bulk with SQL (a million invoices in minutes), keeping every rule the
    allocation code keeps — receipt numbers dense per year from the counter, invoice
    amount_paid = sum of its allocations and its status, the payment fully allocated, the
    client's last payment date. No audit entries (nobody recorded them) and no signals.
    Elsewhere (SQLite, small data sets): through `record_payment`, one by one."""
    from django.db import connection, transaction

    today = today or timezone.localdate()
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            made = _bulk_payments(cursor, today)
            # Written around record_payment, so what it keeps is recomputed here.
            running_totals.rebuild()
            aging_rows.rebuild(today)
            return made
    return _payments_one_by_one(today)


def _payments_one_by_one(today) -> tuple[int, int]:
    from .allocation import Pick, record_payment

    invoices = (
        Invoice.objects.filter(status=Invoice.Status.ISSUED, amount_paid=0, balance__gt=0)
        .filter(allocations__isnull=True)
        .select_related("client")
    )
    plans = []
    for invoice in invoices:
        plan = _payment_plan(
            invoice_id=invoice.pk,
            client_id=invoice.client_id,
            issue_date=invoice.issue_date,
            balance=invoice.balance,
            today=today,
        )
        if plan is not None and plan[0] > 0:
            plans.append((plan[1], invoice.pk, invoice, plan[0]))
    plans.sort(key=lambda item: item[:2])  # receipt numbers in the order money came in
    from .receipts import receipts_muted

    with receipts_muted():  # nobody is emailed a receipt for generated data
        _record_plans(plans, record_payment, Pick)
    return len(plans), len(plans)


def _record_plans(plans, record_payment, Pick) -> None:
    for received_on, _, invoice, amount in plans:
        method = METHODS[invoice.pk % 4]
        online = method == "card_online"
        record_payment(
            client=invoice.client,
            amount=amount,
            method=method,
            received_on=received_on,
            reference=f"Payment of {invoice.number}",
            picks=[Pick(invoice_id=invoice.pk, amount=amount)],
            provider="sandbox" if online else "",
            provider_reference=f"demo_{invoice.number}" if online else "",
            card_brand="visa" if online else "",
            card_last4="4242" if online else "",
        )


def _bulk_payments(cursor, today) -> tuple[int, int]:
    from .allocation import RECEIPT_SERIES

    cursor.execute(
        _PLAN_SQL,
        {
            "today": today,
            "not_yet": NOT_YET_DAYS,
            "good": GOOD_PAYERS,
            "partial": PARTIAL_PAYERS,
            "partial_days": PARTIAL_MONTHS * 31,
            "late_days": LATE_MONTHS * 31,
        },
    )
    cursor.execute("SELECT count(*) FROM bench_payment_plan")
    (count,) = cursor.fetchone()
    if not count:
        return 0, 0
    # Receipt numbers continue each year's counter, which is locked as record_payment does.
    cursor.execute(
        """
        INSERT INTO invoices_numbercounter (series, year, last_number)
        SELECT %s, y, 0 FROM (SELECT DISTINCT extract(year FROM received_on)::int AS y
                              FROM bench_payment_plan) years
        ON CONFLICT (series, year) DO NOTHING
        """,
        [RECEIPT_SERIES],
    )
    cursor.execute(
        """
        CREATE TEMP TABLE bench_payment_numbers ON COMMIT DROP AS
        SELECT p.invoice_id,
               %s || '-' || c.year || '-' || lpad((c.last_number + p.seq)::text, 6, '0')
                   AS number
        FROM bench_payment_plan p
        JOIN invoices_numbercounter c
          ON c.series = %s AND c.year = extract(year FROM p.received_on)::int
        """,
        [RECEIPT_SERIES, RECEIPT_SERIES],
    )
    cursor.execute(
        """
        UPDATE invoices_numbercounter c SET last_number = c.last_number + n.count
        FROM (SELECT extract(year FROM received_on)::int AS year, count(*) AS count
              FROM bench_payment_plan GROUP BY 1) n
        WHERE c.series = %s AND c.year = n.year
        """,
        [RECEIPT_SERIES],
    )
    cursor.execute(
        """
        INSERT INTO invoices_payment (
            client_id, number, amount, currency, received_on, method, reference, notes,
            provider, provider_reference, card_brand, card_last4, amount_allocated,
            amount_refunded, receipt_path, receipt_snapshot, created_at)
        SELECT p.client_id, n.number, p.amount, p.currency, p.received_on, p.method,
               'Payment of ' || p.invoice_number, '',
               CASE WHEN p.method = 'card_online' THEN 'sandbox' ELSE '' END,
               CASE WHEN p.method = 'card_online' THEN 'demo_' || p.invoice_number ELSE '' END,
               CASE WHEN p.method = 'card_online' THEN 'visa' ELSE '' END,
               CASE WHEN p.method = 'card_online' THEN '4242' ELSE '' END,
               p.amount, 0, '', '{}'::jsonb, p.received_on::timestamptz + interval '10 hours'
        FROM bench_payment_plan p JOIN bench_payment_numbers n USING (invoice_id)
        ORDER BY n.number
        """
    )
    cursor.execute(
        """
        INSERT INTO invoices_allocation (invoice_id, payment_id, amount, reversal, created_at)
        SELECT p.invoice_id, pay.id, p.amount, false, pay.created_at
        FROM bench_payment_plan p
        JOIN bench_payment_numbers n USING (invoice_id)
        JOIN invoices_payment pay ON pay.number = n.number
        """
    )
    cursor.execute(
        """
        UPDATE invoices_invoice i
        SET amount_paid = i.amount_paid + p.amount,
            status = CASE WHEN p.amount >= i.balance THEN 'paid' ELSE 'partially_paid' END
        FROM bench_payment_plan p WHERE p.invoice_id = i.id
        """
    )
    cursor.execute(
        """
        UPDATE clients_client c SET last_payment_date = GREATEST(c.last_payment_date, p.last)
        FROM (SELECT client_id, max(received_on) AS last FROM bench_payment_plan
              GROUP BY client_id) p
        WHERE p.client_id = c.id
        """
    )
    cursor.execute(
        "ANALYZE invoices_payment; ANALYZE invoices_allocation; ANALYZE invoices_invoice"
    )
    return count, count


# --- Payments of the demo company's own clients (Alice, Bob and the few dozen others) -------
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


def seed_demo_company_payments() -> int:
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
