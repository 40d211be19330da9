"""Money figures on the client list, export and page, provided by the app that owns invoices
and payments.

The clients app stands below invoices (GUIDE §3) and never imports it. The invoices app
registers its functions here from its AppConfig.ready(): an annotator adding `ledger_balance`
and `lifetime_value` to a client queryset (the kept per-client totals, one join: one query for
any number of clients), a fuller one for the client page (its credit too), and a filter
keeping the clients with an overdue balance. Until something registers,
lists show no figures and the overdue filter finds nobody.
"""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache

from django.db.models import QuerySet
from django.utils import timezone

from cms_project.money import round_money

from .models import Client

Annotator = Callable[[QuerySet], QuerySet]
OverdueFilter = Callable[[QuerySet, date], QuerySet]

_annotate: Annotator | None = None
_annotate_page: Annotator | None = None
_overdue: OverdueFilter | None = None


def register(*, annotate: Annotator, annotate_page: Annotator, overdue: OverdueFilter) -> None:
    global _annotate, _annotate_page, _overdue
    _annotate, _annotate_page, _overdue = annotate, annotate_page, overdue


def available() -> bool:
    return _annotate is not None


def with_figures(clients: QuerySet) -> QuerySet:
    """`clients` annotated with ledger_balance and lifetime_value (when a ledger exists);
    a queryset already annotated (sorted by a figure) is returned as it is."""
    if _annotate is None or "ledger_balance" in clients.query.annotations:
        return clients
    return _annotate(clients)


def clients_with_figures() -> QuerySet:
    """Every client with its portal login (select_related) and the figures: the client page's
    queryset. Annotating resolves the annotator's subqueries, about 2 ms of Python a call, so it
    is built once per registered annotator and each call returns a clone of it (`.all()`, as a
    class-based view does with its `queryset`)."""
    return _clients_with_figures(_annotate_page).all()


@cache
def _clients_with_figures(annotate: Annotator | None) -> QuerySet:
    clients = Client.objects.select_related("user")
    return annotate(clients) if annotate else clients


def with_overdue_balance(clients: QuerySet, today: date | None = None) -> QuerySet:
    """Clients with an open invoice that still owes and whose due date has passed."""
    if _overdue is None:
        return clients.none()
    return _overdue(clients, today or timezone.localdate())


def money(value) -> Decimal | None:
    """An annotated figure as Decimal to the cent (SQLite returns arithmetic as float)."""
    if value is None:
        return None
    return round_money(Decimal(str(value)))
