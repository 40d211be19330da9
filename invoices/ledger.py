"""A client's ledger figures, computed one way for every page, report and export (GUIDE §2).

    balance        = Σ issued invoice totals − Σ credit-note totals − Σ payments + Σ refunds
                     (positive: the client owes; negative: the client is in credit)
    lifetime value = Σ payments − Σ refunds (money actually kept)
    credit         = payments' unallocated amounts + credit notes' unused credit

The four sums, the balance and the lifetime value are kept per client in `ClientTotal` by
running_totals.py, in the transaction of every document that changes them, so a list of any
length reads them with one join (summing each row's documents cost twelve correlated
subqueries a row). `running_totals.differences()` recomputes them from the documents
(`manage.py rebuild_totals --check`). Credit changes with every allocation, so it is summed
from the documents each time.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clients.models import Client
from cms_project.money import ZERO, money_from_db

from .models import CreditNote, Invoice, Payment

MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)


def _sum_per_client(queryset: QuerySet, client_field: str, expression) -> Coalesce:
    total = (
        queryset.filter(**{client_field: OuterRef("pk")})
        .order_by()
        .values(client_field)
        .annotate(s=Sum(expression))
        .values("s")
    )
    return Coalesce(
        Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD
    )


def _kept(name: str) -> Coalesce:
    """A kept figure; a client with no document yet has no ClientTotal row: zero."""
    return Coalesce(F(f"ledger_total__{name}"), Value(ZERO), output_field=MONEY_FIELD)


def with_ledger_sums(clients: QuerySet) -> QuerySet:
    """Annotate ledger_invoiced, ledger_credited, ledger_paid, ledger_refunded,
    ledger_balance and lifetime_value (one LEFT JOIN, no subquery): for long lists that
    show no credit."""
    return clients.annotate(
        ledger_invoiced=_kept("invoiced"),
        ledger_credited=_kept("credited"),
        ledger_paid=_kept("paid"),
        ledger_refunded=_kept("refunded"),
        ledger_balance=_kept("balance"),
        lifetime_value=_kept("lifetime_value"),
    )


def balance_of(client) -> Decimal:
    """The balance of a client annotated by `with_ledger_sums`."""
    return money_from_db(client.ledger_balance)


def lifetime_value_of(client) -> Decimal:
    return money_from_db(client.lifetime_value)


def with_ledger_figures(clients: QuerySet) -> QuerySet:
    """`with_ledger_sums` plus ledger_credit (two correlated subqueries a row)."""
    return with_ledger_sums(clients).annotate(
        ledger_credit=_sum_per_client(Payment.objects.all(), "client", "unallocated")
        + _sum_per_client(
            CreditNote.objects.all(), "client", F("amount_to_credit") - F("credit_used")
        ),
    )


@dataclass(frozen=True)
class LedgerFigures:
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    refunded: Decimal
    credit: Decimal
    balance: Decimal
    lifetime_value: Decimal


FIGURE_NAMES = (
    "ledger_invoiced",
    "ledger_credited",
    "ledger_paid",
    "ledger_refunded",
    "ledger_credit",
    "ledger_balance",
    "lifetime_value",
)


def _figures(get) -> LedgerFigures:
    return LedgerFigures(
        invoiced=money_from_db(get("ledger_invoiced")),
        credited=money_from_db(get("ledger_credited")),
        paid=money_from_db(get("ledger_paid")),
        refunded=money_from_db(get("ledger_refunded")),
        credit=money_from_db(get("ledger_credit")),
        balance=money_from_db(get("ledger_balance")),
        lifetime_value=money_from_db(get("lifetime_value")),
    )


def figures_for(client: Client) -> LedgerFigures:
    row = with_ledger_figures(Client.objects.filter(pk=client.pk)).values(*FIGURE_NAMES).get()
    return _figures(row.__getitem__)


def figures_of(client: Client) -> LedgerFigures:
    """The figures of a client loaded through `with_ledger_figures` (the client page's), read
    from its annotations without another query; any other client costs figures_for's one."""
    if all(hasattr(client, name) for name in FIGURE_NAMES):
        return _figures(lambda name: getattr(client, name))
    return figures_for(client)


def client_balance(client: Client) -> Decimal:
    return figures_for(client).balance


def client_credit(client: Client) -> Decimal:
    return figures_for(client).credit


def lifetime_value(client: Client) -> Decimal:
    return figures_for(client).lifetime_value


def open_balance(client: Client) -> Decimal:
    """What the client's open invoices still ask for (before any unused credit)."""
    total = Invoice.objects.open().filter(client=client).aggregate(s=Sum("balance"))["s"]
    return money_from_db(total)


def with_overdue_balance(clients: QuerySet, today: date) -> QuerySet:
    """Clients with an open invoice that still owes and whose due date has passed (one
    EXISTS, answered by the partial index invoice_open_owing_idx on client, due_date)."""
    return clients.filter(
        Exists(Invoice.objects.overdue(today).filter(client=OuterRef("pk")).values("pk"))
    )
