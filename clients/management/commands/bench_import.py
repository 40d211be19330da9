"""python manage.py bench_import [--rows 10000] [--runs 3] [--profile out.html] [--write docs/benchmarks.md]

Benchmark (not a test) of the CSV import of clients (GUIDE §5: 10,000 clients in under 20 s):
generates a realistic file of new clients with one service location each, then, `--runs`
times, checks it (the dry run) and imports it the way the staff page does (`run_import`: the
file checked again, then every client and location in one transaction), and deletes what it
imported. The floor is PostgreSQL's COPY of the same rows into the same tables (with the same
indexes). Medians are reported with the load average. `--profile` writes a pyinstrument
profile of one import (HTML). Use your own database: the imported clients are deleted again,
but the account-number counter moves on.
"""

import csv
import io
import os
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from clients import importing
from clients.demo import CITIES, FIRST_NAMES, LAST_NAMES, STREETS
from clients.models import Client, ClientImport, ServiceLocation

BEGIN, END = "<!-- bench_import:begin -->", "<!-- bench_import:end -->"
MARK = "bench-import"  # in the notes of every generated client, to find them again


def generate_csv(rows: int, seed: int = 7) -> str:
    """`rows` new clients, one location each, every column filled as a real sheet would be."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(importing.COLUMNS)
    start = date(2020, 1, 1)
    for n in range(rows):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        city, postal, area = rng.choice(CITIES)
        street = f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"
        business = n % 8 == 0
        signup = start + timedelta(days=rng.randint(0, 2000))
        writer.writerow(
            [
                "",
                f"{first} {last}",
                f"{last} & Sons LLC" if business else "",
                "business" if business else "residential",
                "active",
                f"client.{n}@example.net",
                f"({area}) 555-{n % 10000:04d}",
                street,
                city,
                postal,
                signup.isoformat(),
                "yes" if n % 3 else "no",
                "",
                "yes" if n % 2 else "no",
                "",
                MARK,
                "Office" if business else "Home",
                street,
                city,
                postal,
                "active",
                (signup + timedelta(days=7)).isoformat(),
                "",
                "",
            ]
        )
    return out.getvalue()


class Command(BaseCommand):
    help = "Benchmark the CSV import of clients (dry run and import) against a COPY floor."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--profile", default="", help="Write a pyinstrument HTML profile.")
        parser.add_argument("--write", default="", help="Markdown file to record results in.")

    def handle(self, *args, rows: int, runs: int, profile: str, write: str, **options):
        if Client.objects.filter(notes=MARK).exists():
            self._clean()
        text = generate_csv(rows)
        self.stdout.write(
            f"Database: {connection.vendor}; {Client.objects.count():,} clients already there; "
            f"file: {rows:,} rows, {len(text) / 1e6:.1f} MB"
        )
        loads, checks, imports = [], [], []
        for run in range(runs):
            loads.append(os.getloadavg()[0])
            started = time.monotonic()
            plan = importing.parse_clients_csv(text)
            checks.append(time.monotonic() - started)
            if plan.errors:
                raise CommandError(f"The generated file has errors: {plan.errors[:3]}")
            record = ClientImport.objects.create(
                filename="bench.csv",
                content=text,
                status=ClientImport.Status.IMPORTING,
                row_count=rows,
            )
            started = time.monotonic()
            if profile and run == 0:
                from pyinstrument import Profiler

                with Profiler() as profiler:
                    record = importing.run_import(client_import=record)
                Path(profile).write_text(profiler.output_html())
                self.stdout.write(f"Profile of one import written to {profile}.")
            else:
                record = importing.run_import(client_import=record)
            imports.append(time.monotonic() - started)
            if record.status != ClientImport.Status.IMPORTED:
                raise CommandError(f"The import failed: {record.errors[:3]}")
            self.stdout.write(
                f"run {run + 1}: dry run {checks[-1]:.2f} s, import {imports[-1]:.2f} s "
                f"(load {loads[-1]:.1f})"
            )
            self._clean()
            record.delete()
        floor = self._copy_floor(text) if connection.vendor == "postgresql" else None
        report = self._report(rows, checks, imports, floor, loads)
        self.stdout.write(report)
        if write:
            self._record(Path(write), report)

    def _clean(self) -> None:
        with transaction.atomic():
            ServiceLocation.objects.filter(client__notes=MARK).delete()
            Client.objects.filter(notes=MARK).delete()

    def _copy_floor(self, text: str) -> float:
        """COPY the same clients and locations (already valid values) into the same tables,
        in one transaction: the cheapest way PostgreSQL has to load them."""
        plan = importing.parse_clients_csv(text)
        now = timezone.now()
        client_columns = [
            "account_number",
            "name",
            "company_name",
            "email",
            "phone",
            "billing_street",
            "billing_city",
            "billing_postal_code",
            "status",
            "segment",
            "signup_date",
            "notes",
            "consent_email_marketing",
            "consent_email_marketing_at",
            "consent_sms",
            "consent_sms_at",
            "created_at",
            "updated_at",
        ]
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY clients_client ({', '.join(client_columns)}) FROM STDIN") as copy:
                for n, planned in enumerate(plan.clients):
                    values = {**planned.values, "account_number": f"BENCH-{n}"}
                    values["phone"] = str(values["phone"] or "")
                    copy.write_row(
                        [values.get(c, now) if c in values else now for c in client_columns]
                    )
            cursor.execute("SELECT id FROM clients_client WHERE notes = %s ORDER BY id", [MARK])
            ids = [pk for (pk,) in cursor.fetchall()]
            location_columns = ["client_id", "label", "street", "city", "postal_code", "status"]
            with raw.copy(
                f"COPY clients_servicelocation ({', '.join(location_columns)}) FROM STDIN"
            ) as copy:
                for pk, planned in zip(ids, plan.clients, strict=True):
                    for loc in planned.locations:
                        copy.write_row(
                            [
                                pk,
                                loc["label"],
                                loc["street"],
                                loc["city"],
                                loc["postal_code"],
                                "active",
                            ]
                        )
        elapsed = time.monotonic() - started
        self._clean()
        return elapsed

    def _report(self, rows, checks, imports, floor, loads) -> str:
        check, imported = statistics.median(checks), statistics.median(imports)
        floor_text = (
            f"COPY of the same rows {floor:.2f} s, ratio {imported / floor:.1f}×"
            if floor
            else "no COPY floor on this database"
        )
        total = check + imported
        return "\n".join(
            [
                f"### Clients CSV import (`manage.py bench_import`, "
                f"{timezone.localdate().isoformat()}, {connection.vendor})",
                "",
                f"| measure | median of {len(imports)} | runs | goal |",
                "|---|---|---|---|",
                f"| dry run (check every row), {rows:,} clients | {check:.2f} s | "
                f"{', '.join(f'{t:.2f}' for t in checks)} s | — |",
                f"| import (checked again + bulk inserts, one transaction) | {imported:.2f} s "
                f"({floor_text}) | {', '.join(f'{t:.2f}' for t in imports)} s | — |",
                f"| upload to imported (dry run + import) | {total:.2f} s | | under 20 s |",
                "",
                f"{rows:,} generated clients (every column filled), one location each, into a "
                f"database already holding {Client.objects.count():,} clients, trigram indexes "
                f"on (the import turns their pending lists on for the load; the COPY floor runs with "
                f"them as configured, fastupdate off). Load average (1 min) at each run: "
                f"{', '.join(f'{load:.1f}' for load in loads)} on {os.cpu_count()} cores.",
            ]
        )

    def _record(self, path: Path, report: str) -> None:
        text = path.read_text() if path.exists() else "# Benchmarks\n"
        block = f"{BEGIN}\n{report}\n{END}"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        path.write_text(text)
        self.stdout.write(f"Recorded in {path}.")
