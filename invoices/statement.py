"""A client's statement: every invoice, credit note, payment, refund and reversal in date
order with the balance after each, and the aging of what is still open (GUIDE §2).

The running balance uses the ledger's own formula (ledger.py): issued invoices add, credit
notes and payments take off, refunds and reversals add back; so the last balance of a full
statement is exactly `ledger.client_balance`. With a date range, the entries before it make
the opening balance.

Aging puts each open invoice's balance in one bucket by days past due on `today`:
current (not yet due), 1–30, 31–60, 61–90, 90+. `aging_buckets(clients)` annotates a client
queryset in one query (for lists and the late-payers report); `client_aging(client)` is the
same for one client.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from clients.exporting import escape_cell
from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import ZERO, format_money, money_from_db

from .ledger import _sum_per_client
from .models import CreditNote, Invoice, Payment, Refund

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_90_plus")
BUCKET_LABELS = {
    "current": "Current",
    "days_1_30": "1–30 days",
    "days_31_60": "31–60 days",
    "days_61_90": "61–90 days",
    "days_90_plus": "Over 90 days",
}
# Sort order of entries on the same day: what was billed before what was paid.
KIND_ORDER = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 3, "reversal": 3}
KIND_LABELS = {
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "payment": "Payment",
    "refund": "Refund",
    "reversal": "Payment reversed",
}


# --- Aging -----------------------------------------------------------------------------------
def _bucket_filters(today: date) -> dict[str, Q]:
    def days_ago(n: int) -> date:
        return today - timedelta(days=n)

    return {
        "current": Q(due_date__gte=today) | Q(due_date__isnull=True),
        "days_1_30": Q(due_date__lte=days_ago(1), due_date__gte=days_ago(30)),
        "days_31_60": Q(due_date__lte=days_ago(31), due_date__gte=days_ago(60)),
        "days_61_90": Q(due_date__lte=days_ago(61), due_date__gte=days_ago(90)),
        "days_90_plus": Q(due_date__lt=days_ago(90)),
    }


def _open_with_balance() -> QuerySet[Invoice]:
    return Invoice.objects.open().filter(balance__gte=Decimal("0.01"))


def aging_buckets(clients: QuerySet[Client], *, today: date | None = None) -> QuerySet[Client]:
    """Annotate aging_current, aging_days_1_30, aging_days_31_60, aging_days_61_90,
    aging_days_90_plus and aging_total on each client: one query for any number of clients
    (correlated subqueries; they compose with `ledger.with_ledger_figures`). Filter or order
    on them like any annotation, e.g. `.filter(aging_days_90_plus__gt=0)`."""
    today = today or timezone.localdate()
    annotations = {
        f"aging_{name}": _sum_per_client(_open_with_balance().filter(q), "client", "balance")
        for name, q in _bucket_filters(today).items()
    }
    annotations["aging_total"] = _sum_per_client(_open_with_balance(), "client", "balance")
    return clients.annotate(**annotations)


@dataclass(frozen=True)
class Aging:
    current: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    days_90_plus: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((getattr(self, name) for name in BUCKETS), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.current

    def rows(self) -> list[tuple[str, Decimal]]:
        return [(BUCKET_LABELS[name], getattr(self, name)) for name in BUCKETS]

    @classmethod
    def from_annotations(cls, row) -> "Aging":
        """From a client annotated by aging_buckets() (a model instance or a values() dict)."""
        get = row.get if isinstance(row, dict) else lambda key: getattr(row, key)
        return cls(**{name: money_from_db(get(f"aging_{name}")) for name in BUCKETS})


def client_aging(client: Client, *, today: date | None = None) -> Aging:
    row = (
        aging_buckets(Client.objects.filter(pk=client.pk), today=today)
        .values(*(f"aging_{name}" for name in BUCKETS))
        .get()
    )
    return Aging.from_annotations(row)


# --- Statement -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementEntry:
    date: date
    kind: str
    number: str
    description: str
    charge: Decimal  # adds to what the client owes
    credit: Decimal  # takes off
    balance: Decimal  # after this entry
    pk: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Statement:
    client: Client
    start: date | None
    end: date | None
    today: date
    currency: str
    opening_balance: Decimal
    entries: list[StatementEntry]
    closing_balance: Decimal
    aging: Aging
    total_charges: Decimal = ZERO
    total_credits: Decimal = ZERO
    company_name: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def period_label(self) -> str:
        if self.start and self.end:
            return f"{self.start:%b %-d, %Y} – {self.end:%b %-d, %Y}"
        if self.start:
            return f"from {self.start:%b %-d, %Y}"
        if self.end:
            return f"up to {self.end:%b %-d, %Y}"
        return "all dates"


def _raw_entries(client: Client) -> list[tuple]:
    """(date, kind order, pk, kind, number, description, charge, credit) for every entry:
    four queries, whatever the client's history."""
    rows = []
    for pk, number, issued, due, total, period_year, period_month in (
        Invoice.objects.issued()
        .filter(client=client)
        .values_list(
            "pk", "number", "issue_date", "due_date", "total", "period_year", "period_month"
        )
    ):
        what = f"{date(period_year, period_month, 1):%B %Y}" if period_year else "Invoice"
        text = f"{what}, due {due:%b %-d, %Y}" if due else what
        rows.append((issued, "invoice", pk, number, text, total, ZERO))
    for pk, number, issued, total, invoice_number, reason in CreditNote.objects.filter(
        client=client
    ).values_list("pk", "number", "issue_date", "total", "invoice__number", "reason"):
        rows.append((issued, "credit_note", pk, number, f"{invoice_number}: {reason}", ZERO, total))
    for pk, number, received, amount, method, brand, last4 in Payment.objects.filter(
        client=client
    ).values_list("pk", "number", "received_on", "amount", "method", "card_brand", "card_last4"):
        text = dict(Payment._meta.get_field("method").choices).get(method, method)
        if last4:
            text += f", {brand} ending {last4}".replace(" ,", ",")
        rows.append((received, "payment", pk, number, text, ZERO, amount))
    for pk, kind, refunded, amount, payment_number, reason in Refund.objects.filter(
        payment__client=client
    ).values_list("pk", "kind", "refunded_on", "amount", "payment__number", "reason"):
        rows.append((refunded, kind, pk, payment_number, reason, amount, ZERO))
    rows.sort(key=lambda r: (r[0], KIND_ORDER[r[1]], r[2]))
    return rows


