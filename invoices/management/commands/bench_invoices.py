"""python manage.py bench_invoices [--clients 100000] [--sizes 10000,100000] [--write FILE]

Benchmarks of the invoices app (not a test): the monthly billing run at each size (smallest
first: the clients are generated up to each size in turn), with its memory; the time to render
a one-page and a three-page invoice PDF (median and p95) next to the WeasyPrint floor (a
minimal page); and the time to serve a stored PDF. Meant for PostgreSQL (DATABASE_URL); it
generates the clients it needs (account numbers `B-…`) and removes the invoices its runs
created afterwards, so it can be run again on the same database (a size smaller than the
clients already there is skipped: `make bench` gives it a fresh database).
"""

import os
import statistics
import tempfile
import time
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client as HttpClient
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ServiceLocation
from invoices.billing import run_billing
from invoices.drafts import LineData, create_draft
from invoices.issuing import issue_invoice
from invoices.models import BillingRun, Invoice, InvoiceLine
from invoices.pdf import invoice_pdf_bytes, render_invoice_pdf, write_pdf
from services.models import Service, ServicePrice, Subscription
from staff.models import Role, User

PREFIX = "B-"
BEGIN, END = "<!-- bench_invoices:begin -->", "<!-- bench_invoices:end -->"
PERIOD = (2026, 11)
THREE_PAGE_LINES = 75  # with the standard layout: three A4 pages (the report says how many)


def _pages(pdf: bytes) -> int:
    from pypdf import PdfReader  # requirements-dev: the benchmark is a development tool

    return len(PdfReader(BytesIO(pdf)).pages)


def _ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 1024 / 1024


