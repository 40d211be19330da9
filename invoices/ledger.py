"""A client's ledger figures, computed one way for every page, report and export (GUIDE §2).

    balance        = Σ issued invoice totals − Σ credit-note totals − Σ payments + Σ refunds
                     (positive: the client owes; negative: the client is in credit)
    lifetime value = Σ payments − Σ refunds (money actually kept)
    credit         = payments' unallocated amounts + credit notes' unused credit

`with_ledger_figures` annotates a client queryset with correlated subqueries, so a list of any
length costs one query; the single-client functions use it too.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clients.models import Client
from cms_project.money import ZERO, round_money

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


def with_ledger_figures(clients: QuerySet) -> QuerySet:
    """Annotate ledger_invoiced, ledger_credited, ledger_paid, ledger_refunded, ledger_credit,
    ledger_balance and lifetime_value on each client."""
    return clients.annotate(
        ledger_invoiced=_sum_per_client(
            Invoice.objects.exclude(status=Invoice.Status.DRAFT), "client", "total"
        ),
        ledger_credited=_sum_per_client(CreditNote.objects.all(), "client", "total"),
        ledger_paid=_sum_per_client(Payment.objects.all(), "client", "amount"),
        ledger_refunded=_sum_per_client(Refund.objects.all(), "payment__client", "amount"),
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


def _money(value) -> Decimal:
    # SQLite hands back arithmetic on decimals as floats: back to cents through str().
    return round_money(Decimal(str(value if value is not None else 0)))


def figures_for(client: Client) -> LedgerFigures:
    row = (
        with_ledger_figures(Client.objects.filter(pk=client.pk))
        .values(
            "ledger_invoiced",
            "ledger_credited",
            "ledger_paid",
            "ledger_refunded",
            "ledger_credit",
            "ledger_balance",
            "lifetime_value",
        )
        .get()
    )
    return LedgerFigures(
        invoiced=_money(row["ledger_invoiced"]),
        credited=_money(row["ledger_credited"]),
        paid=_money(row["ledger_paid"]),
        refunded=_money(row["ledger_refunded"]),
        credit=_money(row["ledger_credit"]),
        balance=_money(row["ledger_balance"]),
        lifetime_value=_money(row["lifetime_value"]),
    )


def client_balance(client: Client) -> Decimal:
    return figures_for(client).balance


def client_credit(client: Client) -> Decimal:
    return figures_for(client).credit


def lifetime_value(client: Client) -> Decimal:
    return figures_for(client).lifetime_value


def open_balance(client: Client) -> Decimal:
    """What the client's open invoices still ask for (before any unused credit)."""
    total = Invoice.objects.open().filter(client=client).aggregate(s=Sum("balance"))["s"]
    return _money(total)
