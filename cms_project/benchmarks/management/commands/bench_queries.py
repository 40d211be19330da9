"""python manage.py bench_queries — the benchmark pages (paths) and their query counts as JSON,
for the current database. Used by `bench_suite` on each data set; run it with
DJANGO_SETTINGS_MODULE=cms_project.settings.bench (the floor page is in its URLconf)."""

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from cms_project.benchmarks.pages import bench_pages, count_queries


class Command(BaseCommand):
    help = "Print the benchmark pages and their query counts (JSON)."

    def handle(self, *args, **options):
        pages = count_queries(bench_pages())
        self.stdout.write(json.dumps([asdict(page) for page in pages]))
