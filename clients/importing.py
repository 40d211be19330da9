"""CSV import of clients with their service locations (onboarding from a spreadsheet).

Two steps. `prepare_import` reads and checks the whole file without writing a client — the
dry run — and keeps it with every error found (row number, column, message). `run_import`
checks it again (the database may have changed meanwhile) and creates everything in one
transaction with bulk inserts, or nothing at all.

The format (also what the client export writes, so an export imports back as it was): one row
per service location; the client columns of rows sharing an account number describe one client,
so they may be repeated or left blank after its first row. A row without an account number is a
new client with the next free number. Row numbers count the header as row 1, as a spreadsheet
shows them.
"""

import csv
import io
import re
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from staff.models import User

from .accounts import bump_account_counter, reserve_account_numbers
from .bulkload import trigram_pending_lists
from .models import Client, ClientImport, ServiceLocation
from .validation import collapse_spaces, normalise_phone, phone_for_display

CLIENT_COLUMNS = [
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
]
LOCATION_COLUMNS = [
    "location_label",
    "location_street",
    "location_city",
    "location_postal_code",
    "location_status",
    "location_install_date",
    "location_latitude",
    "location_longitude",
]
COLUMNS = CLIENT_COLUMNS + LOCATION_COLUMNS
# Written by the export after the import columns; read-only figures, ignored by the import.
FIGURE_COLUMNS = ["balance", "lifetime_value"]
REQUIRED_COLUMNS = ("name",)
BATCH = 2000
PROGRESS_EVERY = 1000  # rows between two progress reports
# Files with more rows than this are checked and imported by a background task (the page
# shows a progress bar); smaller ones within the request, which is faster than a round trip.
BACKGROUND_ROWS = 1000

_ACCOUNT_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
_email = EmailValidator()


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


CLIENT_MAX = {
    name: _max_length(Client, name)
    for name in (
        "name",
        "company_name",
        "email",
        "billing_street",
        "billing_city",
        "billing_postal_code",
    )
}
LOCATION_MAX = {
    name: _max_length(ServiceLocation, name) for name in ("label", "street", "city", "postal_code")
}


def unescape_cell(value: str) -> str:
    """Undo the export's protection against spreadsheet formulas (a leading apostrophe)."""
    value = value.strip()
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@":
        return value[1:]
    return value


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class PlannedClient:
    row: int
    values: dict
    raw: dict  # the client cells as written, to spot a later row describing it differently
    locations: list[dict] = field(default_factory=list)


@dataclass
class ImportPlan:
    clients: list[PlannedClient] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    row_count: int = 0

    @property
    def location_count(self) -> int:
        return sum(len(c.locations) for c in self.clients)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))


class _Row:
    """One CSV record being checked: collects its errors under its row number."""

    def __init__(self, plan: ImportPlan, number: int, cells: dict):
        self.plan, self.number, self.cells = plan, number, cells

    def get(self, column: str) -> str:
        return unescape_cell(self.cells.get(column) or "")

    def error(self, column: str, message: str) -> None:
        self.plan.error(self.number, column, message)

    def text(self, column: str, max_length: int, *, required: str = "") -> str:
        value = collapse_spaces(self.get(column))
        if not value and required:
            self.error(column, required)
        elif len(value) > max_length:
            self.error(column, f"Too long: at most {max_length} characters.")
        return value

    def choice(self, column: str, choices, default: str) -> str:
        value = self.get(column).lower()
        if not value:
            return default
        for key, label in choices:
            if value in (key, str(label).lower()):
                return key
        allowed = ", ".join(key for key, _ in choices)
        self.error(column, f"“{self.get(column)}” is not one of: {allowed}.")
        return default

    def date(self, column: str) -> date | None:
        value = self.get(column)
        if not value:
            return None
        us = _US_DATE.match(value)
        try:
            if us:
                return date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, f"“{value}” is not a date; write 2026-03-31 (or 3/31/2026).")
            return None

    def moment(self, column: str) -> datetime | None:
        value = self.get(column)
        if not value:
            return None
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            parsed = None
        if parsed is None:
            self.error(column, f"“{value}” is not a date and time; write 2026-03-31T14:30.")
            return None
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed

    def flag(self, column: str) -> bool:
        value = self.get(column).lower()
        if value in _TRUE:
            return True
        if value not in _FALSE:
            self.error(column, f"“{self.get(column)}” is not yes or no.")
        return False

    def coordinate(self, column: str, limit: int) -> Decimal | None:
        value = self.get(column)
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) > limit:
            self.error(column, f"“{value}” is not a number between -{limit} and {limit}.")
            return None
        return number.quantize(Decimal("0.000001"))


