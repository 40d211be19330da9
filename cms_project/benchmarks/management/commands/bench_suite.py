"""python manage.py bench_suite — `make bench`: GUIDE §5's figures into docs/benchmarks.md.

Everything runs in separate processes against databases given by URL (docs/benchmarks.md):
  dataset   the data set of --clients generated clients (seed_demo), its size and timings
  queries   query counts of each page at --small-clients and at --clients clients
  pages     each page under load: gunicorn + locust, --users concurrent users, --seconds per
            run, --repeats runs, next to the floor (a bare list of 50 clients with a count)
  invoices  manage.py bench_invoices (billing run, PDF) on its own database
  import    manage.py bench_import (CSV import), when that command exists
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import environ
from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from cms_project.benchmarks import machine, report
from cms_project.benchmarks.document import write_section
from cms_project.benchmarks.load import load_pages, worker_count
from cms_project.benchmarks.pages import Page

PARTS = ("dataset", "queries", "pages", "invoices", "import")


def sibling_url(url: str, suffix: str) -> str:
    """The URL of a sibling database: fibercms_bench -> fibercms_bench<suffix>; a SQLite file
    x.sqlite3 -> x<suffix>.sqlite3."""
    config = environ.Env.db_url_config(url)
    name = str(config["NAME"])
    if "sqlite" in config["ENGINE"]:
        path = Path(name)
        return f"sqlite:///{path.with_name(path.stem + suffix + path.suffix)}"
    head, _, _ = url.rpartition("/")
    query = url.partition("?")[2]
    return f"{head}/{name}{suffix}" + (f"?{query}" if query else "")


def _server(config: dict):
    """A connection to the PostgreSQL server's maintenance database, outside transactions."""
    import psycopg

    return psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def create_database(url: str) -> None:
    """PostgreSQL: create the database if it does not exist (SQLite files create themselves)."""
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        return
    with _server(config) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))


def drop_database(url: str) -> None:
    """Remove a scratch database (PostgreSQL: DROP DATABASE; SQLite: the file)."""
    from psycopg import sql

    config = environ.Env.db_url_config(url)
    if "sqlite" in config["ENGINE"]:
        Path(str(config["NAME"])).unlink(missing_ok=True)
        return
    with _server(config) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(config["NAME"])))


