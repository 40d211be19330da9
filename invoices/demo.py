"""Demo invoices: the last few months billed for the demo clients, so the demo company has
issued invoices (some of them overdue) to look at. Idempotent: billing a period again creates
nothing for clients already billed."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from cms_project.money import period_bounds, previous_period

from .billing import clients_to_bill, run_billing
from .models import Invoice

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
