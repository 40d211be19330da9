"""The monthly billing run: one invoice per client per period, from the subscriptions and
rentals active in the period (GUIDE §2 "Billing").

- Lines come from `services.monthly_bill.charge_for`, the function behind the monthly bill the
  client page and the portal show, so the invoice says what the bill said (price in effect or
  agreed price, proration by days with the computation in the description, one-time fees once).
- Clients are streamed in batches by primary key (keyset), so memory stays flat whatever the
  number of clients; the price history of the catalog is loaded once.
- Each batch is one transaction: numbers are taken as one block from the locked counter, then
  invoices and lines are inserted in bulk. If anything in the batch fails (a concurrent run
  inserted the same client's invoice, a constraint, a bad record), the batch rolls back (its
  numbers too) and its clients are billed one by one, each in its own savepoint, so that one
  failing client is recorded with its error and does not stop the others.
- At most one invoice per (client, period) is a database constraint: re-running a period
  creates nothing new, and two runs at once create no duplicates (the loser's insert fails and
  the client is counted as skipped).
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import CompanySettings, get_company
from cms_project.money import ZERO, period_bounds, previous_period, totals
from services.models import Service, ServicePrice, Subscription
from services.monthly_bill import CATEGORY_ORDER, BillLine, charge_for
from staff.audit import record

from .issuing import (
    apply_totals,
    billing_address_of,
    copy_client,
    finalise,
    location_text,
    schedule_pdf,
)
from .models import BillingRun, BillingRunError, Invoice, InvoiceLine
from .numbering import take_numbers

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
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


def lines_for_client(
    subscriptions: list[Subscription], *, year: int, month: int, prices
) -> list[BillLine]:
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
    client: Client
    lines: list[BillLine]

    @property
    def total(self) -> Decimal:
        return totals(self.lines).total


@dataclass
class BatchOutcome:
    created: list[Invoice] = field(default_factory=list)
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


def _build_invoice(ctx: RunContext, prepared: PreparedInvoice, number: str | None) -> Invoice:
    client = prepared.client
    invoice = Invoice(
        client=client,
        source=Invoice.Source.BILLING_RUN,
        period_year=ctx.year,
        period_month=ctx.month,
        billing_run=ctx.run,
        currency=ctx.company.currency,
        created_by=ctx.run.started_by,
    )
    locations = [line.subscription.location for line in prepared.lines]
    address = billing_address_of(client, locations=locations)
    if number is None:
        # A draft for review: figures and the client's details are shown already; issuing
        # copies them again (and the company's) at that moment.
        copy_client(invoice, client, billing_address=address)
        apply_totals(invoice, prepared.lines)
    else:
        finalise(
            invoice,
            lines=prepared.lines,
            client=client,
            company=ctx.company,
            number=number,
            issue_date=ctx.issue_date,
            issued_by=ctx.run.started_by,
            billing_address=address,
        )
    return invoice


def _build_lines(invoice: Invoice, lines: list[BillLine]) -> list[InvoiceLine]:
    return [
        InvoiceLine(
            invoice=invoice,
            position=position,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
            net=line.net,
            subscription=line.subscription,
            location=line.subscription.location,
            location_text=location_text(line.subscription.location),
            period_start=line.first_day,
            period_end=line.last_day,
        )
        for position, line in enumerate(lines, start=1)
    ]


def _after_commit(ctx: RunContext, invoices: list[Invoice]) -> None:
    """PDF renders (and client notifications) are queued on commit of the batch."""
    if not ctx.issue:
        return
    from .sending import notify_client

    for invoice in invoices:
        if ctx.render_pdfs:
            schedule_pdf(invoice.pk)
        if ctx.notify:
            notify_client(invoice=invoice)


def _insert_batch(ctx: RunContext, prepared: list[PreparedInvoice]) -> list[Invoice]:
    """All invoices of a batch in one transaction (the caller's)."""
    numbers: list[str | None]
    if ctx.issue:
        numbers = list(
            take_numbers(
                series=ctx.company.invoice_prefix, year=ctx.issue_date.year, count=len(prepared)
            )
        )
    else:
        numbers = [None] * len(prepared)
    invoices = [_build_invoice(ctx, p, n) for p, n in zip(prepared, numbers, strict=True)]
    Invoice.objects.bulk_create(invoices)
    InvoiceLine.objects.bulk_create(
        [
            line
            for invoice, p in zip(invoices, prepared, strict=True)
            for line in _build_lines(invoice, p.lines)
        ]
    )
    _after_commit(ctx, invoices)
    return invoices


def _bill_one(ctx: RunContext, prepared: PreparedInvoice) -> Invoice | None:
    """One client in its own savepoint; None if they already have this period's invoice."""
    try:
        with transaction.atomic():
            return _insert_batch(ctx, [prepared])[0]
    except IntegrityError:
        exists = Invoice.objects.filter(
            client=prepared.client,
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


def bill_batch(ctx: RunContext, clients: list[Client]) -> BatchOutcome:
    outcome = BatchOutcome()
    ids = [client.pk for client in clients]
    already = set(
        Invoice.objects.filter(
            client_id__in=ids,
            source=Invoice.Source.BILLING_RUN,
            period_year=ctx.year,
            period_month=ctx.month,
        ).values_list("client_id", flat=True)
    )
    outcome.skipped += len(already)
    todo = [client for client in clients if client.pk not in already]
    if not todo:
        return outcome
    by_client: dict[int, list[Subscription]] = defaultdict(list)
    subscriptions = (
        billable_subscriptions(year=ctx.year, month=ctx.month)
        .filter(location__client_id__in=[client.pk for client in todo])
        .select_related("location")
        # Only what charge_for and the line need: fewer columns to read and convert.
        .only(
            "service_id",
            "quantity",
            "start_date",
            "end_date",
            "agreed_price",
            "agreed_price_until",
            "location__client_id",
            "location__label",
            "location__street",
            "location__city",
            "location__postal_code",
        )
        .order_by("pk")
    )
    for subscription in subscriptions:
        # The catalog is loaded once per run: no Service row per subscription.
        subscription.service = _service(ctx, subscription.service_id)
        by_client[subscription.location.client_id].append(subscription)

    prepared: list[PreparedInvoice] = []
    for client in todo:
        try:
            lines = lines_for_client(
                by_client.get(client.pk, []), year=ctx.year, month=ctx.month, prices=ctx.prices
            )
            candidate = PreparedInvoice(client=client, lines=lines)
            if not lines or candidate.total == ZERO:
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
        # savepoint per client so each is created, skipped or reported on its own.
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
            batch = list(
                clients.filter(pk__gt=last_pk)
                .order_by("pk")
                .only(
                    "pk",
                    "account_number",
                    "name",
                    "company_name",
                    "email",
                    "phone",
                    "consent_sms",
                    "billing_street",
                    "billing_city",
                    "billing_postal_code",
                )[:batch_size]
            )
            if not batch:
                break
            last_pk = batch[-1].pk
            outcome = bill_batch(ctx, batch)
            _record_batch(run, len(batch), outcome)
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


def _record_batch(run: BillingRun, processed: int, outcome: BatchOutcome) -> None:
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