class Command(BaseCommand):
    help = "Run the benchmark suite (make bench) and write docs/benchmarks.md."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=100_000)
        parser.add_argument("--small-clients", type=int, default=100)
        parser.add_argument(
            "--database-url",
            default=os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", ""),
        )
        parser.add_argument(
            "--small-database-url", default="", help="Default: the database name + the size."
        )
        parser.add_argument(
            "--invoices-database-url", default="", help="Default: the database name + _invoices."
        )
        parser.add_argument("--only", default="", help=f"Comma-separated subset of {PARTS}.")
        parser.add_argument("--repeats", type=int, default=3)
        parser.add_argument("--seconds", type=float, default=10)
        parser.add_argument("--users", type=int, default=8)
        parser.add_argument("--workers", type=int, default=0, help="Default: 2 per core.")
        parser.add_argument("--port", type=int, default=8799)
        parser.add_argument("--pdfs", type=int, default=30)
        parser.add_argument("--write", default="docs/benchmarks.md")

    def handle(self, *args, **o):
        # Killed (make interrupted, a time limit): unwind, so gunicorn is stopped too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        parts = [p.strip() for p in o["only"].split(",") if p.strip()] or list(PARTS)
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise CommandError(f"--only: unknown part(s) {', '.join(sorted(unknown))}.")
        url = o["database_url"]
        if not url:
            raise CommandError("Give the data set's database: DATABASE_URL or --database-url.")
        small_url = o["small_database_url"] or sibling_url(url, str(o["small_clients"]))
        self.doc = Path(o["write"])
        if not self.doc.is_absolute():
            self.doc = Path(settings.BASE_DIR) / self.doc
        self.log_dir = Path(settings.BASE_DIR) / ".bench"
        self.log_dir.mkdir(exist_ok=True)
        # Subprocesses: production settings need a real key; nothing signed outlives the run.
        self.base_env = {
            **os.environ,
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEBUG": "false",
            "CELERY_BROKER_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
        self.base_env.pop("DJANGO_SETTINGS_MODULE", None)
        started = time.monotonic()
        load_before = os.getloadavg()

        big = self.dataset(url, o["clients"], timed="dataset" in parts)
        small = None
        if "queries" in parts:
            small = self.dataset(small_url, o["small_clients"], timed=False)
        info = machine.describe(database=big["database"])
        info["load_before"] = load_before

        queries = None
        if "queries" in parts:
            queries = {
                "small": self.bench_queries(small_url),
                "big": self.bench_queries(url),
                "small_size": small["size"],
                "big_size": big["size"],
            }
        loads = None
        if "pages" in parts:
            pages = [Page(**p) for p in self.bench_queries(url)]
            loads = load_pages(
                pages=pages,
                env=self.env(url, settings_module="cms_project.settings.bench"),
                users=o["users"],
                seconds=o["seconds"],
                repeats=o["repeats"],
                port=o["port"],
                workers=o["workers"] or worker_count(),
                log=self.log_dir / "gunicorn.log",
            )
        info["load_after"] = os.getloadavg()
        info["seconds"] = time.monotonic() - started
        settings_used = {k: o[k] for k in ("users", "seconds", "repeats", "clients")}
        settings_used["workers"] = o["workers"] or worker_count()

        write_section(self.doc, "machine", report.machine_section(info, big, settings_used))
        if "dataset" in parts:
            write_section(self.doc, "dataset", report.dataset_section(big))
        if loads is not None:
            write_section(self.doc, "pages", report.pages_section(loads, settings_used))
        if queries is not None:
            write_section(self.doc, "queries", report.queries_section(queries))
        if "invoices" in parts:
            self.bench_invoices(url, o["clients"], o["pdfs"])
        if "import" in parts:
            self.bench_import(url)
        self.stdout.write(f"Recorded in {self.doc} ({time.monotonic() - started:.0f} s).")

    # --- Subprocesses ----------------------------------------------------------------------
    def env(self, url: str, *, settings_module: str = "cms_project.settings.local") -> dict:
        return {**self.base_env, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": settings_module}

    def manage(self, url: str, *arguments: str, settings_module: str = "", capture=True) -> str:
        env = self.env(url, settings_module=settings_module or "cms_project.settings.local")
        completed = subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=capture,
            text=True,
        )
        if completed.returncode != 0:
            raise CommandError(
                f"manage.py {' '.join(arguments)} failed:\n{(completed.stderr or '')[-4000:]}"
            )
        return completed.stdout or ""

    def dataset(self, url: str, clients: int, *, timed: bool) -> dict:
        self.stdout.write(f"Data set: {clients:,} clients ({url.rpartition('/')[2]})…")
        create_database(url)
        self.manage(url, "migrate", "--noinput", "-v0")
        output = self.manage(url, "bench_dataset", "--clients", str(clients))
        return json.loads(output.strip().splitlines()[-1])

    def bench_queries(self, url: str) -> list[dict]:
        self.stdout.write(f"Query counts ({url.rpartition('/')[2]})…")
        output = self.manage(url, "bench_queries", settings_module="cms_project.settings.bench")
        return json.loads(output.strip().splitlines()[-1])

    def bench_invoices(self, url: str, clients: int, pdfs: int) -> None:
        # Its own database: bench_invoices generates clients of its own (B-…), which would
        # change the size of the data set the pages are measured on.
        invoices_url = sibling_url(url, "_invoices")
        self.stdout.write("bench_invoices…")
        # A fresh database each time: the billing run is measured at a tenth of the size and
        # at the full size (memory flat in the number of clients), generated in that order.
        drop_database(invoices_url)
        create_database(invoices_url)
        self.manage(invoices_url, "migrate", "--noinput", "-v0")
        self.manage(
            invoices_url,
            "bench_invoices",
            "--clients",
            str(clients),
            "--sizes",
            ",".join(str(n) for n in sorted({max(1, clients // 10), clients})),
            "--pdfs",
            str(pdfs),
            "--write",
            str(self.doc),
            capture=False,
        )

    def bench_import(self, url: str) -> None:
        if "bench_import" not in get_commands():
            self.stdout.write("bench_import does not exist yet: skipped.")
            return
        self.stdout.write("bench_import…")
        import_url = sibling_url(url, "_import")
        create_database(import_url)
        self.manage(import_url, "migrate", "--noinput", "-v0")
        self.manage(import_url, "bench_import", "--write", str(self.doc), capture=False)