class Command(BaseCommand):
    help = "Benchmark the billing run and PDF rendering (not a test)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument(
            "--sizes",
            default="",
            help="Comma-separated client counts to bill, smallest first (default: --clients).",
        )
        parser.add_argument("--pdfs", type=int, default=30, help="PDF renders to time.")
        parser.add_argument("--write", default="", help="Markdown file to record results in.")

    def handle(self, *args, clients: int, sizes: str, pdfs: int, write: str, **options):
        self.verbosity = options.get("verbosity", 1)
        try:
            wanted = sorted({int(n) for n in sizes.split(",") if n.strip()} or {clients})
        except ValueError:
            raise CommandError("--sizes: whole numbers separated by commas.") from None
        if wanted[0] < 1:
            raise CommandError("--clients and --sizes must be positive.")
        # With DEBUG on (the local settings), Django keeps the SQL of the last 9,000 queries:
        # memory and time a production process does not spend.
        settings.DEBUG = False
        self.stdout.write(f"Database: {connection.vendor}")
        runs = []
        for size in wanted:
            if Client.objects.filter(account_number__startswith=PREFIX).count() > size:
                self.stdout.write(f"Skipped {size:,} clients: the database holds more already.")
                continue
            started = time.monotonic()
            made = self.generate(size)
            self.stdout.write(f"Generated {made} clients in {time.monotonic() - started:.1f} s.")
            self.settle()
            runs.append(self.bench_billing())
        pdf = self.bench_pdf(pdfs)
        report = self.report(runs, pdf)
        self.stdout.write(report)
        if write:
            self.record(Path(write), report)

    def settle(self) -> None:
        if connection.vendor == "postgresql":
            # Planner statistics after a bulk load (autovacuum would do it in time; it may be
            # off, as on the shared benchmark machine): without them every batch's query plans
            # for a 100-row table and scans all subscriptions.
            # VACUUM too: the shared server runs without autovacuum, and the dead rows every
            # earlier benchmark left (its invoices are deleted after each run) made each
            # unique-index check of the run wade through them: 803 s instead of 16 s.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    # --- Data ------------------------------------------------------------------------------
    def generate(self, wanted: int) -> int:
        have = Client.objects.filter(account_number__startswith=PREFIX).count()
        missing = wanted - have
        if missing <= 0:
            return 0
        fiber = self.service("Bench Fiber 500", Service.Category.INTERNET, "59.99", "8.25")
        router = self.service("Bench Router rental", Service.Category.RENTAL, "5.99", "0")
        chunk = 10_000
        for start in range(have, wanted, chunk):
            with transaction.atomic():
                numbers = range(start, min(start + chunk, wanted))
                made = Client.objects.bulk_create(
                    [
                        Client(
                            account_number=f"{PREFIX}{n:07d}",
                            name=f"Bench Client {n}",
                            email=f"bench{n}@example.com",
                            status=Client.Status.ACTIVE,
                            signup_date=date(2024, 1, 1),
                            billing_street=f"{n} Bench Street",
                            billing_city="Springfield",
                            billing_postal_code="62701",
                        )
                        for n in numbers
                    ]
                )
                locations = ServiceLocation.objects.bulk_create(
                    [
                        ServiceLocation(
                            client=client,
                            label="Home",
                            street=f"{n} Bench Street",
                            city="Springfield",
                            postal_code="62701",
                        )
                        for n, client in zip(numbers, made, strict=True)
                    ]
                )
                subscriptions = []
                for n, location in zip(numbers, locations, strict=True):
                    # Every 10th client started mid-month (prorated); every 2nd rents a router.
                    start_date = date(2026, 11, 12) if n % 10 == 0 else date(2025, 1, 1)
                    subscriptions.append(
                        Subscription(
                            service=fiber,
                            location=location,
                            start_date=start_date,
                            status=Subscription.Status.ACTIVE,
                        )
                    )
                    if n % 2 == 0:
                        subscriptions.append(
                            Subscription(
                                service=router,
                                location=location,
                                start_date=date(2025, 1, 1),
                                status=Subscription.Status.ACTIVE,
                            )
                        )
                Subscription.objects.bulk_create(subscriptions)
        return missing

    @staticmethod
    def service(name, category, price, tax) -> Service:
        service, created = Service.objects.get_or_create(
            name=name, defaults={"category": category, "tax_rate": Decimal(tax)}
        )
        if created:
            ServicePrice.objects.create(
                service=service, amount=Decimal(price), effective_from=date(2020, 1, 1)
            )
        return service

    # --- Billing ---------------------------------------------------------------------------
    def bench_billing(self) -> dict:
        self.remove_bench_invoices()
        samples = []

        def progress(run: BillingRun) -> None:
            samples.append((run.clients_processed, rss_mb()))
            if self.verbosity > 1:
                self.stderr.write(
                    f"{time.monotonic() - started:7.1f} s {run.clients_processed:>7} clients "
                    f"{samples[-1][1]:.0f} MB"
                )

        before = rss_mb()
        load = os.getloadavg()[0]
        started, cpu = time.monotonic(), time.process_time()
        run = run_billing(
            year=PERIOD[0], month=PERIOD[1], notify=False, render_pdfs=False, progress=progress
        )
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
        invoices = run.created_count
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics for the counts below
                cursor.execute("ANALYZE invoices_invoice; ANALYZE invoices_invoiceline")
        lines = InvoiceLine.objects.filter(invoice__billing_run=run).count()
        floor = self.copy_floor(run) if connection.vendor == "postgresql" else None
        quarter = next((rss for done, rss in samples if done >= run.clients_total / 4), before)
        result = {
            "seconds": elapsed,
            "cpu": cpu,
            "clients": run.clients_total,
            "invoices": invoices,
            "lines": lines,
            "errors": run.error_count,
            "rss_before": before,
            "rss_quarter": quarter,
            "rss_max": max(rss for _, rss in samples),
            "total": run.total_billed,
            "load": (load, os.getloadavg()[0]),
            "floor": floor,
        }
        self.remove_bench_invoices()
        BillingRun.objects.filter(pk=run.pk).delete()
        return result

    def remove_bench_invoices(self) -> None:
        """Issued invoices cannot be deleted through the ORM (on purpose); the benchmark's own
        (generated `B-` clients, the benchmark period) are removed with SQL so that it can run
        again on the same data. Nothing else is touched."""
        bench = (
            "SELECT i.id FROM invoices_invoice i JOIN clients_client c ON c.id = i.client_id "
            "WHERE c.account_number LIKE %s AND i.source = 'billing_run' "
            "AND i.period_year = %s AND i.period_month = %s"
        )
        params = [f"{PREFIX}%", *PERIOD]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE invoices_invoice; ANALYZE invoices_invoiceline")
            cursor.execute(
                f"DELETE FROM invoices_invoiceline WHERE invoice_id IN ({bench})", params
            )
            cursor.execute(f"DELETE FROM invoices_invoice WHERE id IN ({bench})", params)

    def copy_floor(self, run: BillingRun) -> float:
        """GUIDE §5's floor for the run: the seconds PostgreSQL takes to COPY the very rows the
        run wrote (its invoices and lines, same tables, indexes and constraints) in one
        transaction, commit included (Django's foreign keys are checked at commit). The rows
        are exported first (not timed), removed, copied back and committed (timed), and
        removed again."""
        invoice_columns = self.columns(Invoice)
        line_columns = self.columns(InvoiceLine)
        invoice_table, line_table = Invoice._meta.db_table, InvoiceLine._meta.db_table
        mine = f"SELECT id FROM {invoice_table} WHERE billing_run_id = {int(run.pk)}"
        with (
            tempfile.TemporaryFile() as invoices,
            tempfile.TemporaryFile() as lines,
        ):
            with connection.cursor() as wrapper:
                cursor = wrapper.cursor
                for target, table, columns in (
                    (invoices, invoice_table, invoice_columns),
                    (lines, line_table, line_columns),
                ):
                    key = "id" if table == invoice_table else "invoice_id"
                    query = f"SELECT {columns} FROM {table} WHERE {key} IN ({mine})"
                    with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                        for block in copy:
                            target.write(block)
            self.remove_bench_invoices()
            started = time.monotonic()
            with transaction.atomic(), connection.cursor() as wrapper:
                cursor = wrapper.cursor
                for source, table, columns in (
                    (invoices, invoice_table, invoice_columns),
                    (lines, line_table, line_columns),
                ):
                    source.seek(0)
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        while block := source.read(1 << 20):
                            copy.write(block)
            elapsed = time.monotonic() - started
        self.remove_bench_invoices()
        return elapsed

    @staticmethod
    def columns(model) -> str:
        return ", ".join(
            connection.ops.quote_name(f.column)
            for f in model._meta.concrete_fields
            if not f.generated
        )

    # --- PDF ---------------------------------------------------------------------------
    def bench_pdf(self, count: int) -> dict:
        """Renders of a one-page and a three-page invoice and of the minimal page (median and
        p95 of `count` each), and `count` downloads of a stored PDF through the staff view."""
        client = Client.objects.filter(account_number__startswith=PREFIX).first()

        def issued(lines: int) -> Invoice:
            return issue_invoice(
                invoice=create_draft(
                    client=client,
                    lines=[
                        LineData(f"Service {n}", Decimal("1"), Decimal("19.99"), Decimal("8.25"))
                        for n in range(lines)
                    ],
                )
            )

        def timed(render) -> list[float]:
            render()  # warm-up: fonts, stylesheet parsing
            times = []
            for _ in range(count):
                started = time.perf_counter()
                render()
                times.append(time.perf_counter() - started)
            return times

        minimal = "<html><body><h1>Invoice</h1><p>One line</p></body></html>"
        with (
            tempfile.TemporaryDirectory() as media,
            override_settings(MEDIA_ROOT=media),
            transaction.atomic(),
        ):
            one, three = issued(6), issued(THREE_PAGE_LINES)
            result = {
                "one": timed(lambda: invoice_pdf_bytes(one)),
                "three": timed(lambda: invoice_pdf_bytes(three)),
                "floor": timed(lambda: write_pdf(minimal)),
                "pages": (_pages(invoice_pdf_bytes(one)), _pages(invoice_pdf_bytes(three))),
            }
            render_invoice_pdf(invoice_id=one.pk)  # stored, as the background task does
            staff = User.objects.create_user(
                email="bench-pdf@example.com", password=None, role=Role.STAFF
            )
            http = HttpClient(SERVER_NAME="localhost")
            http.force_login(staff)
            url = reverse("invoices:pdf", args=[one.pk])

            def download():
                response = http.get(url)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
                if response.streaming:  # FileResponse: read it as a client would
                    b"".join(response.streaming_content)

            result["serve"] = timed(download)
            transaction.set_rollback(True)  # leave no benchmark invoice or user behind
        return result

    # --- Report ----------------------------------------------------------------------------
    def report(self, runs: list[dict], pdf: dict) -> str:
        rows = []
        for billing in runs:
            rate = billing["invoices"] / billing["seconds"] if billing["seconds"] else 0
            rows += [
                f"| billing run, {billing['clients']:,} clients → {billing['invoices']:,} "
                f"invoices, {billing['lines']:,} lines | {billing['seconds']:.1f} s "
                f"({rate:,.0f} invoices/s; {billing['cpu']:.1f} s of CPU in the run's own "
                f"process), {billing['errors']} errors; load average "
                f"{billing['load'][0]:.1f} → {billing['load'][1]:.1f} on {os.cpu_count()} CPUs "
                "| under 30 s |",
                f"| memory during the {billing['clients']:,}-client run (RSS) | "
                f"{billing['rss_before']:.0f} MB before, {billing['rss_quarter']:.0f} MB at "
                f"25 %, {billing['rss_max']:.0f} MB max | flat in the number of clients |",
            ]
            if billing["floor"] is not None:
                rows.append(
                    f"| floor: the same {billing['invoices']:,} invoices and "
                    f"{billing['lines']:,} lines written by `COPY` in one transaction, commit "
                    f"included | {billing['floor']:.1f} s; the run takes "
                    f"{billing['seconds'] / billing['floor']:.1f}× the floor | within 4× |"
                )
        floor = statistics.median(pdf["floor"])
        one_pages, three_pages = pdf["pages"]
        rows += [
            f"| invoice PDF, {one_pages} page, 6 lines | {_ms(pdf['one'])} "
            f"({statistics.median(pdf['one']) / floor:.1f}× the floor) | under 200 ms |",
            f"| invoice PDF, {three_pages} pages, {THREE_PAGE_LINES} lines | "
            f"{_ms(pdf['three'])} ({statistics.median(pdf['three']) / floor:.1f}× the floor) | – |",
            f"| floor: a minimal WeasyPrint page | {_ms(pdf['floor'])} | – |",
            f"| serving a stored PDF (staff download view, in-process) | {_ms(pdf['serve'])} "
            "| milliseconds |",
        ]
        clients = max((b["clients"] for b in runs), default=0)
        return "\n".join(
            [
                f"### Invoices (`manage.py bench_invoices`, {timezone.localdate():%Y-%m-%d}, "
                f"{connection.vendor})",
                "",
                "| measure | result | goal |",
                "|---|---|---|",
                *rows,
                "",
                "The runs issue and number every invoice; PDFs and emails are left to the "
                "workers (`render_pdfs=False`, `notify=False`), as in production where they run "
                f"in parallel background tasks. Up to {clients:,} generated clients, one fibre "
                "subscription each, every second one renting a router, every tenth prorated. "
                f"PDF figures: {len(pdf['one'])} renders each after a warm-up.",
            ]
        )

    def record(self, path: Path, report: str) -> None:
        text = path.read_text() if path.exists() else "# Benchmarks\n\nMade by `make bench`.\n"
        block = f"{BEGIN}\n{report}\n{END}"
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
        path.write_text(text)
        self.stdout.write(f"Recorded in {path}.")
