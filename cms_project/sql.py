"""Small SQL helpers shared by the apps' bulk paths."""

from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL


def among(model: type[models.Model], attname: str, ids: list[int]) -> Q | RawSQL:
    """`<attname> IN ids` as a filter. On PostgreSQL, one array parameter: psycopg spends
    ~7 ms of CPU parsing a query with a 1,000-placeholder IN list, per query and batch."""
    if connection.vendor != "postgresql":
        return Q(**{f"{attname}__in": ids})
    quote = connection.ops.quote_name
    column = f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(attname).column)}"
    return RawSQL(f"{column} = ANY(%s)", (list(ids),), output_field=BooleanField())
