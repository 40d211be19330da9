"""The monthly billing run: one invoice per client per period, from the subscriptions and
rentals active in the period (GUIDE §2 "Billing").

- Lines come from `services.monthly_bill.charge_for`, the function behind the monthly bill the
  client page and the portal show, so the invoice says what the bill said (price in effect or
  agreed price, proration by days with the computation in the description, one-time fees once).
  Figures come from `cms_project.money` through `issuing.finalise`/`apply_totals`, as for an
  invoice issued by hand.
- Clients are read in batches of ~1,000 by primary key (keyset), so memory stays flat whatever
  the number of clients. Clients, their locations and subscriptions are read as plain rows
  (`values_list`), one query each per batch, never as model instances (a 100,000-client run
  spent most of its time building and saving model instances); the catalog and its price
  history are loaded once per run.
- Each batch is one transaction: the batch's numbers are taken with ONE update of the locked
  counter row (`numbering.take_numbers`), then its invoices and lines are inserted with one
  multi-row write each — PostgreSQL `COPY` (invoice ids reserved from the table's sequence
  first, so lines can refer to them), `bulk_create` elsewhere (SQLite). Everything is computed
  before the counter is locked, so concurrent issues wait only for the two writes.
- `after_batch_issued` is called inside the batch's transaction with the issued invoices' and
  their clients' ids; the batch's PDFs are one background task, enqueued on commit.
- If anything in the batch's transaction fails (a concurrent run inserted the same client's
  invoice, a constraint, a bad record), it rolls back (its numbers too) and its clients are
  billed one by one, each in its own transaction, so that one failing client is recorded with
  its error and does not stop the others.
- At most one invoice per (client, period) is a database constraint: re-running a period
  creates nothing new, and two runs at once create no duplicates (the loser's insert fails and
  the client is counted as skipped).
"""

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import itemgetter
from types import SimpleNamespace

from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client, ServiceLocation
from cms_project.company.models import CompanySettings, get_company
from cms_project.money import (
    CENT,
    ZERO,
    TaxGroup,
    Totals,
    period_bounds,
    previous_period,
    tax_summary,
    totals_of_groups,
)
from cms_project.sql import among
from services.models import Service, ServicePrice, Subscription
from services.monthly_bill import CATEGORY_ORDER, BillLine, charge_for
from staff.audit import record

from . import aging_rows, running_totals
from .issuing import (
    apply_totals,
    billing_address_of,
    copy_client,
    finalise,
    location_text,
    schedule_pdfs,
)
from .models import BillingRun, BillingRunError, CreditNote, Invoice, InvoiceLine, Payment
from .numbering import take_numbers

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# A client whose invoice hits a transient database error (deadlock, serialization failure)
# is tried this many times before it is recorded as an error of the run.
ATTEMPTS_PER_CLIENT = 2


# --- Reading what to bill --------------------------------------------------------------------
def billable_subscriptions(*, year: int, month: int) -> QuerySet[Subscription]:
    """Subscriptions that may contribute a line to the period (charge_for has the last word)."""
    first, last = period_bounds(year, month)
    return Subscription.objects.billable().filter(start_date__lte=last).exclude(end_date__lt=first)


def clients_to_bill(*, year: int, month: int) -> QuerySet[Client]:
    subscriptions = billable_subscriptions(year=year, month=month).filter(
        location__client=OuterRef("pk")
    )
    return Client.objects.filter(Exists(subscriptions))


def load_price_history() -> dict[int, list[ServicePrice]]:
    """Every service's price history, once per run (the catalog is small; clients are not)."""
    prices: dict[int, list[ServicePrice]] = defaultdict(list)
    for price in ServicePrice.objects.only("service_id", "amount", "effective_from"):
        prices[price.service_id].append(price)
    return prices


class ClientRow:
    """The columns of a client the run needs, from `values_list` (no model instance)."""

    FIELDS = (
        "pk",
        "account_number",
        "name",
        "company_name",
        "billing_street",
        "billing_city",
        "billing_postal_code",
    )
    __slots__ = FIELDS

    def __init__(self, values: tuple) -> None:
        for name, value in zip(self.FIELDS, values, strict=True):
            setattr(self, name, value)

    # The model's own property, so the name on the invoice is decided in one place.
    display_name = property(Client.display_name.fget)


