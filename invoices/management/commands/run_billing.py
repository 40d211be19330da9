"""python manage.py run_billing --period 2026-11

Bill every client for a month, with a progress bar on the terminal. Safe to run again: clients
who already have an invoice for the period are skipped.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from invoices.billing import BATCH_SIZE, parse_period, previous_month, run_billing
from invoices.models import BillingRun

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Bill every client for a calendar month (default: the month that just ended)."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM, e.g. 2026-11 (default: last month)")
        parser.add_argument(
            "--no-notify",
            action="store_true",
            help="Do not email/SMS the issued invoices to clients.",
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Clients per batch.")

    def handle(self, *args, period=None, no_notify=False, batch_size=BATCH_SIZE, **options):
        try:
            year, month = parse_period(period) if period else previous_month()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        self._last_draw = 0.0
        try:
            run = run_billing(
                year=year,
                month=month,
                notify=not no_notify,
                batch_size=batch_size,
                progress=self._draw,
            )
        except Exception as exc:
            raise CommandError(f"The billing run stopped: {exc}") from exc
        self.stderr.write("")
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Billing run #{run.pk} for {run.period_label}: "
                f"{run.created_count} invoice{'s' if run.created_count != 1 else ''} created, "
                f"{run.skipped_count} skipped, {run.error_count} error"
                f"{'s' if run.error_count != 1 else ''}, {run.total_billed} billed "
                f"in {elapsed:.1f} s."
            )
        )
        for error in run.errors.select_related("client")[:50]:
            self.stdout.write(self.style.ERROR(f"  {error.client.account_number}: {error.message}"))

    def _draw(self, run: BillingRun) -> None:
        now = time.monotonic()
        # Redraw at most 10 times a second, but always the last state.
        if not run.is_done and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        percent = run.percent
        filled = BAR_WIDTH * percent // 100
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = (
            f"[{bar}] {percent:3d}% {run.clients_processed}/{run.clients_total} clients · "
            f"{run.created_count} created · {run.skipped_count} skipped · "
            f"{run.error_count} errors"
        )
        end = "\r" if self.stderr.isatty() else "\n"
        self.stderr.write(line, ending=end)
        if hasattr(self.stderr, "flush"):
            self.stderr.flush()
