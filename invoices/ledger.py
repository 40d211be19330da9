"""A client's ledger figures, computed one way for every page, report and export (GUIDE §2).

    balance        = Σ issued invoice totals − Σ credit-note totals − Σ payments + Σ refunds
                     (positive: the client owes; negative: the client is in credit)
    lifetime value = Σ payments − Σ refunds (money actually kept)
    credit         = payments' unallocated amounts + credit notes' unused credit

`with_ledger_figures` annotates a client queryset with correlated subqueries, so a list of any
length costs one query; the single-client functions use it too.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clients.models import Client
from cms_project.money import ZERO, money_from_db

from .models import CreditNote, Invoice, Payment, Refund

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


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


def _sums() -> dict:
    return {
        "ledger_invoiced": _sum_per_client(
            Invoice.objects.exclude(status=Invoice.Status.DRAFT), "client", "total"
        ),
        "ledger_credited": _sum_per_client(CreditNote.objects.all(), "client", "total"),
        "ledger_paid": _sum_per_client(Payment.objects.all(), "client", "amount"),
        "ledger_refunded": _sum_per_client(Refund.objects.all(), "payment__client", "amount"),
    }


def with_ledger_sums(clients: QuerySet) -> QuerySet:
    """Annotate only the four sums (ledger_invoiced, ledger_credited, ledger_paid,
    ledger_refunded); `balance_of` and `lifetime_value_of` derive the rest in Python. For a
    long list that shows no credit: PostgreSQL evaluates each correlated subquery wherever
    the SQL names it, and `with_ledger_figures` names them again in balance and lifetime
    value (12 evaluations a row against 4)."""
    return clients.annotate(**_sums())


def balance_of(client) -> Decimal:
    """The balance of a client annotated by `with_ledger_sums` (the formula at the top)."""
    return (
        money_from_db(client.ledger_invoiced)
        - money_from_db(client.ledger_credited)
        - money_from_db(client.ledger_paid)
        + money_from_db(client.ledger_refunded)
    )


def lifetime_value_of(client) -> Decimal:
    return money_from_db(client.ledger_paid) - money_from_db(client.ledger_refunded)


def with_ledger_figures(clients: QuerySet) -> QuerySet:
    """Annotate ledger_invoiced, ledger_credited, ledger_paid, ledger_refunded, ledger_credit,
    ledger_balance and lifetime_value on each client."""
    return clients.annotate(
        **_sums(),
        ledger_credit=_sum_per_client(Payment.objects.all(), "client", "unallocated")
        + _sum_per_client(
            CreditNote.objects.all(), "client", F("amount_to_credit") - F("credit_used")
        ),
    ).annotate(
        ledger_balance=F("ledger_invoiced")
        - F("ledger_credited")
        - F("ledger_paid")
        + F("ledger_refunded"),
        lifetime_value=F("ledger_paid") - F("ledger_refunded"),
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