class LocationRow:
    """A service location as invoices print it (`issuing.location_text`, computed once)."""

    __slots__ = ("pk", "label", "street", "city", "postal_code", "text")

    def __init__(self, pk, label, street, city, postal_code) -> None:
        self.pk, self.label, self.street = pk, label, street
        self.city, self.postal_code = city, postal_code
        self.text = location_text(self)


class SubscriptionRow:
    """What `charge_for` reads of a subscription, plus its location; `service` is the
    run's catalog instance (loaded once)."""

    __slots__ = (
        "pk",
        "service_id",
        "quantity",
        "start_date",
        "end_date",
        "agreed_price",
        "agreed_price_until",
        "location",
        "location_id",
        "service",
    )


SUBSCRIPTION_FIELDS = (
    "pk",
    "service_id",
    "quantity",
    "start_date",
    "end_date",
    "agreed_price",
    "agreed_price_until",
    "location_id",
)


def _line_order(line: BillLine) -> tuple:
    subscription = line.subscription
    service: Service = subscription.service
    return (
        subscription.location.label,
        subscription.location_id,
        CATEGORY_ORDER.get(service.category, 99),
        service.name,
        subscription.pk,
    )


def lines_for_client(subscriptions: list, *, year: int, month: int, prices) -> list[BillLine]:
    lines = []
    for subscription in subscriptions:
        line = charge_for(
            subscription, year=year, month=month, prices=prices.get(subscription.service_id, [])
        )
        if line is not None:
            lines.append(line)
    lines.sort(key=_line_order)
    return lines


# --- Writing invoices ------------------------------------------------------------------------
@dataclass
class PreparedInvoice:
    client: ClientRow
    lines: list[BillLine]
    groups: list[TaxGroup]  # cms_project.money.tax_summary of the lines, computed once
    figures: Totals

    @property
    def total(self) -> Decimal:
        return self.figures.total


@dataclass(frozen=True)
class CreatedInvoice:
    pk: int
    client_id: int
    total: Decimal


@dataclass
class BatchOutcome:
    processed: int = 0
    created: list[CreatedInvoice] = field(default_factory=list)
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (client id, message)

    @property
    def total_billed(self) -> Decimal:
        return sum((invoice.total for invoice in self.created), ZERO)


@dataclass(frozen=True)
class RunContext:
    run: BillingRun
    year: int
    month: int
    company: CompanySettings
    issue: bool
    issue_date: date
    notify: bool
    prices: dict
    services: dict
    render_pdfs: bool = True


def prepare_invoice(ctx: RunContext, client: ClientRow, subscriptions: list) -> PreparedInvoice:
    lines = lines_for_client(subscriptions, year=ctx.year, month=ctx.month, prices=ctx.prices)
    groups = tax_summary(lines)
    return PreparedInvoice(
        client=client, lines=lines, groups=groups, figures=totals_of_groups(groups)
    )


def _invoice_values(ctx: RunContext, prepared: PreparedInvoice, now: datetime) -> dict:
    """The column values (by attname) of a run's invoice, filled by the same functions that
    issue an invoice by hand, on a plain namespace instead of a model instance."""
    client = prepared.client
    document = SimpleNamespace(
        client_id=client.pk,
        source=Invoice.Source.BILLING_RUN.value,
        period_year=ctx.year,
        period_month=ctx.month,
        billing_run_id=ctx.run.pk,
        currency=ctx.company.currency,
        created_by_id=ctx.run.started_by_id,
        created_at=now,
        status=Invoice.Status.DRAFT.value,
    )
    address = billing_address_of(
        client, locations=[line.subscription.location for line in prepared.lines]
    )
    if ctx.issue:
        # The number is set once the batch's block of numbers is taken (see _insert_batch).
        finalise(
            document,
            lines=prepared.lines,
            client=client,
            company=ctx.company,
            number="",
            issue_date=ctx.issue_date,
            issued_by=ctx.run.started_by,
            billing_address=address,
            groups=prepared.groups,
        )
        document.status = Invoice.Status.ISSUED.value
        issued_by = document.__dict__.pop("issued_by")
        document.issued_by_id = issued_by.pk if issued_by is not None else None
    else:
        # A draft for review: figures and the client's details are shown already; issuing
        # copies them again (and the company's) at that moment.
        copy_client(document, client, billing_address=address)
        apply_totals(document, prepared.lines, groups=prepared.groups)
    return document.__dict__


