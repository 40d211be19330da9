"""Paying online from the portal: choosing invoices, checkouts, and recording what was paid.

The flow: `start_checkout` checks what the client picked (their own open invoices, an amount
for each, at most its balance) and opens a checkout with the provider; the provider's page
takes the card; `complete_checkout` records the payment (`allocation.record_payment`, method
card_online) when the provider says it was paid — from the redirect back, the webhook or a
double submit, in any order and any number of times: one payment per checkout.

Money taken by a provider is never refused: if the invoices changed meanwhile (staff recorded
a cheque), each pick is capped at what is still owed and the rest becomes client credit.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from cms_project.company.models import get_company
from cms_project.money import ZERO
from staff.audit import record

from .allocation import PaymentError, Pick, clean_amount, invoice_balance, lock_client
from .allocation import record_payment as _record_payment
from .models import Invoice, OnlineCheckout, Payment, PaymentMethod
from .providers import PaidSession, ProviderError, get_provider
from .providers import sandbox as sandbox_cards

CHECKOUT_LIMIT = 50  # invoices in one payment: a page of them, not the whole history


@dataclass(frozen=True)
class Choice:
    """One invoice the client chose to pay, and how much of it."""

    invoice_id: int
    amount: str  # as typed; checked by start_checkout


def payable_invoices(client: Client) -> list[Invoice]:
    """The client's invoices that can be paid online, oldest due first."""
    return list(
        Invoice.objects.open()
        .filter(client=client, balance__gte=Decimal("0.01"))
        .order_by("due_date", "issue_date", "pk")[:CHECKOUT_LIMIT]
    )


def _expires_before():
    return timezone.now() - timedelta(minutes=settings.ONLINE_CHECKOUT_MINUTES)


def check_choices(*, client: Client, choices: list[Choice]) -> list[tuple[Invoice, Decimal]]:
    """The invoices and amounts, or PaymentError naming the field (`amount_<id>` or
    `invoices`). An invoice that is not this client's open invoice gets the same answer as
    one that does not exist, so nothing about other clients is revealed."""
    if not choices:
        raise PaymentError("Choose at least one invoice to pay.", field="invoices")
    own = {invoice.pk: invoice for invoice in payable_invoices(client)}
    plan, seen = [], set()
    for choice in choices:
        invoice = own.get(choice.invoice_id)
        if invoice is None:
            raise PaymentError("Choose among your open invoices.", field="invoices")
        if choice.invoice_id in seen:
            raise PaymentError(f"Invoice {invoice.number} is chosen twice.", field="invoices")
        seen.add(choice.invoice_id)
        field = f"amount_{invoice.pk}"
        amount = clean_amount(choice.amount, field=field)
        balance = invoice_balance(invoice)
        if amount > balance:
            raise PaymentError(
                f"That is more than the balance of {invoice.number} ({balance}).", field=field
            )
        plan.append((invoice, amount))
    return plan


@transaction.atomic
def start_checkout(
    *, client: Client, choices: list[Choice], user, return_url, cancel_url
) -> OnlineCheckout:
    """Check the choices, then open a checkout with the configured provider.

    `return_url` / `cancel_url` are functions of the checkout giving absolute URLs.
    Raises PaymentError (bad choice) or providers.ProviderError (nothing was charged)."""
    plan = check_choices(client=client, choices=choices)
    provider = get_provider()
    checkout = OnlineCheckout.objects.create(
        client=client,
        provider=provider.name,
        amount=sum((amount for _, amount in plan), ZERO),
        currency=get_company().currency,
        allocations=[
            {"invoice_id": invoice.pk, "number": invoice.number, "amount": str(amount)}
            for invoice, amount in plan
        ],
        created_by=user,
    )
    started = provider.start(
        checkout=checkout, return_url=return_url(checkout), cancel_url=cancel_url(checkout)
    )
    checkout.session_id = started.session_id
    checkout.save(update_fields=["session_id"])
    record(
        actor=user,
        action="checkout.start",
        obj=checkout,
        changes={"amount": [None, checkout.amount], "provider": [None, provider.name]},
    )
    checkout.redirect_url = started.redirect_url
    return checkout


def _picks_still_owed(checkout: OnlineCheckout) -> list[Pick]:
    """The chosen amounts, each capped at what its invoice still owes (the client row is
    locked by the caller, so balances cannot move under us)."""
    wanted = {row["invoice_id"]: Decimal(row["amount"]) for row in checkout.allocations}
    owed = {
        invoice.pk: invoice_balance(invoice)
        for invoice in Invoice.objects.open().filter(client=checkout.client_id, pk__in=wanted)
    }
    return [
        Pick(invoice_id, min(amount, owed[invoice_id]))
        for invoice_id, amount in wanted.items()
        if owed.get(invoice_id, ZERO) > ZERO
    ]


