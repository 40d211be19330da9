"""Suspension for non-payment, and its instant lifting (GUIDE §2, collections).

- Off unless the company setting `suspend_after_days` (N) is set. The daily run suspends the
  ACTIVE subscriptions of every client with an invoice N or more days past due (still owing,
  not paused by a promise to pay — neither the client nor that invoice), marks them
  `suspended_for_nonpayment`, records a `NonPaymentSuspension`, and sends a notice.
- A client with an open suspension is not suspended again: if staff resume a service by hand
  during it, that decision stands until the suspension is lifted.
- `payment_recorded` (any payment: staff, online, credit) lifts it at once, inside the payment's
  transaction, when the client no longer has an overdue balance: exactly the subscriptions it
  suspended go back to active. A partial payment that leaves something overdue lifts nothing.
  The daily run lifts too, for balances cleared some other way (a credit note).
"""

import contextlib
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.messaging.sending import queue_email, queue_sms
from cms_project.money import CENT, ZERO, format_money
from services.models import Subscription
from services.subscriptions import resume_subscription, suspend_subscription
from staff.audit import record

from .allocation import lock_client
from .models import Invoice, NonPaymentSuspension, Payment
from .sending import can_sms

PURPOSE_SUSPENDED = "suspension"
PURPOSE_RESTORED = "suspension-lifted"


def overdue_balance(client: Client, today: date | None = None) -> object:
    """What the client owes on invoices past their due date."""
    today = today or timezone.localdate()
    total = Invoice.objects.overdue(today).filter(client=client).aggregate(s=Sum("balance"))["s"]
    return total or ZERO


def _suspendable_clients(*, today: date, days: int):
    cutoff = today - timedelta(days=days)
    overdue = (
        Invoice.objects.open()
        .filter(balance__gte=CENT, due_date__lte=cutoff)
        .exclude(reminders_paused_until__gt=today)
        .values("client_id")
    )
    return (
        Client.objects.filter(pk__in=overdue)
        .exclude(reminders_paused_until__gt=today)
        .exclude(
            Exists(
                NonPaymentSuspension.objects.filter(client=OuterRef("pk"), lifted_at__isnull=True)
            )
        )
        .filter(
            Exists(
                Subscription.objects.filter(
                    location__client=OuterRef("pk"), status=Subscription.Status.ACTIVE
                )
            )
        )
        .values_list("pk", flat=True)
    )


def suspend_overdue_clients(*, today: date | None = None) -> int:
    """The daily run: suspend whoever is N days overdue. Returns the number of clients."""
    today = today or timezone.localdate()
    days = get_company().suspend_after_days
    if not days:
        return 0
    count = 0
    for client_id in list(_suspendable_clients(today=today, days=days)):
        if suspend_client(client_id=client_id, today=today, days=days) is not None:
            count += 1
    return count


def _notice(client: Client, *, subject: str, body: str, sms: str, purpose: str, key: str) -> None:
    if client.email:
        # An unusable address on file must not stop the SMS (nor the suspension).
        with contextlib.suppress(ValueError):
            queue_email(
                to=[client.email],
                subject=subject,
                body=body,
                purpose=purpose,
                related=client,
                dedupe_key=f"{key}:email",
            )
    if can_sms(client):
        queue_sms(to=str(client.phone), body=sms, purpose=purpose, related=client)


