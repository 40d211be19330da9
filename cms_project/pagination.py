"""A paginator for lists that can grow to millions of rows (the invoice list).

`SELECT COUNT(*)` of a whole big table is a full scan on PostgreSQL (no visibility map
shortcut for a busy table): 0.2 s for 300,000 invoices and growing with them, for a number
nobody reads to the unit. An unfiltered list on PostgreSQL therefore shows the planner's
estimate (`pg_class.reltuples`, kept current by autovacuum/ANALYZE) once the table is past
ESTIMATE_ABOVE rows; smaller tables and filtered lists are counted exactly. Both cases are one
query, so the page's query count does not depend on the table's size.
"""

from collections.abc import Callable, Sequence

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 100_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count_is_estimated(self) -> bool:
        self.count  # noqa: B018  (computes both)
        return self._estimated

    @cached_property
    def count(self) -> int:
        self._estimated = False
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None or query.where or query.distinct or query.combinator:
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT CASE WHEN c.reltuples > %s THEN c.reltuples::bigint "
                f"ELSE (SELECT count(*) FROM {table}) END, c.reltuples > %s "
                "FROM pg_class c WHERE c.oid = %s::regclass",
                [ESTIMATE_ABOVE, ESTIMATE_ABOVE, queryset.model._meta.db_table],
            )
            count, self._estimated = cursor.fetchone()
        return int(count)


class KnownCountPaginator(Paginator):
    """A paginator told its count by a query the page runs anyway (the payments list's totals
    count the filtered rows), so the page does not count the same rows twice."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count  # fills the cached_property


def windowed_page(
    queryset: QuerySet, number, *, per_page: int, load: Callable[[list], Sequence]
) -> Page:
    """One page of an ordered queryset whose filter is costly to evaluate (the client search's
    UNION of trigram lookups): the page's primary keys come with the count of every match
    (`COUNT(*) OVER ()`), so the filter runs once instead of once for the count and once for
    the page; then `load(pks)` reads those rows with whatever they need (figures computed by
    subqueries), for the page's rows only, put back in the page's order. Two queries; like
    `Paginator.get_page`, a page number that is not a number shows the first page, one past
    the end the last (a third query counts first). Not for an unfiltered big table: the
    window makes PostgreSQL read every row where a LIMIT would stop early."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    counted = queryset.annotate(_matches=Window(Count("*"))).values_list("pk", "_matches")

    def fetch(number: int) -> list[tuple]:
        return list(counted[(number - 1) * per_page : number * per_page])

    rows = fetch(number)
    if not rows and number > 1:
        number = max(-(-queryset.count() // per_page), 1)
        rows = fetch(number)
    pks = [pk for pk, _ in rows]
    by_pk = {obj.pk: obj for obj in load(pks)} if pks else {}
    paginator = KnownCountPaginator([], per_page, count=rows[0][1] if rows else 0)
    return Page([by_pk[pk] for pk in pks if pk in by_pk], number, paginator)
