"""Finding clients: the search box, the filters and the sort of the staff client list.

Built to stay fast at 100,000 clients: every branch of the search can use an index (trigram GIN
indexes on PostgreSQL, see migration 0004), and the branches are combined with UNION into one
subquery of client ids rather than OR-ed across joins, which would force a scan of every client
and duplicate rows.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from . import ledger_hooks
from .accounts import format_account_number
from .models import Client, Equipment, ServiceLocation
from .validation import normalise_phone, normalise_serial

SORTS = {
    # key: (label, ORDER BY) — every ordering ends with a unique column so pages never overlap.
    "name": ("Name (A–Z)", ("name", "id")),
    "-name": ("Name (Z–A)", ("-name", "-id")),
    "account": ("Account number", ("account_number",)),
    "-signup": ("Newest sign-ups", ("-signup_date", "-id")),
    "signup": ("Oldest sign-ups", ("signup_date", "id")),
    # The ledger's figures (ledger_hooks): who owes the most, who paid the most.
    "-balance": ("Highest balance", ("-ledger_balance", "id")),
    "-lifetime": ("Highest lifetime value", ("-lifetime_value", "id")),
}
FIGURE_SORTS = {"-balance", "-lifetime"}
DEFAULT_SORT = "name"

MIN_SUBSTRING = 3  # trigram indexes need three characters to narrow anything down
_PHONE_CHARS = re.compile(r"^[\d\s().+-]+$")
_ACCOUNT = re.compile(r"^(?:C-?)?0*(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class ClientFilters:
    q: str = ""
    status: str = ""
    segment: str = ""
    city: str = ""
    overdue: bool = False
    sort: str = DEFAULT_SORT


def phone_query(q: str) -> Q | None:
    """A query that looks like a phone number, typed in any format: the full number matches
    the stored E.164 exactly; a fragment of at least four digits matches inside it."""
    if not _PHONE_CHARS.match(q):
        return None
    digits = re.sub(r"\D", "", q)
    if len(digits) < 4:
        return None
    try:
        return Q(phone=normalise_phone(q))
    except ValidationError:  # not a whole number: search for the digits inside stored numbers
        return Q(phone__contains=digits)


def matching_client_ids(q: str) -> QuerySet:
    """Ids of clients matching `q` by name, company, email, billing address, account number,
    phone, a location's address or an equipment serial number: a UNION of lookups that each
    use an index of their own (PostgreSQL plans one OR over several columns as a full scan)."""
    clients = Client.objects.values("id")
    exact = Q(account_number=q.upper())  # stored upper-case: the unique index answers
    account = _ACCOUNT.match(q)
    if account:
        exact |= Q(account_number=format_account_number(int(account.group(1))))
    branches = [clients.filter(exact)]
    if len(q) < MIN_SUBSTRING:
        # One or two letters: a name prefix, not "anywhere in any field" (no index helps).
        branches.append(clients.filter(Q(name__istartswith=q) | Q(company_name__istartswith=q)))
    else:
        branches += [
            clients.filter(name__icontains=q),
            clients.filter(company_name__icontains=q),
            clients.filter(email__icontains=q),
            clients.filter(billing_street__icontains=q),
            ServiceLocation.objects.filter(street__icontains=q).values("client_id"),
        ]
    phone = phone_query(q)
    if phone is not None:
        branches.append(clients.filter(phone))
    try:
        serial = normalise_serial(q)
    except ValidationError:
        serial = ""
    if len(serial) >= MIN_SUBSTRING:
        branches.append(
            Equipment.objects.filter(serial_number__contains=serial, location__isnull=False).values(
                "location__client_id"
            )
        )
    first, *rest = branches
    return first.union(*rest)


def search_clients(filters: ClientFilters) -> QuerySet:
    """The clients a staff member asked for, in the order asked for (not yet paginated)."""
    clients = Client.objects.all()
    q = " ".join(filters.q.split())
    if q:
        clients = clients.filter(pk__in=matching_client_ids(q))
    if filters.status:
        clients = clients.filter(status=filters.status)
    if filters.segment:
        clients = clients.filter(segment=filters.segment)
    if filters.city:
        city = filters.city.strip()
        # The billing city or the city of any service location (a UNION, for the indexes).
        in_city = (
            Client.objects.filter(billing_city__iexact=city)
            .values("id")
            .union(ServiceLocation.objects.filter(city__iexact=city).values("client_id"))
        )
        clients = clients.filter(pk__in=in_city)
    if filters.overdue:
        clients = ledger_hooks.with_overdue_balance(clients)
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT
    if sort in FIGURE_SORTS:
        if ledger_hooks.available():
            clients = ledger_hooks.with_figures(clients)
        else:
            sort = DEFAULT_SORT
    return clients.order_by(*SORTS[sort][1])
