"""The late payers' aging kept per client (`ClientAging`), so the report reads one page of rows
in index order instead of grouping every invoice that still owes on each request (GUIDE §5:
reports under 150 ms p95 at 100,000 clients).

Aging depends on the day (an invoice moves bucket as the days pass), so the rows are aged for
one day, `AgingSnapshot.as_of`:

- `rebuild(today)` ages every client for today. The daily collections run calls it first;
  the report schedules it (`schedule_rebuild`) when it finds the rows are not today's.
- `refresh(client_ids)` ages some clients again for the snapshot's day. The domain functions
  that change an invoice's balance call it in their transaction: payments, credit applied,
  credit notes, reversals, issuing and the billing run.
- The report uses the rows only when `are_current(today)`; until then it ages the invoices
  (exact, slower), as it always did.

Both write the same SELECT (`aging.aged_by_client`) into the table, so the rows and the live
report cannot disagree on a figure. On PostgreSQL an advisory lock orders them (a refresh
takes it shared, a rebuild exclusive): a payment that commits while a rebuild runs is either
seen by the rebuild or refreshes its client after it, never lost between the two.
"""

from datetime import date

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from cms_project.sql import among

from .aging import FIGURES, aged_by_client, late_payers, owing_invoices
from .models import AgingSnapshot, ClientAging, Invoice

LOCK_KEY = 0x41_47_49_4E_47  # "AGING"
REBUILD_PENDING_KEY = "invoices:aging-rows-rebuild-pending"
REBUILD_PENDING_SECONDS = 600
COLUMNS = ("client", *FIGURES, "oldest_due")  # the order of aged_by_client's SELECT


def _lock(*, shared: bool) -> None:
    if connection.vendor != "postgresql":  # SQLite: one writer at a time anyway
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [LOCK_KEY])


def snapshot_day() -> date | None:
    """The day the rows are aged for; None before the first rebuild."""
    return AgingSnapshot.objects.filter(pk=1).values_list("as_of", flat=True).first()


def are_current(today: date) -> bool:
    return snapshot_day() == today


def _insert(owing, day: date) -> int:
    """INSERT … SELECT of `owing` aged for `day`: one statement, nothing through Python."""
    select_sql, params = aged_by_client(owing, day).query.sql_with_params()
    quote = connection.ops.quote_name
    meta = ClientAging._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) {select_sql}", params)
        return cursor.rowcount


def refresh(client_ids) -> None:
    """Age these clients again, for the snapshot's day. Call inside the transaction that
    changed their invoices, after the change, with the clients locked (as the ledger's writers
    already do), so two refreshes of one client wait for each other."""
    ids = sorted({int(pk) for pk in client_ids})
    if not ids:
        return
    _lock(shared=True)
    day = snapshot_day()
    if day is None:  # never built: the report ages the invoices
        return
    ClientAging.objects.filter(among(ClientAging, "client", ids)).delete()
    _insert(owing_invoices().filter(among(Invoice, "client", ids)), day)


@transaction.atomic
def rebuild(today: date | None = None) -> int:
    """Age every client for `today` (company time by default); returns the late payers."""
    today = today or timezone.localdate()
    _lock(shared=False)
    ClientAging.objects.all().delete()
    count = _insert(owing_invoices(), today)
    AgingSnapshot.objects.update_or_create(
        pk=1, defaults={"as_of": today, "rebuilt_at": timezone.now()}
    )
    cache.delete(REBUILD_PENDING_KEY)
    return count


def schedule_rebuild() -> None:
    """Ask the queue for a rebuild, once per ten minutes whoever asks (the report, when it
    finds yesterday's rows). A queue that cannot be reached is logged, not raised: the
    report has already aged the invoices itself."""
    from .tasks import rebuild_aging_rows_task

    if cache.add(REBUILD_PENDING_KEY, True, REBUILD_PENDING_SECONDS):
        transaction.on_commit(rebuild_aging_rows_task.delay, robust=True)


def differences(today: date) -> list[str]:
    """What the rows say that ageing the invoices does not (empty when they agree): for
    `manage.py rebuild_totals --check` and the tests. Meaningful only when current."""
    fields = ("client_id", *FIGURES, "oldest_due")

    def by_client(rows) -> dict[int, tuple]:
        return {row[0]: row[1:] for row in rows.order_by("client_id").values_list(*fields)}

    kept = by_client(late_payers(today=today, from_rows=True))
    aged = by_client(late_payers(today=today))
    return [
        f"client {pk}: kept {kept.get(pk)}, aged {aged.get(pk)}"
        for pk in sorted(kept.keys() | aged.keys())
        if kept.get(pk) != aged.get(pk)
    ]
