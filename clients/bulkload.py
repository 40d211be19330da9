"""Bulk loads on PostgreSQL without paying the trigram indexes' cost row by row.

The search's GIN trigram indexes (migration 0004) run with `fastupdate = off`, so searches never
scan a pending list. Inserting many rows that way updates each index entry by entry and costs
more than the rest of the load together (a 10,000-client import: 25 s instead of 8 s, see
docs/benchmarks.md). For a bulk load the pending list is turned on, and afterwards turned off
again and merged into the index in one pass (`gin_clean_pending_list`, allowed inside a
transaction, unlike VACUUM). Searches stay correct meanwhile: they also read the pending list.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

CLIENT_TABLES = ["clients_client", "clients_servicelocation"]
BULK_TABLES = [*CLIENT_TABLES, "clients_equipment"]


def can_tune() -> bool:
    # ALTER INDEX takes a short exclusive lock on the index: never inside a long transaction,
    # where searches would queue behind it until the commit.
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def trigram_indexes(tables: list[str]) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexname LIKE %s",
            [tables, "%\\_trgm"],
        )
        return [name for (name,) in cursor.fetchall()]


def set_pending_lists(*, enabled: bool, tables: list[str], lock_timeout_ms: int = 0) -> bool:
    """Turn the pending lists on or off. With `lock_timeout_ms`, give up (False) rather than
    wait longer for the index lock: a waiting ALTER queues every search behind it (a long
    export, or autovacuum, may hold the table for seconds)."""
    if not can_tune():
        return False
    setting = "on" if enabled else "off"
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        try:
            for name in trigram_indexes(tables):
                cursor.execute(
                    f"ALTER INDEX {connection.ops.quote_name(name)} SET (fastupdate = {setting})"
                )
        except OperationalError:
            logger.warning("Trigram indexes busy: fastupdate not set %s", setting)
            return False
        finally:
            cursor.execute("RESET lock_timeout")
    return True


def flush_pending_lists(*, tables: list[str]) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in trigram_indexes(tables):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])


@contextmanager
def trigram_pending_lists(*, tables: list[str] = CLIENT_TABLES) -> Iterator[None]:
    """Pending lists on for the block (if the indexes can be had within 2 s; otherwise the
    load just runs slower); off and merged afterwards, whatever happened."""
    tune = can_tune() and set_pending_lists(enabled=True, tables=tables, lock_timeout_ms=2000)
    try:
        yield
    finally:
        if tune:
            # If this cannot get the lock either, the indexes stay correct (searches read the
            # pending list) and the next autovacuum merges it; the migration's setting returns
            # with the next bulk load.
            set_pending_lists(enabled=False, tables=tables, lock_timeout_ms=10_000)
            flush_pending_lists(tables=tables)
