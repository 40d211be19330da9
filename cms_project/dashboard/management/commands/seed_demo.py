"""Load the Data Plus Fiber demo company. Safe to run again: it only adds what is missing."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clients.demo import generate_clients, seed_demo_clients
from clients.pipeline_demo import seed_demo_opportunities
from invoices.demo import (
    BENCH_MONTHS,
    DEMO_MONTHS,
    seed_demo_company_payments,
    seed_demo_invoices,
    seed_demo_payments,
)
from services.demo import seed_demo_services, seed_demo_subscriptions
from staff.demo import DEMO_PASSWORD, seed_demo_accounts


class Command(BaseCommand):
    help = "Load the Data Plus Fiber demo data (idempotent). For demos and development only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo logins have a public password).",
        )
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            metavar="N",
            help="Also generate N realistic clients with locations and equipment (bulk inserts, "
            "for benchmarks). Adds N more on every run, subscribes their locations and bills "
            "the last --months months for everyone.",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=None,
            metavar="M",
            help="Months of issued invoices to bill (default: 3, or 12 with --clients).",
        )

    def handle(
        self, *args, force: bool = False, clients: int = 0, months: int | None = None, **options
    ):
        self.verbosity = options.get("verbosity", 1)
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real installation: the demo logins have a "
                "public password. Re-run with --force if you really want the demo data here."
            )
        if clients < 0:
            raise CommandError("--clients must be zero or more.")
        if clients:
            # With DEBUG on (local settings) Django keeps the SQL of every query, bulk inserts
            # of thousands of rows included: time and memory a real load does not spend.
            settings.DEBUG = False
        if months is None:
            months = BENCH_MONTHS if clients else DEMO_MONTHS
        if not 0 <= months <= 36:
            raise CommandError("--months must be between 0 and 36.")
        with transaction.atomic():
            accounts = seed_demo_accounts()
            new_clients = seed_demo_clients()
            seed_demo_opportunities()
            # After the clients (and their locations) exist: subscribes the locations that
            # have no subscription yet.
            catalog_size, new_subscriptions = seed_demo_services()
        created = sum(1 for _, was_created in accounts if was_created)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} new accounts, {new_clients} new demo clients)."
            )
        )
        self.stdout.write(
            f"Catalog: {catalog_size} services; {new_subscriptions} new subscriptions."
        )
        if clients:
            # Before billing, so that a fresh data set's invoice numbers follow their issue
            # dates. Each step is timed: `make bench` reports how long a data set takes.
            started = time.monotonic()
            totals = generate_clients(clients)
            self.stdout.write(
                f"Generated {totals['clients']} clients, {totals['locations']} locations and "
                f"{totals['equipment']} devices in {time.monotonic() - started:.1f} s."
            )
            started = time.monotonic()
            subscribed = seed_demo_subscriptions()
            self.stdout.write(
                f"Subscribed their locations: {subscribed} subscriptions in "
                f"{time.monotonic() - started:.1f} s."
            )
        # After the clients and services seeds, outside their transaction: billing commits
        # batch by batch. Bills the last few months (idempotent).
        started = time.monotonic()
        new_invoices = seed_demo_invoices(months=months, progress=self._progress)
        if new_invoices:
            self.stdout.write(
                f"Billed the last {months} months: {new_invoices} new invoices in "
                f"{time.monotonic() - started:.1f} s."
            )
        # The demo company's clients' payments (Alice partly paid, Bob overdue), first: the
        # benchmark payments below then pay what generated clients owe.
        new_payments = seed_demo_company_payments()
        if new_payments:
            self.stdout.write(f"Recorded {new_payments} demo payments (no receipts sent).")
        if clients:
            # The benchmark data set: most invoices paid, some partially, some overdue.
            started = time.monotonic()
            payments, allocations = seed_demo_payments()
            self.stdout.write(
                f"Payments: {payments} payments, {allocations} allocations in "
                f"{time.monotonic() - started:.1f} s."
            )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}) — for the demo only:")
        for user, _ in accounts:
            self.stdout.write(f"  {user.get_role_display():<7} {user.email}")

    def _progress(self, year: int, month: int, created: int) -> None:
        if self.verbosity > 1 or created > 1000:
            self.stdout.write(f"  {year}-{month:02d}: {created} invoices", ending="\n")
