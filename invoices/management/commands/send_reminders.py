"""python manage.py send_reminders — the daily collections run by hand or from cron."""

from django.core.management.base import BaseCommand

from invoices.collections import run_collections


class Command(BaseCommand):
    help = (
        "Age the late payers for today, send the payment reminders due today (each step of each invoice once), then suspend "
        "the services of clients overdue past the company's limit. Safe to run again."
    )

    def handle(self, *args, **options):
        result = run_collections()
        self.stdout.write(
            f"Late payers: {result['late_payers']}; reminders sent: {result['reminders']}; clients suspended: {result['suspended']}; "
            f"suspensions lifted: {result['lifted']}."
        )