@transaction.atomic
def suspend_client(*, client_id: int, today: date, days: int) -> NonPaymentSuspension | None:
    client = lock_client(Client(pk=client_id))
    if client.reminders_paused_until and client.reminders_paused_until > today:
        return None
    if NonPaymentSuspension.objects.filter(client=client, lifted_at__isnull=True).exists():
        return None
    still_overdue = (
        Invoice.objects.open()
        .filter(client=client, balance__gte=CENT, due_date__lte=today - timedelta(days=days))
        .exclude(reminders_paused_until__gt=today)
        .exists()
    )
    if not still_overdue:
        return None  # paid since the list was read
    subscriptions = list(
        Subscription.objects.select_for_update()
        .filter(location__client=client, status=Subscription.Status.ACTIVE)
        .order_by("pk")
    )
    if not subscriptions:
        return None
    for subscription in subscriptions:
        suspend_subscription(subscription=subscription, note=f"non-payment: {days} days overdue")
    Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
        suspended_for_nonpayment=True
    )
    amount = overdue_balance(client, today)
    suspension = NonPaymentSuspension.objects.create(
        client=client, overdue_amount=amount, subscriptions=len(subscriptions)
    )
    record(
        actor=None,
        action="collections.suspend",
        obj=client,
        changes={
            "subscriptions": [None, [str(s.pk) for s in subscriptions]],
            "overdue": [None, amount],
        },
        note=f"{days} days overdue",
    )
    money = format_money(amount)
    company = get_company().name
    _notice(
        client,
        subject=f"Your services are suspended: {money} overdue",
        body=(
            f"Hello {client.display_name},\n\nYour account has {money} overdue for more than "
            f"{days} days, so your services have been suspended. They are restored as soon as "
            f"the overdue balance is paid.\n\n{company}\n"
        ),
        sms=f"{company}: services suspended, {money} overdue. Pay to restore them at once.",
        purpose=PURPOSE_SUSPENDED,
        key=f"suspension:{suspension.pk}",
    )
    return suspension


def lift_if_cleared(
    *, client: Client, payment: Payment | None = None, today: date | None = None
) -> NonPaymentSuspension | None:
    """Lift the client's open suspension if nothing is overdue any more. Called inside the
    payment's transaction (the client row is already locked there)."""
    today = today or timezone.localdate()
    suspension = (
        NonPaymentSuspension.objects.select_for_update()
        .filter(client=client, lifted_at__isnull=True)
        .first()
    )
    if suspension is None or overdue_balance(client, today) >= CENT:
        return None
    subscriptions = list(
        Subscription.objects.select_for_update()
        .filter(location__client=client, suspended_for_nonpayment=True)
        .order_by("pk")
    )
    restored = []
    for subscription in subscriptions:
        if subscription.status == Subscription.Status.SUSPENDED:
            resume_subscription(
                subscription=subscription,
                by=getattr(payment, "recorded_by", None),
                note="non-payment suspension lifted: overdue balance cleared",
            )
            restored.append(subscription)
    Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
        suspended_for_nonpayment=False
    )
    suspension.lifted_at = timezone.now()
    suspension.lifted_by_payment = payment
    suspension.save(update_fields=["lifted_at", "lifted_by_payment"])
    record(
        actor=getattr(payment, "recorded_by", None),
        action="collections.restore",
        obj=client,
        changes={"subscriptions": [None, [str(s.pk) for s in restored]]},
        note=f"payment {payment.number}" if payment else "overdue balance cleared",
    )
    company = get_company().name
    _notice(
        client,
        subject="Your services are restored",
        body=(
            f"Hello {client.display_name},\n\nThank you for your payment. Your services are "
            f"active again.\n\n{company}\n"
        ),
        sms=f"{company}: thank you for your payment, your services are active again.",
        purpose=PURPOSE_RESTORED,
        key=f"suspension:{suspension.pk}:lifted",
    )
    return suspension


def lift_cleared_suspensions(*, today: date | None = None) -> int:
    """The daily run's catch-all, for balances cleared without a payment (credit notes)."""
    today = today or timezone.localdate()
    count = 0
    for client_id in list(
        NonPaymentSuspension.objects.filter(lifted_at__isnull=True).values_list(
            "client_id", flat=True
        )
    ):
        with transaction.atomic():
            client = lock_client(Client(pk=client_id))
            if lift_if_cleared(client=client, today=today) is not None:
                count += 1
    return count


def open_suspension(client: Client) -> NonPaymentSuspension | None:
    return NonPaymentSuspension.objects.filter(client=client, lifted_at__isnull=True).first()