def build_statement(
    *,
    client: Client,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> Statement:
    """The client's statement between start and end (both inclusive, either open)."""
    today = today or timezone.localdate()
    opening = ZERO
    entries: list[StatementEntry] = []
    balance = ZERO
    charges = credits = ZERO
    for when, kind, pk, number, text, charge, credit in _raw_entries(client):
        charge, credit = money_from_db(charge), money_from_db(credit)
        if start and when < start:
            opening += charge - credit
            balance = opening
            continue
        if end and when > end:
            break
        balance += charge - credit
        charges += charge
        credits += credit
        entries.append(StatementEntry(when, kind, number, text, charge, credit, balance, pk))
    if not entries:
        balance = opening
    company = get_company()
    return Statement(
        client=client,
        start=start,
        end=end,
        today=today,
        currency=company.currency,
        opening_balance=opening,
        entries=entries,
        closing_balance=balance,
        aging=client_aging(client, today=today),
        total_charges=charges,
        total_credits=credits,
        company_name=company.name,
    )


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: an opening row, one row per entry, a closing row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Type", "Reference", "Description", "Charges", "Credits", "Balance"])
    opening_date = statement.start.isoformat() if statement.start else ""
    writer.writerow(
        [opening_date, "Opening balance", "", "", "", "", f"{statement.opening_balance:.2f}"]
    )
    for e in statement.entries:
        writer.writerow(
            [
                e.date.isoformat(),
                e.kind_label,
                escape_cell(e.number),
                escape_cell(e.description),
                f"{e.charge:.2f}" if e.charge else "",
                f"{e.credit:.2f}" if e.credit else "",
                f"{e.balance:.2f}",
            ]
        )
    closing_date = (statement.end or statement.today).isoformat()
    writer.writerow(
        [closing_date, "Closing balance", "", "", "", "", f"{statement.closing_balance:.2f}"]
    )
    return out.getvalue()


def statement_pdf(statement: Statement) -> bytes:
    from django.template.loader import render_to_string

    from .pdf import write_pdf

    html = render_to_string(
        "invoices/pdf/statement.html",
        {"statement": statement, "company": get_company(), "money": format_money},
    )
    return write_pdf(html)


def statement_filename(statement: Statement, extension: str) -> str:
    return f"statement-{statement.client.account_number or statement.client.pk}-{statement.today:%Y%m%d}.{extension}"
