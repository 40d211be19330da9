"""python manage.py rebuild_totals [--check] — the dashboard's and reports' running totals
(invoices/running_totals.py) and the late payers' aging rows (invoices/aging_rows.py),
recomputed from the invoices, credit notes, payments and refunds.

Run it after writing documents in bulk outside the app (an SQL import, a restore of some
tables). `--check` changes nothing: it lists what does not match and exits 1 if anything
does (a monitoring probe). Aging rows that are not today's are not checked: the report does
not read them (the next collections run rebuilds them)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from invoices import aging_rows, running_totals


class Command(BaseCommand):
    help = (
        "Recompute the running totals behind the dashboard and reports and the late payers' "
        "aging rows (or --check them)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare what is kept with the documents; exit 1 on a difference.",
        )

    def handle(self, *args, check: bool = False, **options):
        today = timezone.localdate()
        if check:
            found = running_totals.differences()
            if aging_rows.are_current(today):
                found += [f"late payers {line}" for line in aging_rows.differences(today)]
            for line in found[:50]:
                self.stdout.write(line)
            if found:
                raise CommandError(
                    f"{len(found)} kept totals differ from the documents: run "
                    "`manage.py rebuild_totals` to recompute them."
                )
            self.stdout.write("The running totals and aging rows match the documents.")
            return
        running_totals.rebuild()
        late = aging_rows.rebuild(today)
        self.stdout.write(
            f"Running totals recomputed from the documents; {late} late payers aged for {today}."
        )
