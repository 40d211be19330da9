"""Load the Data Plus Fiber demo company. Safe to run again: it only adds what is missing."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from invoices.demo import seed_demo_invoices
from staff.demo import DEMO_PASSWORD, seed_demo_accounts


class Command(BaseCommand):
    help = "Load the Data Plus Fiber demo data (idempotent). For demos and development only."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (the demo logins have a public password).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real installation: the demo logins have a "
                "public password. Re-run with --force if you really want the demo data here."
            )
        with transaction.atomic():
            accounts = seed_demo_accounts()
        created = sum(1 for _, was_created in accounts if was_created)
        # After the clients and services seeds, outside their transaction: billing commits
        # batch by batch. Bills the last few months (idempotent).
        new_invoices = seed_demo_invoices()
        if new_invoices:
            self.stdout.write(f"Billed the last months: {new_invoices} new demo invoices.")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new accounts)."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}) — for the demo only:")
        for user, _ in accounts:
            self.stdout.write(f"  {user.get_role_display():<7} {user.email}")
