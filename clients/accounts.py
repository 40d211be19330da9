"""Creating client accounts and numbering them (C-000123)."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from staff.models import User

from .models import AccountNumberCounter, Client

ACCOUNT_PREFIX = "C-"


def format_account_number(number: int) -> str:
    return f"{ACCOUNT_PREFIX}{number:06d}"


@transaction.atomic
def next_account_number() -> str:
    """The next free account number. The counter row is locked, so concurrent sign-ups and
    imports never get the same number; numbers already taken (imported) are skipped."""
    counter, _ = AccountNumberCounter.objects.select_for_update().get_or_create(pk=1)
    number = counter.last_number + 1
    while Client.objects.filter(account_number=format_account_number(number)).exists():
        number += 1
    counter.last_number = number
    counter.save(update_fields=["last_number"])
    return format_account_number(number)


@transaction.atomic
def create_client(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    status: str = Client.Status.PROSPECT,
    segment: str = Client.Segment.RESIDENTIAL,
    user: User | None = None,
    signup_date: date | None = None,
    **fields,
) -> Client:
    """Create a client with the next account number (unless `account_number` is given)."""
    account_number = fields.pop("account_number", "") or next_account_number()
    return Client.objects.create(
        account_number=account_number,
        name=name,
        email=email,
        phone=phone,
        status=status,
        segment=segment,
        user=user,
        signup_date=signup_date or timezone.localdate(),
        **fields,
    )
