"""The benchmark data set: `seed_demo --clients N` (demo company + N generated clients with
locations, equipment, subscriptions and a year of issued invoices), its size and how long it
took to generate. Generation times are kept in .bench/dataset-<database>.json, since a data set
is generated once and measured many times."""

import io
import json
import re
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from clients.models import Client, ServiceLocation
from invoices.models import Invoice, InvoiceLine
from services.models import Subscription

GENERATED_EMAIL = "@example.net"  # clients.demo.generate_clients
STEPS = {
    "clients": re.compile(r"Generated (\d+) clients, (\d+) locations .* in ([\d.]+) s"),
    "subscriptions": re.compile(r"Subscribed their locations: (\d+) subscriptions in ([\d.]+) s"),
    "invoices": re.compile(r"Billed the last (\d+) months: (\d+) new invoices in ([\d.]+) s"),
    "payments": re.compile(r"Payments: (\d+) payments, (\d+) allocations in ([\d.]+) s"),
}


def state_file() -> Path:
    name = Path(str(settings.DATABASES["default"]["NAME"])).name
    return Path(settings.BASE_DIR) / ".bench" / f"dataset-{name}.json"


def generated_clients() -> int:
    return Client.objects.filter(email__endswith=GENERATED_EMAIL).count()


def database_version() -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def parse_seed_output(text: str, *, seconds: float | None = None) -> dict:
    """The timed steps `seed_demo --clients` prints, as {step: {...}}."""
    steps: dict = {}
    for line in text.splitlines():
        for step, pattern in STEPS.items():
            match = pattern.search(line)
            if match:
                *counts, elapsed = match.groups()
                steps[step] = {"counts": [int(c) for c in counts], "seconds": float(elapsed)}
    if seconds is None:
        seconds = sum(step["seconds"] for step in steps.values())
    return {"steps": steps, "seconds": seconds, "date": time.strftime("%Y-%m-%d")}


def record_generation(result: dict) -> None:
    path = state_file()
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=1))


def last_generation() -> dict | None:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None


def ensure(clients: int, *, months: int | None = None) -> dict:
    """Generate what is missing for `clients` generated clients (the first time: everything).
    Returns the data set's size and the last generation's timings."""
    missing = clients - generated_clients()
    if missing > 0:
        out = io.StringIO()
        started = time.monotonic()
        options = {"clients": missing, "force": True, "stdout": out}
        if months is not None:
            options["months"] = months
        call_command("seed_demo", **options)
        record_generation(parse_seed_output(out.getvalue(), seconds=time.monotonic() - started))
    settle()
    return {"size": size(), "generation": last_generation(), "database": database_version()}


def settle() -> None:
    """VACUUM ANALYZE (PostgreSQL): the tables as autovacuum keeps them in production. Right
    after a million rows are written, the planner's statistics are stale and the visibility map
    is empty (no index-only scans): measured that way, the floor page's p95 was 147 ms instead
    of 54 ms. Quick when nothing changed. Also what the day's collections run would have done
    first: the late payers' aging rows for today (invoices/aging_rows.py)."""
    from invoices import aging_rows

    if not aging_rows.are_current(timezone.localdate()):
        aging_rows.rebuild()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def size() -> dict:
    issued = Invoice.objects.issued()
    result = {
        "clients": Client.objects.count(),
        "locations": ServiceLocation.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "invoices": issued.count(),
        "invoice_lines": InvoiceLine.objects.count(),
    }
    try:
        from invoices.models import Allocation, Payment  # the payments core (issue 9)
    except ImportError:
        return result
    result["payments"] = Payment.objects.count()
    result["allocations"] = Allocation.objects.count()
    result["invoices_paid"] = issued.filter(status=Invoice.Status.PAID).count()
    result["invoices_partially_paid"] = issued.filter(status=Invoice.Status.PARTIALLY_PAID).count()
    result["invoices_overdue"] = issued.overdue().count()
    return result
