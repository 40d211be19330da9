"""Running totals: what the dashboard and the reports add up, kept as documents are written
instead of summed from a year of invoices and payments on every request (GUIDE §5).

- `DailyTotal`, per day and measure: invoices issued, credit notes, payments received,
  refunds, and invoice lines net of tax per service — amount, number of documents and the
  largest single one.
- `ClientTotal`, per client: invoiced, credited, paid and refunded, hence the balance and
  lifetime value (the client list, the client page, the full account report and the
  top-customers ranking read them with one join).

Invoices once issued, credit notes, payments and refunds never change (models.py), so adding
each new document in the transaction that writes it keeps the totals exact. The functions
here are called by the domain functions that write those documents (issuing, the billing run,
credit notes, allocation). Anything that writes documents in bulk around them (demo and
benchmark data) calls `rebuild()` afterwards; `differences()` recomputes everything from the
documents and lists what does not match (`manage.py rebuild_totals --check`).

The totals are upserted (`INSERT … ON CONFLICT DO UPDATE`), so the first document of a day
creates its row and two transactions never both create it; rows are written in key order, so
two transactions that touch the same rows wait for each other instead of deadlocking.
"""

from collections import defaultdict
from datetime import date

from django.apps import apps as installed_apps
from django.db import connection, transaction
from django.db.models import Count, Max, QuerySet, Sum

from cms_project.money import ZERO, money_from_db

from .models import ClientTotal, DailyTotal, Invoice

Measure = DailyTotal.Measure
# (day, measure, service_key) -> [amount, documents, largest]
Totals = dict[tuple[date, str, int], list]
# client_id -> [invoiced, credited, paid, refunded]
ClientSums = dict[int, list]
CLIENT_SUMS = ("invoiced", "credited", "paid", "refunded")


def _add(totals: Totals, key: tuple, amount, documents: int, largest) -> None:
    row = totals.setdefault(key, [ZERO, 0, ZERO])
    row[0] += money_from_db(amount)
    row[1] += documents
    row[2] = max(row[2], money_from_db(largest))


# --- What documents add --------------------------------------------------------------------
def _invoice_totals(invoices, lines, totals: Totals) -> None:
    """Issued invoices (a queryset) and their lines (a queryset) into `totals`: two queries."""
    for day, amount, count, largest in (
        invoices.order_by()
        .values("issue_date")
        .annotate(s=Sum("total"), n=Count("pk"), m=Max("total"))
        .values_list("issue_date", "s", "n", "m")
    ):
        _add(totals, (day, Measure.INVOICED, 0), amount, count, largest)
    for day, service, amount, count, largest in (
        lines.order_by()
        .values("invoice__issue_date", "subscription__service")
        .annotate(s=Sum("net"), n=Count("pk"), m=Max("net"))
        .values_list("invoice__issue_date", "subscription__service", "s", "n", "m")
    ):
        _add(totals, (day, Measure.SERVICE, service or 0), amount, count, largest)


def _dated_totals(queryset, date_field: str, amount_field: str, measure: str, totals: Totals):
    for day, amount, count, largest in (
        queryset.order_by()
        .values(date_field)
        .annotate(s=Sum(amount_field), n=Count("pk"), m=Max(amount_field))
        .values_list(date_field, "s", "n", "m")
    ):
        _add(totals, (day, measure, 0), amount, count, largest)


def _client_sums(invoices, credit_notes, payments, refunds) -> ClientSums:
    """Issued invoices, credit notes, payments and refunds (querysets) summed per client."""
    sums: ClientSums = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
    for index, (documents, client_field, amount_field) in enumerate(
        (
            (invoices, "client", "total"),
            (credit_notes, "client", "total"),
            (payments, "client", "amount"),
            (refunds, "payment__client", "amount"),
        )
    ):
        for client, amount in (
            documents.order_by()
            .values(client_field)
            .annotate(s=Sum(amount_field))
            .values_list(client_field, "s")
        ):
            sums[client][index] += money_from_db(amount)
    return sums


def _client_row(invoiced, credited, paid, refunded) -> dict:
    """A ClientTotal's values from its four sums (the formulas at the top of ledger.py)."""
    return {
        "invoiced": invoiced,
        "credited": credited,
        "paid": paid,
        "refunded": refunded,
        "balance": invoiced - credited - paid + refunded,
        "lifetime_value": paid - refunded,
    }