@transaction.atomic
def complete_checkout(*, checkout: OnlineCheckout, paid: PaidSession) -> Payment:
    """Record the payment of a paid checkout, once. Safe to call again and from any path."""
    lock_client(checkout.client)  # client first, like every ledger change: no deadlocks
    locked = OnlineCheckout.objects.select_for_update().get(pk=checkout.pk)
    if locked.payment_id:
        return locked.payment
    if paid.session_id != locked.session_id:
        raise PaymentError("This payment belongs to another checkout.")
    if paid.currency.upper() != locked.currency.upper():
        raise PaymentError(f"Paid in {paid.currency}, expected {locked.currency}.")
    payment = _record_payment(
        client=locked.client,
        amount=paid.amount,  # what was actually taken: normally exactly the checkout's amount
        method=PaymentMethod.CARD_ONLINE,
        received_on=timezone.localdate(),
        reference=f"Online payment ({locked.provider})",
        provider=locked.provider,
        provider_reference=paid.session_id,
        # Paid exactly what was chosen (always, unless the provider changed the amount):
        # the chosen invoices; otherwise oldest due first, the rest as credit.
        picks=_picks_still_owed(locked) if paid.amount == locked.amount else None,
        card_brand=paid.card_brand,
        card_last4=paid.card_last4,
        recorded_by=locked.created_by,
    )
    locked.payment = payment
    locked.status = OnlineCheckout.Status.SUCCEEDED
    locked.failure_message = ""
    locked.completed_at = timezone.now()
    locked.save(update_fields=["payment", "status", "failure_message", "completed_at"])
    return payment


def expire_if_stale(checkout: OnlineCheckout) -> OnlineCheckout:
    """A pending checkout left too long expires (Stripe's own sessions expire too)."""
    if checkout.is_pending and checkout.created_at < _expires_before():
        OnlineCheckout.objects.filter(pk=checkout.pk, status=checkout.Status.PENDING).update(
            status=OnlineCheckout.Status.EXPIRED, completed_at=timezone.now()
        )
        checkout.refresh_from_db()
    return checkout


def pay_with_sandbox_card(
    *, checkout: OnlineCheckout, number: str, expiry: str, cvc: str
) -> Payment:
    """The sandbox card page's submit: CardError (bad details, nothing changes),
    CardDeclined (the checkout is marked failed, nothing recorded) or the payment."""
    if checkout.payment_id:  # a second click on "Pay": the first one already paid
        return checkout.payment
    if checkout.provider != "sandbox":
        raise PaymentError("This checkout is not a test-mode one.")
    if checkout.status == OnlineCheckout.Status.EXPIRED:
        raise PaymentError("This payment has expired; start again from your invoices.")
    try:
        card = sandbox_cards.charge(
            number=number, expiry=expiry, cvc=cvc, today=timezone.localdate()
        )
    except sandbox_cards.CardDeclined as exc:
        with transaction.atomic():
            OnlineCheckout.objects.filter(pk=checkout.pk, payment__isnull=True).update(
                status=OnlineCheckout.Status.FAILED, failure_message=str(exc)
            )
            record(
                actor=checkout.created_by,
                action="checkout.failed",
                obj=checkout,
                note=str(exc),
            )
        raise
    return complete_checkout(
        checkout=checkout,
        paid=PaidSession(
            session_id=checkout.session_id,
            amount=checkout.amount,
            currency=checkout.currency,
            card_brand=card.card_brand,
            card_last4=card.card_last4,
        ),
    )


def complete_from_provider(*, checkout: OnlineCheckout) -> Payment | None:
    """Ask the checkout's provider whether it was paid; record it if so (redirect back)."""
    if checkout.payment_id:
        return checkout.payment
    paid = get_provider(checkout.provider).paid_session(session_id=checkout.session_id)
    if paid is None:
        return None
    return complete_checkout(checkout=checkout, paid=paid)


def complete_by_session(*, provider: str, paid: PaidSession) -> Payment | None:
    """The webhook's path: find the checkout by the provider's session id. None if the
    session is not one of ours (another integration on the same Stripe account)."""
    checkout = OnlineCheckout.objects.filter(provider=provider, session_id=paid.session_id).first()
    if checkout is None:
        return None
    return complete_checkout(checkout=checkout, paid=paid)


def mark_expired_by_session(*, provider: str, session_id: str) -> None:
    OnlineCheckout.objects.filter(
        provider=provider, session_id=session_id, status=OnlineCheckout.Status.PENDING
    ).update(status=OnlineCheckout.Status.EXPIRED, completed_at=timezone.now())


def handle_stripe_event(*, event, provider) -> str:
    """Act on a verified Stripe event; returns what was done (for the log and tests)."""
    kind = event["type"]
    session = event["data"]["object"]
    session = session.to_dict() if hasattr(session, "to_dict") else session
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if session.get("payment_status") != "paid":
            return "not paid yet"  # a delayed method: async_payment_succeeded follows
        try:
            # Asked again for the card's brand and last four (not in the event).
            paid = provider.paid_session(session_id=session["id"])
        except ProviderError:
            paid = None
        paid = paid or provider.paid_from_session(session)
        payment = complete_by_session(provider=provider.name, paid=paid)
        return f"recorded {payment.number}" if payment else "not ours"
    if kind == "checkout.session.expired":
        mark_expired_by_session(provider=provider.name, session_id=session["id"])
        return "expired"
    if kind == "checkout.session.async_payment_failed":
        OnlineCheckout.objects.filter(
            provider=provider.name, session_id=session["id"], payment__isnull=True
        ).update(status=OnlineCheckout.Status.FAILED, failure_message="The payment failed.")
        return "failed"
    return "ignored"