def _client_values(row: _Row) -> dict:
    values = {
        "name": row.text(
            "name", CLIENT_MAX["name"], required="Missing name: every client needs one."
        ),
        "company_name": row.text("company_name", CLIENT_MAX["company_name"]),
        "segment": row.choice("segment", Client.Segment.choices, Client.Segment.RESIDENTIAL),
        "status": row.choice("status", Client.Status.choices, Client.Status.PROSPECT),
        "billing_street": row.text("billing_street", CLIENT_MAX["billing_street"]),
        "billing_city": row.text("billing_city", CLIENT_MAX["billing_city"]),
        "billing_postal_code": row.text("billing_postal_code", CLIENT_MAX["billing_postal_code"]),
        "signup_date": row.date("signup_date") or timezone.localdate(),
        "consent_email_marketing": row.flag("consent_email_marketing"),
        "consent_sms": row.flag("consent_sms"),
        "notes": row.get("notes"),
    }
    email = row.get("email")
    if email:
        try:
            _email(email)
        except ValidationError:
            row.error("email", f"“{email}” is not a valid email address.")
        if len(email) > CLIENT_MAX["email"]:
            row.error("email", f"Too long: at most {CLIENT_MAX['email']} characters.")
    values["email"] = email
    phone = row.get("phone")
    try:
        values["phone"] = normalise_phone(phone)
    except ValidationError:
        row.error("phone", f"“{phone}” is not a valid phone number.")
        values["phone"] = ""
    postal = values["billing_postal_code"]
    if postal and not _POSTAL_CODE.match(postal):
        row.error("billing_postal_code", f"“{postal}” is not a postal code.")
    # Consent carries the moment it was given; "now" when the file does not say.
    for flag in ("consent_email_marketing", "consent_sms"):
        given_at = row.moment(f"{flag}_at")
        values[f"{flag}_at"] = (given_at or timezone.now()) if values[flag] else None
    return values


def _location_values(row: _Row) -> dict | None:
    if not any(row.get(column) for column in LOCATION_COLUMNS):
        return None  # a client without (further) locations
    values = {
        "label": row.text(
            "location_label", LOCATION_MAX["label"], required="Missing location label (e.g. Home)."
        ),
        "street": row.text(
            "location_street", LOCATION_MAX["street"], required="Missing location street."
        ),
        "city": row.text("location_city", LOCATION_MAX["city"], required="Missing location city."),
        "postal_code": row.text(
            "location_postal_code",
            LOCATION_MAX["postal_code"],
            required="Missing location postal code.",
        ),
        "status": row.choice(
            "location_status", ServiceLocation.Status.choices, ServiceLocation.Status.ACTIVE
        ),
        "install_date": row.date("location_install_date"),
        "latitude": row.coordinate("location_latitude", 90),
        "longitude": row.coordinate("location_longitude", 180),
    }
    if values["postal_code"] and not _POSTAL_CODE.match(values["postal_code"]):
        row.error("location_postal_code", f"“{values['postal_code']}” is not a postal code.")
    return values


def _read_header(plan: ImportPlan, header: list[str]) -> list[str] | None:
    columns = [re.sub(r"[\s-]+", "_", h.strip().lower()) for h in header]
    ok = True
    for column in columns:
        if column not in COLUMNS and column not in FIGURE_COLUMNS:
            plan.error(1, column or "(blank)", "Unknown column; see the template for the columns.")
            ok = False
    for column in {c for c in columns if columns.count(c) > 1}:
        plan.error(1, column, "This column appears twice.")
        ok = False
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            plan.error(1, column, f"The header has no “{column}” column.")
            ok = False
    return columns if ok else None