# --- Writing -------------------------------------------------------------------------------
def _upsert(table: str, columns: list[str], key: list[str], rows: list[tuple], updates: dict):
    """One multi-row INSERT … ON CONFLICT (key) DO UPDATE (PostgreSQL and SQLite alike)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, columns))}) VALUES {values} "
        f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET "
        + ", ".join(f"{quote(column)} = {expression}" for column, expression in updates.items())
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def _greatest() -> str:
    return "GREATEST" if connection.vendor == "postgresql" else "MAX"  # SQLite's MAX(a, b)


def _write_daily(totals: Totals) -> None:
    table = DailyTotal._meta.db_table
    current = connection.ops.quote_name(table)
    _upsert(
        table,
        ["day", "measure", "service_key", "amount", "documents", "largest"],
        ["day", "measure", "service_key"],
        [
            (connection.ops.adapt_datefield_value(key[0]), *key[1:], *totals[key])
            for key in sorted(totals)
        ],
        {
            "amount": f"{current}.amount + EXCLUDED.amount",
            "documents": f"{current}.documents + EXCLUDED.documents",
            "largest": f"{_greatest()}({current}.largest, EXCLUDED.largest)",
        },
    )


def _write_clients(sums: ClientSums) -> None:
    table = ClientTotal._meta.db_table
    current = connection.ops.quote_name(table)
    rows = [(pk, *_client_row(*sums[pk]).values()) for pk in sorted(sums)]
    columns = list(_client_row(ZERO, ZERO, ZERO, ZERO))
    _upsert(
        table,
        ["client_id", *columns],
        ["client_id"],
        rows,
        {column: f"{current}.{column} + EXCLUDED.{column}" for column in columns},
    )


# --- Called by the domain functions, inside their transactions ----------------------------
def add_issued_invoices(invoices: QuerySet, lines: QuerySet) -> None:
    """Invoices just issued (one by hand, or a billing run's batch) and their lines, as
    querysets: two grouped queries and one write."""
    totals: Totals = {}
    _invoice_totals(invoices, lines, totals)
    _write_daily(totals)
    sums: ClientSums = {}
    for client, amount in (
        invoices.order_by().values("client").annotate(s=Sum("total")).values_list("client", "s")
    ):
        sums[client] = [money_from_db(amount), ZERO, ZERO, ZERO]
    _write_clients(sums)


def add_issued_invoice(invoice) -> None:
    add_issued_invoices(Invoice.objects.filter(pk=invoice.pk), invoice.lines.all())


def add_credit_note(note) -> None:
    total = money_from_db(note.total)
    _write_daily({(note.issue_date, Measure.CREDITED, 0): [total, 1, total]})
    _write_clients({note.client_id: [ZERO, total, ZERO, ZERO]})


def add_payment(payment) -> None:
    amount = money_from_db(payment.amount)
    _write_daily({(payment.received_on, Measure.PAID, 0): [amount, 1, amount]})
    _write_clients({payment.client_id: [ZERO, ZERO, amount, ZERO]})


def add_refund(refund, *, client_id: int) -> None:
    amount = money_from_db(refund.amount)
    _write_daily({(refund.refunded_on, Measure.REFUNDED, 0): [amount, 1, amount]})
    _write_clients({client_id: [ZERO, ZERO, ZERO, amount]})


# --- Recomputed from the documents ---------------------------------------------------------
def computed(registry=installed_apps) -> tuple[Totals, ClientSums]:
    """Every total recomputed from the documents. `registry`: the app registry to take the
    models from (a migration passes its historical one)."""
    invoice = registry.get_model("invoices", "Invoice")
    line = registry.get_model("invoices", "InvoiceLine")
    credit_note = registry.get_model("invoices", "CreditNote")
    payment = registry.get_model("invoices", "Payment")
    refund = registry.get_model("invoices", "Refund")
    totals: Totals = {}
    issued = invoice.objects.exclude(status="draft")
    _invoice_totals(issued, line.objects.exclude(invoice__status="draft"), totals)
    _dated_totals(credit_note.objects.all(), "issue_date", "total", Measure.CREDITED, totals)
    _dated_totals(payment.objects.all(), "received_on", "amount", Measure.PAID, totals)
    _dated_totals(refund.objects.all(), "refunded_on", "amount", Measure.REFUNDED, totals)
    sums = _client_sums(
        issued, credit_note.objects.all(), payment.objects.all(), refund.objects.all()
    )
    return totals, sums


@transaction.atomic
def rebuild(registry=installed_apps) -> None:
    """Throw the totals away and recompute them from the documents (after bulk writes)."""
    daily = registry.get_model("invoices", "DailyTotal")
    clients = registry.get_model("invoices", "ClientTotal")
    totals, sums = computed(registry)
    daily.objects.all().delete()
    clients.objects.all().delete()
    daily.objects.bulk_create(
        [
            daily(
                day=day,
                measure=measure,
                service_key=service,
                amount=amount,
                documents=count,
                largest=largest,
            )
            for (day, measure, service), (amount, count, largest) in sorted(totals.items())
        ],
        batch_size=2000,
    )
    # Only the columns the registry's model has: migration 0007 calls this with a
    # ClientTotal that kept paid and refunded alone.
    kept = {field.name for field in clients._meta.get_fields()}
    clients.objects.bulk_create(
        [
            clients(
                client_id=pk,
                **{k: v for k, v in _client_row(*sums[pk]).items() if k in kept},
            )
            for pk in sorted(sums)
        ],
        batch_size=2000,
    )


def stored() -> tuple[Totals, ClientSums]:
    totals: Totals = {
        (row.day, row.measure, row.service_key): [
            money_from_db(row.amount),
            row.documents,
            money_from_db(row.largest),
        ]
        for row in DailyTotal.objects.all()
    }
    sums: ClientSums = {}
    for row in ClientTotal.objects.all():
        sums[row.client_id] = [money_from_db(getattr(row, name)) for name in CLIENT_SUMS]
        # balance and lifetime value are kept too: a wrong one is a difference as well
        derived = _client_row(*sums[row.client_id])
        if (money_from_db(row.balance), money_from_db(row.lifetime_value)) != (
            derived["balance"],
            derived["lifetime_value"],
        ):
            sums[row.client_id].append("balance or lifetime value does not add up")
    return totals, sums


def differences() -> list[str]:
    """What the stored totals get wrong, as sentences (empty: they match the documents)."""
    expected_totals, expected_sums = computed()
    actual_totals, actual_sums = stored()
    found = []
    for key in sorted(set(expected_totals) | set(actual_totals)):
        want = expected_totals.get(key, [ZERO, 0, ZERO])
        have = actual_totals.get(key, [ZERO, 0, ZERO])
        if want != have:
            day, measure, service = key
            found.append(f"{day} {measure} (service {service}): stored {have}, documents {want}")
    for pk in sorted(set(expected_sums) | set(actual_sums)):
        want = expected_sums.get(pk, [ZERO] * 4)
        have = actual_sums.get(pk, [ZERO] * 4)
        if want != have:
            found.append(
                f"client {pk}: stored invoiced/credited/paid/refunded {have}, documents {want}"
            )
    return found
