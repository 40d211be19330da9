"""Load the Data Plus Fiber demo company. Safe to run again: it only adds what is missing."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clients.demo import generate_clients, seed_demo_clients
from invoices.demo import seed_demo_invoices, seed_demo_payments
from services.demo import seed_demo_services
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
            "for benchmarks). Adds N more on every run.",
        )

    def handle(self, *args, force: bool = False, clients: int = 0, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real installation: the demo logins have a "
                "public password. Re-run with --force if you really want the demo data here."
            )
        if clients < 0:
            raise CommandError("--clients must be zero or more.")
        with transaction.atomic():
            accounts = seed_demo_accounts()
            new_clients = seed_demo_clients()
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
        # After the clients and services seeds, outside their transaction: billing commits
        # batch by batch. Bills the last few months (idempotent).
        new_invoices = seed_demo_invoices()
        if new_invoices:
            self.stdout.write(f"Billed the last months: {new_invoices} new demo invoices.")
        new_payments = seed_demo_payments()
        if new_payments:
            self.stdout.write(f"Recorded {new_payments} demo payments (no receipts sent).")
        if clients:
            started = time.monotonic()
            totals = generate_clients(clients)
            self.stdout.write(
                f"Generated {totals['clients']} clients, {totals['locations']} locations and "
                f"{totals['equipment']} devices in {time.monotonic() - started:.1f} s."
            )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}) — for the demo only:")
        for user, _ in accounts:
            self.stdout.write(f"  {user.get_role_display():<7} {user.email}")
