"""CSV exports of clients (in the import format), locations and equipment.

Rows are streamed straight from the database in chunks, so exporting 100,000 clients neither
builds the file in memory nor loads model instances.
"""

import csv
import re
from collections.abc import Iterable, Iterator

from django.db.models import Count, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from . import ledger_hooks
from .importing import COLUMNS, FIGURE_COLUMNS
from .models import Equipment, ServiceLocation

_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().-]+$")


def escape_cell(value) -> str:
    """Text a spreadsheet would run as a formula (=, @, or +/- that is not a number or phone)
    gets a leading apostrophe; the import takes it off again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not _NUMBER_LIKE.match(text)
    ):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, rows: Iterable[Iterable]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([escape_cell(v) for v in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def dated(name: str) -> str:
    return f"{name}-{timezone.localdate().isoformat()}.csv"


CLIENT_FIELDS = [
    "account_number",
    "name",
    "company_name",
    "segment",
    "status",
    "email",
    "phone",
    "billing_street",
    "billing_city",
    "billing_postal_code",
    "signup_date",
    "consent_email_marketing",
    "consent_email_marketing_at",
    "consent_sms",
    "consent_sms_at",
    "notes",
    "locations__label",
    "locations__street",
    "locations__city",
    "locations__postal_code",
    "locations__status",
    "locations__install_date",
    "locations__latitude",
    "locations__longitude",
]


def client_rows(clients: QuerySet) -> Iterator[list]:
    """Clients in the import format: one row per location (one row for a client without),
    then the ledger figures (balance, lifetime value), which the import ignores."""
    figures = ledger_hooks.available()
    fields = CLIENT_FIELDS + (FIGURE_FIELDS if figures else [])
    yield COLUMNS + (FIGURE_COLUMNS if figures else [])
    rows = (
        ledger_hooks.with_figures(clients)
        .order_by("account_number", "locations__label", "locations__id")
        .values_list(*fields)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        yield [_cell(k, v) for k, v in zip(fields, row, strict=True)]


FIGURE_FIELDS = ["ledger_balance", "lifetime_value"]


def _cell(field: str, value):
    if field == "phone" and value:
        return str(value)
    if field in FIGURE_FIELDS:
        return ledger_hooks.money(value)
    return value


LOCATION_HEADER = [
    "account_number",
    "client_name",
    "label",
    "street",
    "city",
    "postal_code",
    "status",
    "install_date",
    "latitude",
    "longitude",
    "equipment_count",
]


def location_rows(clients: QuerySet | None = None) -> Iterator[list]:
    yield LOCATION_HEADER
    locations = ServiceLocation.objects.all()
    if clients is not None:
        locations = locations.filter(client__in=clients.values("pk"))
    yield from (
        locations.annotate(n=Count("equipment"))
        .order_by("client__account_number", "label", "pk")
        .values_list(
            "client__account_number",
            "client__name",
            "label",
            "street",
            "city",
            "postal_code",
            "status",
            "install_date",
            "latitude",
            "longitude",
            "n",
        )
        .iterator(chunk_size=2000)
    )


EQUIPMENT_HEADER = [
    "serial_number",
    "kind",
    "make_model",
    "mac_address",
    "status",
    "ownership",
    "install_date",
    "account_number",
    "location_label",
    "location_street",
    "location_city",
]


def equipment_rows(clients: QuerySet | None = None) -> Iterator[list]:
    """All equipment (in stock too), or only that at the given clients' locations."""
    yield EQUIPMENT_HEADER
    equipment = Equipment.objects.all()
    if clients is not None:
        equipment = equipment.filter(location__client__in=clients.values("pk"))
    yield from (
        equipment.order_by("serial_number")
        .values_list(
            "serial_number",
            "kind",
            "make_model",
            "mac_address",
            "status",
            "ownership",
            "install_date",
            "location__client__account_number",
            "location__label",
            "location__street",
            "location__city",
        )
        .iterator(chunk_size=2000)
    )
