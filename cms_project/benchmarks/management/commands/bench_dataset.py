"""python manage.py bench_dataset --clients N — make sure the current database holds the
benchmark data set (generating what is missing with seed_demo) and print its size and
generation timings as JSON. `--record-log FILE` records the timings of a `seed_demo --clients`
run made by hand (its output saved in FILE)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from cms_project.benchmarks import dataset


class Command(BaseCommand):
    help = "Ensure the benchmark data set exists; print its size (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--months", type=int, default=None)
        parser.add_argument("--record-log", default="")

    def handle(self, *args, clients: int, months: int | None, record_log: str, **options):
        if record_log:
            dataset.record_generation(dataset.parse_seed_output(Path(record_log).read_text()))
        self.stdout.write(json.dumps(dataset.ensure(clients, months=months)))
