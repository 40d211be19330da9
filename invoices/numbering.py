"""Gapless document numbers: `INV-2026-000001`, `CN-2026-000001`.

A number is taken from a counter row (series + year) locked with `select_for_update()` inside
the transaction that issues the document. If that transaction rolls back, so does the counter,
and the number is handed out again: the series stays dense with no gaps. A PostgreSQL
sequence would not (a rolled-back nextval is lost), which is why none is used.
"""

from django.db import IntegrityError, transaction

from .models import NumberCounter


def format_number(*, series: str, year: int, number: int) -> str:
    return f"{series}-{year}-{number:06d}"


def _locked_counter(*, series: str, year: int) -> NumberCounter:
    counter = NumberCounter.objects.select_for_update().filter(series=series, year=year).first()
    if counter is not None:
        return counter
    # First document of the series this year. Two transactions may both get here: the
    # unique constraint lets one insert win; the other waits for it, fails in its savepoint,
    # and then locks the row the winner made.
    try:
        with transaction.atomic():
            NumberCounter.objects.create(series=series, year=year, last_number=0)
    except IntegrityError:
        pass
    return NumberCounter.objects.select_for_update().get(series=series, year=year)


def take_numbers(*, series: str, year: int, count: int) -> list[str]:
    """Reserve `count` consecutive numbers. Must run inside the transaction that uses them,
    so that the counter row stays locked until the documents carrying them are committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers must be taken inside the transaction that issues them.")
    if count < 1:
        return []
    counter = _locked_counter(series=series, year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [format_number(series=series, year=year, number=n) for n in range(first, first + count)]


def next_number(*, series: str, year: int) -> str:
    """The next number of a series for a year (see `take_numbers`)."""
    return take_numbers(series=series, year=year, count=1)[0]
