"""Creating client accounts and numbering them (C-000123)."""

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from staff.audit import created, diff, record, removed, snapshot
from staff.models import User

from .equipment import return_all_equipment_to_stock
from .models import AccountNumberCounter, Client

ACCOUNT_PREFIX = "C-"

# What the audit log keeps of a client, before and after each change.
AUDIT_FIELDS = [
    "account_number",
    "name",
    "company_name",
    "email",
    "phone",
    "billing_street",
    "billing_city",
    "billing_postal_code",
    "status",
    "segment",
    "notes",
    "consent_email_marketing",
    "consent_sms",
    "user",
]


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


@transaction.atomic
def reserve_account_numbers(count: int) -> list[str]:
    """`count` free account numbers in one go, for bulk imports and demo data: the counter is
    locked once and the numbers checked against existing ones 5,000 at a time."""
    if count <= 0:
        return []
    counter, _ = AccountNumberCounter.objects.select_for_update().get_or_create(pk=1)
    numbers: list[str] = []
    start = counter.last_number + 1
    while len(numbers) < count:
        # Chunks keep the IN list within every database's parameter limit.
        size = min(count - len(numbers), 5000)
        block = [format_account_number(n) for n in range(start, start + size)]
        taken = set(
            Client.objects.filter(account_number__in=block).values_list("account_number", flat=True)
        )
        numbers.extend(n for n in block if n not in taken)
        start += len(block)
    counter.last_number = start - 1
    counter.save(update_fields=["last_number"])
    return numbers


def bump_account_counter(account_numbers: list[str]) -> None:
    """After importing clients with their own numbers, move the counter past the highest
    `C-` number among them, so the next sign-up does not walk through them one by one."""
    highest = 0
    for number in account_numbers:
        if number.startswith(ACCOUNT_PREFIX) and number[len(ACCOUNT_PREFIX) :].isdigit():
            highest = max(highest, int(number[len(ACCOUNT_PREFIX) :]))
    if highest:
        counter, _ = AccountNumberCounter.objects.select_for_update().get_or_create(pk=1)
        if counter.last_number < highest:
            counter.last_number = highest
            counter.save(update_fields=["last_number"])


def apply_consent_dates(client: Client, *, was_email: bool, was_sms: bool) -> None:
    """Consent carries the moment it was given: set when a box is ticked, cleared when it is
    unticked, untouched while it stays the same."""
    now = timezone.now()
    if client.consent_email_marketing and not (was_email and client.consent_email_marketing_at):
        client.consent_email_marketing_at = now
    if not client.consent_email_marketing:
        client.consent_email_marketing_at = None
    if client.consent_sms and not (was_sms and client.consent_sms_at):
        client.consent_sms_at = now
    if not client.consent_sms:
        client.consent_sms_at = None


@transaction.atomic
def save_client(
    *, client: Client, by: User | None = None, request: HttpRequest | None = None
) -> Client:
    """Save a client edited in a form (staff workspace or portal): new clients get the next
    account number, consent dates follow the consent boxes. Audited (`client.create`, or
    `client.update` when something changed) with `by` as the actor."""
    previous = (
        Client.objects.select_for_update().filter(pk=client.pk).first() if client.pk else None
    )
    apply_consent_dates(
        client,
        was_email=bool(previous and previous.consent_email_marketing),
        was_sms=bool(previous and previous.consent_sms),
    )
    if not client.account_number:
        client.account_number = next_account_number()
    if not client.signup_date:
        client.signup_date = timezone.localdate()
    client.save()
    if previous is None:
        changes = created(client, AUDIT_FIELDS)
        record(actor=by, action="client.create", obj=client, changes=changes, request=request)
    else:
        changes = diff(snapshot(previous, AUDIT_FIELDS), client, AUDIT_FIELDS)
        if changes:
            record(actor=by, action="client.update", obj=client, changes=changes, request=request)
    return client


# Reverse relations that hold money: added by the invoices app (invoices, payments). Looked up
# by name so that this lower app never imports the higher one (GUIDE §3).
FINANCIAL_RELATIONS = ("invoices", "payments")


def client_has_financial_records(client: Client) -> bool:
    """Does any invoice or payment point at this client? Works before the invoices app has
    models (then there is nothing to find) and once it has them."""
    for relation in client._meta.related_objects:
        if relation.get_accessor_name() in FINANCIAL_RELATIONS:
            manager = getattr(client, relation.get_accessor_name(), None)
            if manager is not None and hasattr(manager, "exists") and manager.exists():
                return True
    return False


class RemovalOutcome:
    DELETED = "deleted"
    CANCELLED = "cancelled"


@transaction.atomic
def delete_or_cancel_client(
    *, client: Client, by: User | None, request: HttpRequest | None = None
) -> str:
    """Delete a client, or cancel (archive) it when it has financial records, which must
    outlive it (GUIDE §2). Equipment still at its locations goes back to stock first, with
    the move recorded, so no device disappears with the client."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client_has_financial_records(client):
        was = client.status
        client.status = Client.Status.CANCELLED
        client.save(update_fields=["status", "updated_at"])
        record(
            actor=by,
            action="client.cancel",
            obj=client,
            changes={"status": [was, client.status]} if was != client.status else None,
            note="has invoices or payments, so cancelled instead of deleted",
            request=request,
        )
        return RemovalOutcome.CANCELLED
    returned = return_all_equipment_to_stock(client=client, by=by)
    # Recorded before the row goes (its primary key is needed), in the same transaction:
    # everything it held is kept as the "before" values.
    record(
        actor=by,
        action="client.delete",
        obj=client,
        changes=removed(client, AUDIT_FIELDS),
        note=f"{returned} device(s) returned to stock" if returned else "",
        request=request,
    )
    client.delete()
    return RemovalOutcome.DELETED