Progress = Callable[[int, int], None]  # (rows or clients done, out of)


def parse_clients_csv(text: str, *, progress: Progress | None = None) -> ImportPlan:
    """Check every row of the file; writes nothing. The plan lists every error found."""
    plan = ImportPlan()
    lines = text.count("\n") or 1  # an estimate: a quoted cell may span lines
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(records, None)
    if not header:
        plan.error(1, "", "The file has no header row.")
        return plan
    columns = _read_header(plan, header)
    if columns is None:
        return plan
    by_account: dict[str, PlannedClient] = {}
    for number, record in enumerate(records, start=2):
        if progress and number % PROGRESS_EVERY == 0:
            progress(min(number, lines), lines)
        if not any(cell.strip() for cell in record):
            continue  # blank lines, common at the end of exported sheets
        plan.row_count += 1
        if len(record) > len(columns):
            plan.error(
                number, "", f"{len(record)} cells but the header has {len(columns)} columns."
            )
            continue
        row = _Row(plan, number, dict(zip(columns, record, strict=False)))
        account = row.get("account_number").upper()
        if account and not _ACCOUNT_NUMBER.match(account):
            row.error(
                "account_number", f"“{account}” is not an account number (letters, digits, -)."
            )
        existing = by_account.get(account) if account else None
        raw = {c: row.get(c) for c in CLIENT_COLUMNS}
        if existing is None:
            client = PlannedClient(row=number, values=_client_values(row), raw=raw)
            client.values["account_number"] = account
            plan.clients.append(client)
            if account:
                by_account[account] = client
        else:
            client = existing
            for column in CLIENT_COLUMNS[1:]:
                if raw[column] and raw[column] != client.raw[column]:
                    row.error(
                        column, f"Differs from row {client.row}, which has the same account number."
                    )
        location = _location_values(row)
        if location:
            address = (
                location["street"].lower(),
                location["city"].lower(),
                location["postal_code"].lower(),
            )
            if any(
                (o["street"].lower(), o["city"].lower(), o["postal_code"].lower()) == address
                for o in client.locations
            ):
                row.error("location_street", "The same address appears twice for this client.")
            location["row"] = number
            client.locations.append(location)
    _check_account_numbers_are_free(plan, by_account)
    plan.errors.sort(key=lambda e: e.row)
    return plan


def _check_account_numbers_are_free(plan: ImportPlan, by_account: dict) -> None:
    numbers = list(by_account)
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        for taken in Client.objects.filter(account_number__in=chunk).values_list(
            "account_number", flat=True
        ):
            plan.error(
                by_account[taken].row,
                "account_number",
                f"Duplicate account number: {taken} already belongs to a client.",
            )


class ImportFailed(Exception):
    pass


@transaction.atomic
def import_plan(*, plan: ImportPlan, progress: Progress | None = None) -> int:
    """Create every client and location of a checked plan, in bulk, or none (one transaction)."""
    if plan.errors:
        raise ImportFailed("The file has errors; nothing was imported.")
    fresh = iter(
        reserve_account_numbers(sum(1 for c in plan.clients if not c.values["account_number"]))
    )
    clients = []
    for planned in plan.clients:
        values = dict(planned.values)
        values["account_number"] = values["account_number"] or next(fresh)
        clients.append(Client(**values))
    try:
        for start in range(0, len(clients), BATCH):
            Client.objects.bulk_create(clients[start : start + BATCH])
            if progress:
                progress(min(start + BATCH, len(clients)), len(clients))
        locations = [
            ServiceLocation(client_id=client.pk, **{k: v for k, v in loc.items() if k != "row"})
            for client, planned in zip(clients, plan.clients, strict=True)
            for loc in planned.locations
        ]
        ServiceLocation.objects.bulk_create(locations, batch_size=BATCH)
    except IntegrityError as exc:
        # Someone else took an account number between the check and now.
        raise ImportFailed(
            f"The database refused the import ({exc}); nothing was imported."
        ) from exc
    bump_account_counter([c.account_number for c in clients])
    return len(clients)


