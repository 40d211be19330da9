"""python manage.py send_reminders — the daily collections run by hand or from cron."""

from django.core.management.base import BaseCommand

from invoices.collections import run_collections


class Command(BaseCommand):
    help = (
        "Send the payment reminders due today (each step of each invoice once), then suspend "
        "the services of clients overdue past the company's limit. Safe to run again."
    )

    def handle(self, *args, **options):
        result = run_collections()
        self.stdout.write(
            f"Reminders sent: {result['reminders']}; clients suspended: {result['suspended']}; "
            f"suspensions lifted: {result['lifted']}."
        )
