"""python manage.py rebuild_totals [--check] — the dashboard's and reports' running totals
(invoices/running_totals.py), recomputed from the invoices, credit notes, payments and refunds.

Run it after writing documents in bulk outside the app (an SQL import, a restore of some
tables). `--check` changes nothing: it lists what does not match and exits 1 if anything
does (a monitoring probe)."""

from django.core.management.base import BaseCommand, CommandError

from invoices import running_totals


class Command(BaseCommand):
    help = "Recompute the running totals behind the dashboard and reports (or --check them)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare the stored totals with the documents; exit 1 on a difference.",
        )

    def handle(self, *args, check: bool = False, **options):
        if check:
            found = running_totals.differences()
            for line in found[:50]:
                self.stdout.write(line)
            if found:
                raise CommandError(
                    f"{len(found)} running totals differ from the documents: run "
                    "`manage.py rebuild_totals` to recompute them."
                )
            self.stdout.write("The running totals match the documents.")
            return
        running_totals.rebuild()
        self.stdout.write("Running totals recomputed from the documents.")