def _preview(plan: ImportPlan, limit: int = 20) -> list[dict]:
    return [
        {
            "row": c.row,
            "account_number": c.values["account_number"] or "(new)",
            "name": c.values["name"],
            "company_name": c.values["company_name"],
            "email": c.values["email"],
            "phone": phone_for_display(c.values["phone"]),
            "status": c.values["status"],
            "locations": [f"{loc['label']}: {loc['street']}, {loc['city']}" for loc in c.locations],
        }
        for c in plan.clients[:limit]
    ]


def _record_plan(record: ClientImport, plan: ImportPlan) -> None:
    record.status = ClientImport.Status.INVALID if plan.errors else ClientImport.Status.VALID
    record.row_count = plan.row_count
    record.client_count = len(plan.clients)
    record.location_count = plan.location_count
    record.errors = [e.as_dict() for e in plan.errors]
    record.preview = _preview(plan)
    record.progress, record.progress_note = 100, ""


def data_rows(text: str) -> int:
    """About how many rows a file has (lines after the header), to choose where it runs."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    return max(lines - 1, 0)


def runs_in_background(rows: int) -> bool:
    return rows > BACKGROUND_ROWS


def save_progress(*, import_id: int, percent: int, note: str) -> None:
    """Record how far a background check or import got, where every web process can read it.

    Inside the import's transaction the row would stay invisible until the end, so on
    PostgreSQL the figures go through a second, autocommitting connection. SQLite allows one
    writer at a time: there the page simply shows the end.
    """
    fields = {"progress": max(0, min(100, percent)), "progress_note": note[:200]}
    if not connection.in_atomic_block:
        ClientImport.objects.filter(pk=import_id).update(**fields)
        return
    if connection.vendor != "postgresql":
        return
    side = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ClientImport._meta.db_table} SET progress = %s, progress_note = %s "
                "WHERE id = %s",
                [fields["progress"], fields["progress_note"], import_id],
            )
    finally:
        side.close()


def _reporter(import_id: int, what: str, low: int, high: int) -> Progress:
    """A progress callback mapping "done of total" onto low–high percent of the bar."""

    def report(done: int, total: int) -> None:
        share = done / total if total else 1
        save_progress(
            import_id=import_id,
            percent=low + int((high - low) * share),
            note=f"{what} {done:,} of {total:,}",
        )

    return report


@transaction.atomic
def prepare_import(*, filename: str, text: str, by: User) -> ClientImport:
    """The dry run: check the file, keep it with its errors and a preview; import nothing.

    A large file is only stored here (status *checking*); a background task checks it after
    the commit (`check_import`) while the preview page shows the progress.
    """
    record = ClientImport(filename=filename[:255], content=text, uploaded_by=by)
    rows = data_rows(text)
    if runs_in_background(rows):
        record.status = ClientImport.Status.CHECKING
        record.row_count = rows
        record.progress_note = "Waiting for a worker…"
        record.save()
        from .tasks import check_import_task

        transaction.on_commit(partial(check_import_task.delay, record.pk))
        return record
    _record_plan(record, parse_clients_csv(text))
    record.save()
    return record


def check_import(*, import_id: int) -> ClientImport:
    """The dry run of a stored file (the background half of `prepare_import`)."""
    record = ClientImport.objects.get(pk=import_id)
    if record.status != ClientImport.Status.CHECKING:
        return record  # already checked (a task delivered twice)
    plan = parse_clients_csv(record.content, progress=_reporter(import_id, "Checked row", 0, 100))
    _record_plan(record, plan)
    record.save()
    return record


def request_import(*, client_import: ClientImport) -> ClientImport:
    """Start importing a previewed file without errors: at once when it is small, in a
    background task when it is large. Pressing *Import* twice imports once: only the request
    that moves the file from *ready* to *importing* goes on."""
    with transaction.atomic():
        claimed = ClientImport.objects.filter(
            pk=client_import.pk, status=ClientImport.Status.VALID
        ).update(
            status=ClientImport.Status.IMPORTING, progress=0, progress_note="Waiting for a worker…"
        )
        background = runs_in_background(client_import.row_count)
        if claimed and background:
            from .tasks import import_clients_task

            transaction.on_commit(partial(import_clients_task.delay, client_import.pk))
    if claimed and not background:
        return run_import(client_import=client_import)
    return ClientImport.objects.defer("content").get(pk=client_import.pk)


def run_import(*, client_import: ClientImport) -> ClientImport:
    """Import a file in the *importing* state: checked again (the database may have changed
    since the preview), then all of it or none of it, in one transaction."""
    pk = client_import.pk
    record = ClientImport.objects.get(pk=pk)
    if record.status == ClientImport.Status.VALID:  # called directly, not through request_import
        ClientImport.objects.filter(pk=pk, status=ClientImport.Status.VALID).update(
            status=ClientImport.Status.IMPORTING
        )
        record.refresh_from_db()
    if record.status != ClientImport.Status.IMPORTING:
        return record  # imported already, or never claimed
    started = time.monotonic()
    plan = parse_clients_csv(record.content, progress=_reporter(pk, "Checked row", 0, 30))
    # Large files load the trigram indexes in one pass at the end instead of row by row.
    bulk = trigram_pending_lists() if runs_in_background(plan.row_count) else nullcontext()
    if not plan.errors:
        try:
            with bulk, transaction.atomic():
                import_plan(plan=plan, progress=_reporter(pk, "Saved client", 30, 95))
                # The claim comes last, so progress reports never wait on this row's lock; a
                # second worker given the same task blocks here, then finds 0 rows and undoes
                # its own inserts.
                done = ClientImport.objects.filter(
                    pk=pk, status=ClientImport.Status.IMPORTING
                ).update(
                    status=ClientImport.Status.IMPORTED,
                    imported_at=timezone.now(),
                    seconds=round(time.monotonic() - started, 2),
                    row_count=plan.row_count,
                    client_count=len(plan.clients),
                    location_count=plan.location_count,
                    errors=[],
                    progress=100,
                    progress_note="",
                )
                if not done:
                    raise _AlreadyImported
        except _AlreadyImported:
            pass
        except ImportFailed as exc:
            plan.error(0, "", str(exc))
    if plan.errors:
        # Outside the import's transaction: the errors are recorded although it rolled back.
        record_failure(import_id=pk, plan=plan)
    return ClientImport.objects.get(pk=pk)


class _AlreadyImported(Exception):
    pass


def record_failure(*, import_id: int, plan: ImportPlan) -> None:
    with transaction.atomic():
        record = ClientImport.objects.select_for_update().get(pk=import_id)
        if record.status == ClientImport.Status.IMPORTED:
            return
        _record_plan(record, plan)
        record.save()


def record_crash(*, import_id: int, exc: BaseException) -> None:
    """A background check or import stopped on an unexpected error: say so on the page."""
    plan = ImportPlan()
    plan.error(
        0, "", f"The file could not be processed ({type(exc).__name__}); nothing was imported."
    )
    record_failure(import_id=import_id, plan=plan)


def template_rows() -> list[list[str]]:
    """The downloadable template: the header and two example clients."""
    return [
        COLUMNS,
        [
            "",
            "Maria Lopez",
            "",
            "residential",
            "active",
            "maria@example.com",
            "(217) 555-0134",
            "12 Oak Street",
            "Springfield",
            "62704",
            "2026-01-15",
            "yes",
            "",
            "no",
            "",
            "",
            "Home",
            "12 Oak Street",
            "Springfield",
            "62704",
            "active",
            "2026-01-20",
            "",
            "",
        ],
        [
            "C-900001",
            "Tom Becker",
            "Becker Hardware LLC",
            "business",
            "active",
            "tom@becker.example",
            "+1 309 555 0188",
            "400 Main Street",
            "Peoria",
            "61602",
            "2025-11-03",
            "no",
            "",
            "yes",
            "",
            "Two sites",
            "Store",
            "400 Main Street",
            "Peoria",
            "61602",
            "active",
            "2025-11-10",
            "",
            "",
        ],
        [
            "C-900001",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "Warehouse",
            "18 Depot Road",
            "Peoria",
            "61604",
            "planned",
            "",
            "",
            "",
        ],
    ]