def _line_values(lines: list[BillLine]) -> list[dict]:
    return [
        {
            "position": position,
            "description": line.description,
            "quantity": Decimal(line.quantity),
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "net": line.net,
            "subscription_id": line.subscription.pk,
            "location_id": line.subscription.location_id,
            "location_text": line.subscription.location.text,
            "period_start": line.first_day,
            "period_end": line.last_day,
        }
        for position, line in enumerate(lines, start=1)
    ]


@cache
def _copy_columns(model: type[models.Model]) -> tuple[tuple[str, ...], dict, tuple[str, ...]]:
    """(attnames, defaults, JSON attnames) of the columns COPY writes, primary key excepted.
    Columns the run does not set get the model's default, so a field added later cannot break
    COPY; generated columns are left to the database."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    return (
        tuple(f.attname for f in fields),
        {f.attname: f.get_default() for f in fields},
        tuple(f.attname for f in fields if isinstance(f, models.JSONField)),
    )


def _copy_rows(
    cursor, model: type[models.Model], rows: Iterable[dict], *, ids: list[int] | None = None
) -> None:
    """One `COPY … FROM STDIN` of `rows` (dicts by attname) into the model's table."""
    attnames, defaults, json_attnames = _copy_columns(model)
    quote = connection.ops.quote_name
    names = [quote(model._meta.get_field(attname).column) for attname in attnames]
    if ids is not None:
        names.insert(0, quote(model._meta.pk.column))
    values_of = itemgetter(*attnames)
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(names)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for index, values in enumerate(rows):
            row = {**defaults, **values}
            for attname in json_attnames:
                row[attname] = json.dumps(row[attname])
            copy.write_row(values_of(row) if ids is None else (ids[index], *values_of(row)))


def _write_postgresql(invoices: list[dict], lines: list[list[dict]]) -> list[int]:
    table = Invoice._meta.db_table
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor  # psycopg's own cursor: Django's wrapper has no copy()
        # Ids from the table's identity sequence (not gapless and need not be: only the
        # invoice numbers are), so the lines can refer to their invoices in the same COPY.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, Invoice._meta.pk.column, len(invoices)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        _copy_rows(cursor, Invoice, invoices, ids=ids)
        _copy_rows(
            cursor,
            InvoiceLine,
            (
                {**line, "invoice_id": invoice_id}
                for invoice_id, invoice_lines in zip(ids, lines, strict=True)
                for line in invoice_lines
            ),
        )
    return ids


def _write_with_orm(invoices: list[dict], lines: list[list[dict]]) -> list[int]:
    """The same rows through `bulk_create` (SQLite and any database without COPY)."""
    made = Invoice.objects.bulk_create([Invoice(**values) for values in invoices])
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(invoice_id=invoice.pk, **line)
            for invoice, invoice_lines in zip(made, lines, strict=True)
            for line in invoice_lines
        ]
    )
    return [invoice.pk for invoice in made]


def _client_among(client_ids: list[int]) -> Q | RawSQL:
    return among(Client, "id", client_ids)


def clients_with_credit(client_ids: list[int]) -> list[int]:
    """Which of these clients hold unused credit (a credit note's or a payment's): one query."""
    notes = CreditNote.objects.filter(
        client_id=OuterRef("pk"), amount_to_credit__gt=F("credit_used")
    )
    payments = Payment.objects.filter(client_id=OuterRef("pk"), unallocated__gte=CENT)
    return list(
        Client.objects.filter(_client_among(client_ids))
        .filter(Exists(notes) | Exists(payments))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def after_batch_issued(*, invoice_ids: list[int], client_ids: list[int]) -> None:
    """Called inside each batch's transaction, once its invoices are issued (not for drafts),
    with the batch's clients locked: what must happen with the issue, atomically. Credit the
    client holds pays the new invoice at once, as when an invoice is issued by hand
    (`issuing.issue_invoice`). Anything sent from here must be enqueued on commit."""
    from .allocation import apply_client_credit

    if invoice_ids:
        running_totals.add_issued_invoices(
            Invoice.objects.filter(among(Invoice, "id", invoice_ids)),
            InvoiceLine.objects.filter(among(InvoiceLine, "invoice", invoice_ids)),
        )
        aging_rows.refresh(client_ids)
    for client_id in clients_with_credit(client_ids):
        apply_client_credit(client=Client(pk=client_id))


def _lock_clients(client_ids: list[int]) -> None:
    """Lock the batch's clients in key order, before the counter: the order in which
    `issue_invoice` and payments lock (client, then counter or invoices), so a run never
    deadlocks with them; a payment arriving meanwhile waits and then sees the new invoice."""
    list(
        Client.objects.select_for_update()
        .filter(_client_among(client_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _after_commit(ctx: RunContext, invoice_ids: list[int]) -> None:
    """The batch's PDFs (one task) and client notifications, queued on commit of the batch."""
    if not ctx.issue:
        return
    if ctx.render_pdfs:
        schedule_pdfs(invoice_ids)
    if ctx.notify:
        from .sending import notify_client

        for invoice in Invoice.objects.filter(pk__in=invoice_ids).select_related("client"):
            notify_client(invoice=invoice)


def _insert_batch(ctx: RunContext, prepared: list[PreparedInvoice]) -> list[CreatedInvoice]:
    """All invoices of a batch in one transaction (the caller's)."""
    now = timezone.now()
    invoices = [_invoice_values(ctx, p, now) for p in prepared]
    lines = [_line_values(p.lines) for p in prepared]
    client_ids = [p.client.pk for p in prepared]
    if ctx.issue:
        _lock_clients(client_ids)
        # Taken last, so the counter row stays locked only for the writes and the commit.
        numbers = take_numbers(
            series=ctx.company.invoice_prefix, year=ctx.issue_date.year, count=len(prepared)
        )
        for values, number in zip(invoices, numbers, strict=True):
            values["number"] = number
    if connection.vendor == "postgresql":
        ids = _write_postgresql(invoices, lines)
    else:
        ids = _write_with_orm(invoices, lines)
    if ctx.issue:
        after_batch_issued(invoice_ids=ids, client_ids=client_ids)
    _after_commit(ctx, ids)
    return [
        CreatedInvoice(pk=pk, client_id=p.client.pk, total=p.total)
        for pk, p in zip(ids, prepared, strict=True)
    ]


def _bill_one(ctx: RunContext, prepared: PreparedInvoice) -> CreatedInvoice | None:
    """One client in its own transaction; None if they already have this period's invoice."""
    try:
        with transaction.atomic():
            return _insert_batch(ctx, [prepared])[0]
    except IntegrityError:
        exists = Invoice.objects.filter(
            client_id=prepared.client.pk,
            source=Invoice.Source.BILLING_RUN,
            period_year=ctx.year,
            period_month=ctx.month,
        ).exists()
        if exists:
            return None  # another run (or an earlier one) billed this client: not an error
        raise


def _service(ctx: RunContext, service_id: int) -> Service:
    service = ctx.services.get(service_id)
    if service is None:
        # Created after the run started: load it and its prices, or its lines would be
        # silently missing (no price known).
        service = ctx.services[service_id] = Service.objects.get(pk=service_id)
        ctx.prices[service_id] = list(ServicePrice.objects.filter(service_id=service_id))
    return service


def _subscriptions_by_client(ctx: RunContext, client_ids: list[int]) -> dict[int, list]:
    """The billable subscriptions of the batch's clients (ascending ids), as plain rows: the
    batch's locations (an index range on their client), then their subscriptions (by
    location id). Two queries that stay on indexes: the single join over a range of
    clients was planned as a scan of every subscription, per batch (quadratic)."""
    by_client: dict[int, list[SubscriptionRow]] = defaultdict(list)
    wanted = set(client_ids)
    locations: dict[int, tuple[int, LocationRow]] = {}
    for pk, client_id, *place in ServiceLocation.objects.filter(
        client__gte=client_ids[0], client__lte=client_ids[-1]
    ).values_list("pk", "client_id", "label", "street", "city", "postal_code"):
        if client_id in wanted:  # the range also holds clients billed already
            locations[pk] = (client_id, LocationRow(pk, *place))
    if not locations:
        return by_client
    rows = (
        billable_subscriptions(year=ctx.year, month=ctx.month)
        .filter(among(Subscription, "location_id", list(locations)))
        .order_by("pk")
        .values_list(*SUBSCRIPTION_FIELDS)
    )
    for pk, service_id, quantity, start, end, agreed, until, loc_id in rows:
        client_id, location = locations[loc_id]
        subscription = SubscriptionRow()
        subscription.pk, subscription.service_id = pk, service_id
        subscription.quantity, subscription.start_date, subscription.end_date = quantity, start, end
        subscription.agreed_price, subscription.agreed_price_until = agreed, until
        subscription.location_id = loc_id
        subscription.location = location
        # The catalog is loaded once per run: no Service row per subscription.
        subscription.service = _service(ctx, service_id)
        by_client[client_id].append(subscription)
    return by_client


def bill_batch(ctx: RunContext, clients: list[ClientRow]) -> BatchOutcome:
    outcome = BatchOutcome()
    if not clients:
        return outcome
    # Clients come in ascending ids: a range, not a 1,000-item IN list.
    already = set(
        Invoice.objects.filter(
            client__gte=clients[0].pk,
            client__lte=clients[-1].pk,
            source=Invoice.Source.BILLING_RUN,
            period_year=ctx.year,
            period_month=ctx.month,
        ).values_list("client_id", flat=True)
    )
    outcome.processed = len(clients)
    todo = [client for client in clients if client.pk not in already]
    outcome.skipped = len(clients) - len(todo)
    if not todo:
        return outcome
    by_client = _subscriptions_by_client(ctx, [client.pk for client in todo])

    prepared: list[PreparedInvoice] = []
    for client in todo:
        try:
            candidate = prepare_invoice(ctx, client, by_client.get(client.pk, []))
            if not candidate.lines or candidate.total == ZERO:
                # Nothing to charge (no price yet, or free services only): no empty invoice.
                outcome.skipped += 1
                continue
        except Exception as exc:
            logger.exception("Billing run %s: client %s failed", ctx.run.pk, client.pk)
            outcome.errors.append((client.pk, f"{type(exc).__name__}: {exc}"))
            continue
        prepared.append(candidate)
    if not prepared:
        return outcome

    try:
        with transaction.atomic():
            outcome.created.extend(_insert_batch(ctx, prepared))
        return outcome
    except Exception as exc:
        # Usually a concurrent run that billed some of these clients first. Fall back to one
        # transaction per client so each is created, skipped or reported on its own.
        logger.info("Billing run %s: batch fell back to one client at a time (%s)", ctx.run.pk, exc)
    for candidate in prepared:
        for attempt in range(1, ATTEMPTS_PER_CLIENT + 1):
            try:
                invoice = _bill_one(ctx, candidate)
            except OperationalError as exc:
                if attempt < ATTEMPTS_PER_CLIENT:
                    continue  # a deadlock or serialization failure: worth one more try
                outcome.errors.append((candidate.client.pk, f"{type(exc).__name__}: {exc}"))
            except Exception as exc:
                logger.exception(
                    "Billing run %s: client %s failed", ctx.run.pk, candidate.client.pk
                )
                outcome.errors.append((candidate.client.pk, f"{type(exc).__name__}: {exc}"))
            else:
                if invoice is None:
                    outcome.skipped += 1
                else:
                    outcome.created.append(invoice)
            break
    return outcome


# --- The run ---------------------------------------------------------------------------------
@transaction.atomic
def start_run(
    *,
    year: int,
    month: int,
    started_by=None,
    company: CompanySettings | None = None,
    request: HttpRequest | None = None,
) -> BillingRun:
    """Create the run row, and its one audit entry: a run is audited once, not per invoice
    (it may make 100,000 of them, and must stay fast)."""
    company = company or get_company()
    run = BillingRun.objects.create(
        period_year=year,
        period_month=month,
        started_by=started_by,
        issue_invoices=company.issue_invoices_immediately,
    )
    record(
        actor=started_by,
        action="billing_run.start",
        obj=run,
        note=f"period {year}-{month:02d}; "
        + ("invoices issued at once" if run.issue_invoices else "drafts left for review"),
        request=request,
    )
    return run


def run_billing(
    *,
    year: int,
    month: int,
    started_by=None,
    run: BillingRun | None = None,
    batch_size: int = BATCH_SIZE,
    notify: bool = True,
    issue_date: date | None = None,
    render_pdfs: bool = True,
    progress: Callable[[BillingRun], None] | None = None,
) -> BillingRun:
    """Bill every client for a calendar month. Returns the run with its summary.

    `run`: a run row already created (the staff page creates it, then a task runs it).
    `notify`: send each issued invoice to its client per their preferences.
    `issue_date`: default today (the demo back-dates the invoices of past months).
    `render_pdfs`: False leaves each PDF to be rendered on its first download (demo data).
    `progress`: called after every batch with the run (the command draws a bar from it).
    """
    if not 1 <= month <= 12:
        raise ValueError("month must be between 1 and 12")
    company = get_company()
    if run is None:
        run = start_run(year=year, month=month, started_by=started_by, company=company)
    clients = clients_to_bill(year=year, month=month)
    run.status = BillingRun.Status.RUNNING
    run.started_at = timezone.now()
    run.clients_total = clients.count()
    run.save(update_fields=["status", "started_at", "clients_total"])
    ctx = RunContext(
        run=run,
        year=year,
        month=month,
        company=company,
        issue=run.issue_invoices,
        issue_date=issue_date or timezone.localdate(),
        notify=notify and render_pdfs,
        prices=load_price_history(),
        services=Service.objects.in_bulk(),
        render_pdfs=render_pdfs,
    )
    if progress:
        progress(run)
    last_pk = 0
    try:
        while True:
            batch = [
                ClientRow(values)
                for values in clients.filter(pk__gt=last_pk)
                .order_by("pk")
                .values_list(*ClientRow.FIELDS)[:batch_size]
            ]
            if not batch:
                break
            last_pk = batch[-1].pk
            outcome = bill_batch(ctx, batch)
            _record_batch(run, outcome)
            if progress:
                progress(run)
    except Exception as exc:
        logger.exception("Billing run %s stopped", run.pk)
        run.status = BillingRun.Status.FAILED
        run.failure = f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure", "finished_at"])
        raise
    run.status = BillingRun.Status.FINISHED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    if progress:
        progress(run)
    return run


def _record_batch(run: BillingRun, outcome: BatchOutcome) -> None:
    processed = outcome.processed
    if outcome.errors:
        BillingRunError.objects.bulk_create(
            [BillingRunError(run=run, client_id=pk, message=msg) for pk, msg in outcome.errors]
        )
    # F() updates: the run page's poller reads these while the run goes on.
    BillingRun.objects.filter(pk=run.pk).update(
        clients_processed=F("clients_processed") + processed,
        created_count=F("created_count") + len(outcome.created),
        skipped_count=F("skipped_count") + outcome.skipped,
        error_count=F("error_count") + len(outcome.errors),
        total_billed=F("total_billed") + outcome.total_billed,
    )
    run.clients_processed += processed
    run.created_count += len(outcome.created)
    run.skipped_count += outcome.skipped
    run.error_count += len(outcome.errors)
    run.total_billed += outcome.total_billed


def previous_month(today: date | None = None) -> tuple[int, int]:
    """The period a monthly run bills: the month that just ended (billing in arrears, so
    every start, end and price change of the month is known when its invoice is made)."""
    today = today or timezone.localdate()
    return previous_period(today.year, today.month)


def parse_period(value: str) -> tuple[int, int]:
    """`2026-11` -> (2026, 11); ValueError with a readable message otherwise."""
    try:
        year_text, month_text = value.strip().split("-")
        year, month = int(year_text), int(month_text)
    except ValueError:
        raise ValueError(f"{value!r} is not a period; use YYYY-MM, e.g. 2026-11.") from None
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError(f"{value!r} is not a period; use YYYY-MM, e.g. 2026-11.")
    return year, month


def issue_drafts_of_run(*, run: BillingRun, issued_by) -> int:
    """Issue the drafts a run left for review (company setting). Each is issued in its own
    transaction (`issue_invoice`), so a failure leaves the ones before it issued."""
    from .issuing import issue_invoice

    count = 0
    for invoice in run.invoices.filter(status=Invoice.Status.DRAFT).order_by("client_id"):
        issue_invoice(invoice=invoice, issued_by=issued_by, notify=True)
        count += 1
    return count
